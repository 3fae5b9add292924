"""A researcher's first day through the real command line: seeds, logs in files, failures, dry runs,
parameters and recipes. Builds run the cold-start recipe on six bundled problems against the scripted
stand-in for a teacher (tests/servers), which refuses one problem so failures have something to show."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from curator.core.sources import SAMPLE_PROBLEMS
from tests.servers.openai_fake import serve
from tests.servers.scripted_teacher import ScriptedTeacher

ROOT = Path(__file__).resolve().parents[1]
COLD_START = str(ROOT / "pipelines" / "cold_start.py")
SMALL = ["--param", "limit=6", "--param", "k=2", "--param", "max_tokens=64"]
#: the bundled problem whose requests the stand-in teacher refuses (HTTP 400: failed, not retried)
REFUSED = json.loads(SAMPLE_PROBLEMS.read_text().splitlines()[0])["problem"]


def refusing_teacher(refuse: bool = True) -> Any:
    """The scripted stand-in for a teacher's answers (tests/servers), refusing one problem."""
    teacher = ScriptedTeacher()

    def respond(req: dict[str, Any]) -> str:  # the fake server asks once per choice
        if refuse and any(REFUSED in str(m.get("content")) for m in req.get("messages", [])):
            raise ValueError("refused")
        return teacher({**req, "n": 1, "seed": int(req.get("seed") or 0) + req["choice_index"]})[0]

    return respond


def curator(*args: str, log: Path | None = None, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """Run the CLI as a user would; with ``log`` stdout and stderr go to that file (as under nohup)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""),
           "OPENAI_API_KEY": "test-key"}
    cmd = [sys.executable, "-m", "curator.cli", *args]
    if log is None:
        return subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=cwd)
    with log.open("w") as fh:
        proc = subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, text=True, env=env, cwd=cwd)
    return subprocess.CompletedProcess(proc.args, proc.returncode, log.read_text(), "")


def sample_texts(out: Path) -> set[str]:
    """Every generated sample text of a build: in the outputs, in dropped rows, in dropped samples."""
    tables = [out / f["path"] for f in json.loads((out / "outputs.json").read_text())]
    tables += sorted((out / "rejects").glob("*.parquet"))
    texts: set[str] = set()
    for path in tables:
        if path.suffix != ".parquet":
            continue
        df = pl.read_parquet(path)
        if "samples" in df.columns:
            texts |= {s["text"] for row in df["samples"].to_list() for s in row or [] if s["text"]}
        elif "text" in df.columns:  # rejects/NN-stage.samples.parquet: one row per dropped sample
            texts |= {t for t in df["text"].to_list() if t}
    return texts


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    """Three cold-start builds against the scripted teacher: seed 1 (logged to a file, with
    --log-json), seed 2, seed 1 again."""
    tmp = tmp_path_factory.mktemp("seeded")
    log = tmp / "build.log"
    events = tmp / "events.jsonl"
    with serve(refusing_teacher()) as server:
        teacher = [*SMALL, "--param", "backend=openai", "--param", "model=scripted-teacher",
                   "--param", f"endpoints={server.base_url}"]
        first = curator("build", COLD_START, *teacher, "--seed", "1", "--out", str(tmp / "a"),
                        "--progress-every", "0.001", "--log-json", str(events), log=log)
        assert first.returncode == 0, first.stdout[-3000:]
        other = curator("build", COLD_START, *teacher, "--seed", "2", "--out", str(tmp / "b"))
        assert other.returncode == 0, other.stderr[-3000:]
        again = curator("build", COLD_START, *teacher, "--seed", "1", "--out", str(tmp / "c"))
        assert again.returncode == 0, again.stderr[-3000:]
    return {"tmp": tmp, "log": first.stdout, "events": events}


@pytest.mark.slow
def test_seed_reaches_the_recipe_and_run_json(seeded: dict[str, object]) -> None:
    tmp = Path(str(seeded["tmp"]))
    a, b, c = (sample_texts(tmp / n) for n in "abc")
    assert len(a) >= 8 and len(b) >= 8  # 10 answered samples each (2 of 12 refused)
    assert a == c, "the same --seed must give the same samples"
    assert a != b, "a different --seed must give different samples"
    for name, seed in (("a", 1), ("b", 2), ("c", 1)):
        run = json.loads((tmp / name / "run.json").read_text())
        assert run["seed"] == seed and run["param_values"]["seed"] == seed


@pytest.mark.slow
def test_a_build_logged_to_a_file_has_progress_lines_and_a_whole_funnel(seeded: dict[str, object]) -> None:
    log = str(seeded["log"])
    progress = [ln for ln in log.splitlines() if ln.startswith("generate: ") and "samples (" in ln]
    assert progress, log[-3000:]
    assert all("tok/s" in ln and "errors" in ln and "ETA" in ln for ln in progress)
    assert "stage decontaminate: " in log  # one plain line per finished stage
    assert "…" not in log, "a column of the funnel was cut"
    funnel = [ln for ln in log.splitlines() if "decontaminate" in ln and "│" in ln]
    assert funnel and max(len(ln) for ln in log.splitlines()) > 80
    assert "summary: " in log and "; 2 failed requests;" in log  # k=2 samples of the refused problem
    generate_row = next(ln for ln in log.splitlines() if ln.startswith("│ generate"))
    assert "failed requests: 2" in generate_row, generate_row


@pytest.mark.slow
def test_log_json_writes_one_event_per_line(seeded: dict[str, object]) -> None:
    events = [json.loads(ln) for ln in Path(str(seeded["events"])).read_text().splitlines()]
    kinds = [e["event"] for e in events]
    assert kinds[0] == "start" and kinds[-1] == "done" and "summary" in kinds
    stages = [e["stage"] for e in events if e["event"] == "stage"]
    assert stages[:3] == ["load", "problem_quality", "dedup"] and "generate" in stages
    assert any(e["event"] == "progress" and e["stage"] == "generate" for e in events)
    generate = next(e for e in events if e["event"] == "stage" and e["stage"] == "generate")
    assert generate["samples_failed"] == 2


@pytest.mark.slow
def test_inspect_shows_sample_drops_beside_row_drops(seeded: dict[str, object]) -> None:
    out = Path(str(seeded["tmp"])) / "a"
    proc = curator("inspect", str(out))
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "Dropped samples by reason" in text and "generated samples" in text


EMPTYING = '''
"""Drops every problem: a build that ends with 0 rows."""
from dataclasses import dataclass
import polars as pl
from curator import InputParams, Pipeline, filter_stage


@dataclass
class Params(InputParams):
    seed: int = 0  # unused


def drop_all(df):
    return pl.Series(["too easy"] * df.height, dtype=pl.String)


def build(p):
    return Pipeline("emptying", p.reader(), [filter_stage(drop_all, name="drop_all")])
'''


def test_an_empty_result_fails_with_the_reason(tmp_path: Path) -> None:
    pipe = tmp_path / "emptying.py"
    pipe.write_text(EMPTYING)
    proc = curator("build", str(pipe), "--param", "limit=5", "--out", str(tmp_path / "out"))
    assert proc.returncode == 3, proc.stderr
    text = " ".join(proc.stderr.split())
    assert "0 rows" in text and "'drop_all' dropped 5 rows" in text and "'too easy'" in text
    assert "empty splits: default/train" in text
    allowed = curator("build", str(pipe), "--param", "limit=5", "--out", str(tmp_path / "out"), "--allow-empty")
    assert allowed.returncode == 0, allowed.stderr


def test_dry_run_opens_the_input_and_checks_the_mapping(tmp_path: Path) -> None:
    data = tmp_path / "items.jsonl"
    data.write_text(json.dumps({"question": "What is 2 + 2?", "solution": "4", "topic": "arith"}) + "\n")
    missing = curator("build", COLD_START, "--dry-run", "--param", f"input={data}")
    assert missing.returncode == 2
    text = " ".join(missing.stderr.split())
    assert "no 'problem' column" in text and "question" in text and "solution" in text
    typo = curator("build", COLD_START, "--dry-run", "--param", f"input={data}",
                   "--param", "columns=questoin->problem")
    assert typo.returncode == 2 and "no column 'questoin'" in " ".join(typo.stderr.split())
    ok = curator("build", COLD_START, "--dry-run", "--param", f"input={data}",
                 "--param", "columns=question->problem,solution->answer", "--seed", "5")
    assert ok.returncode == 0, ok.stderr
    text = " ".join(ok.stderr.split())
    assert "meta.topic" in text and "What is 2 + 2?" in text and "plan ok" in text and "seed: 5" in text
    assert not (tmp_path / "out").exists()


def test_params_lists_comments_and_allowed_values() -> None:
    proc = curator("params", COLD_START)
    assert proc.returncode == 0, proc.stderr
    text = " ".join(proc.stdout.split())
    assert "samples per problem" in text  # k's comment in the recipe
    assert "error | quarantine" in text  # on_bad_rows: Literal with its values
    assert "first N problems only" in text  # a comment inherited from InputParams


def test_help_shows_flags_as_flags_without_stray_dots() -> None:
    proc = curator("build", "--help")
    assert proc.returncode == 0
    assert " ." not in proc.stdout
    for flag in ("--dry-run", "--quiet", "--traceback", "--fail-on-empty", "--private"):
        line = next(ln for ln in proc.stdout.splitlines() if flag in ln)
        assert "<bool>" not in line, line
    assert "--seed" in proc.stdout and "--progress-every" in proc.stdout and "--log-json" in proc.stdout


def test_recipe_writes_a_bundled_recipe_that_builds(tmp_path: Path) -> None:
    listing = curator("recipe")
    assert listing.returncode == 0 and "cold_start" in listing.stdout and "rl_pool" in listing.stdout
    proc = curator("recipe", "cold_start", "--to", str(tmp_path / "cs.py"))
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "cs.py").read_text() == Path(COLD_START).read_text()
    again = curator("recipe", "cold_start", "--to", str(tmp_path / "cs.py"))
    assert again.returncode == 1 and "--force" in again.stderr
    unknown = curator("recipe", "cold_stat")
    assert unknown.returncode == 1 and "cold_start" in unknown.stderr
    plan = curator("build", str(tmp_path / "cs.py"), "--dry-run")
    assert plan.returncode == 0, plan.stderr


def test_reasoning_gym_is_only_needed_to_regenerate_the_sample() -> None:
    users = sorted(str(p.relative_to(ROOT)) for folder in ("curator", "filters", "pipelines")
                   for p in (ROOT / folder).rglob("*.py") if "import reasoning_gym" in p.read_text(encoding="utf-8"))
    assert users == ["curator/data/make_sample.py"], users
    pyproject = (ROOT / "pyproject.toml").read_text()
    core = pyproject.split("dependencies = [", 1)[1].split("]", 1)[0]
    assert "reasoning-gym" not in core and 'sample = ["reasoning-gym' in pyproject


def test_the_notebook_writes_to_an_ignored_folder_by_default() -> None:
    nb = json.loads((ROOT / "notebooks" / "explore.ipynb").read_text())
    source = "".join("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
    assert 'ROOT / "out" / "explore_cold_start"' in source
    ignored = subprocess.run(["git", "check-ignore", "-q", "out/explore_cold_start/README.md"], cwd=ROOT)
    assert ignored.returncode == 0, "out/ must stay ignored by git"


@pytest.mark.slow
def test_a_sharded_build_logs_each_stage_as_the_local_runner_does(tmp_path: Path) -> None:
    """--executor processes: a plain line and a `stage` JSON event per stage, in pipeline order,
    with the same counts as the funnel (the scale-out runner used to print neither)."""
    log, events = tmp_path / "build.log", tmp_path / "events.jsonl"
    with serve(refusing_teacher(refuse=False)) as server:
        res = curator("build", COLD_START, *SMALL, "--param", "backend=openai", "--param", "model=scripted-teacher",
                      "--param", f"endpoints={server.base_url}", "--executor", "processes", "--tasks", "2",
                      "--workers", "2", "--out", str(tmp_path / "out"), "--log-json", str(events), log=log)
    assert res.returncode == 0, res.stdout[-3000:]
    funnel = json.loads((tmp_path / "out" / "funnel.json").read_text())["stages"]
    names = [s["stage"] for s in funnel]
    stage_events = [json.loads(ln) for ln in events.read_text().splitlines() if '"event": "stage"' in ln]
    assert [e["stage"] for e in stage_events] == names, (names, stage_events)
    for event, row in zip(stage_events, funnel, strict=True):
        assert (event["rows_in"], event["rows_out"]) == (row["rows_in"], row["rows_out"]), (event, row)
    lines = [ln for ln in res.stdout.splitlines() if ln.startswith("stage ")]
    assert [ln.split(":")[0].removeprefix("stage ") for ln in lines] == names, res.stdout[-3000:]
