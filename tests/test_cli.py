"""The command line as people use it: help, params, dry-run plans."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

PIPELINE = '''
"""A test pipeline whose second stage needs a column nothing provides."""
from dataclasses import dataclass
from typing import ClassVar
import polars as pl
from curator import InputParams, Map, Pipeline


@dataclass
class NeedsPassRate(Map):
    needs: ClassVar[tuple[str, ...]] = ("pass_rate",)

    def transform(self, df):
        return df


@dataclass
class Params(InputParams):
    k: int = 4  # samples per problem
    broken: bool = True


def build(p):
    return Pipeline("p", p.reader(), [NeedsPassRate()] if p.broken else [])
'''


def curator(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "curator.cli", *args], capture_output=True, text=True)


def test_help_lists_the_commands() -> None:
    proc = curator("--help")
    assert proc.returncode == 0
    assert "build" in proc.stdout and "params" in proc.stdout


def test_dry_run_names_the_missing_column_and_runs_nothing(tmp_path: Path) -> None:
    pipe = tmp_path / "p.py"
    pipe.write_text(PIPELINE)
    out = tmp_path / "out"
    proc = curator("build", str(pipe), "--dry-run", "--out", str(out))
    assert proc.returncode == 2
    assert "stage 'needs_pass_rate' needs column 'pass_rate'" in " ".join(proc.stderr.split())
    assert not out.exists()
    ok = curator("build", str(pipe), "--dry-run", "--param", "broken=false")
    assert ok.returncode == 0 and "plan ok" in ok.stderr


def test_unknown_param_lists_the_valid_ones(tmp_path: Path) -> None:
    pipe = tmp_path / "p.py"
    pipe.write_text(PIPELINE)
    proc = curator("build", str(pipe), "--param", "kk=3")
    assert proc.returncode == 1
    assert "unknown --param 'kk'" in proc.stderr and "k, limit" in proc.stderr
    bad_type = curator("build", str(pipe), "--param", "k=many")
    assert "expected int" in bad_type.stderr


def test_params_command_shows_types_and_defaults(tmp_path: Path) -> None:
    pipe = tmp_path / "p.py"
    pipe.write_text(PIPELINE)
    proc = curator("params", str(pipe))
    assert proc.returncode == 0
    assert "k" in proc.stdout and "int" in proc.stdout and "4" in proc.stdout


FILTER_PIPELINE = '''
from curator import Pipeline
from curator.core.sources import ReadProblems
from filters.dedup import Dedup
from filters.quality import ProblemQuality, QualityRules


def build():
    return Pipeline("quiet", ReadProblems(limit=20), [ProblemQuality(rules=QualityRules(unparseable_answer=False)),
                                                       Dedup()])
'''


def test_quiet_sharded_build_prints_nothing_and_keeps_the_task_logs(tmp_path: Path) -> None:
    pipe = tmp_path / "quiet_pipeline.py"
    pipe.write_text(FILTER_PIPELINE)
    work = tmp_path / "work"
    res = curator("build", str(pipe), "--out", str(tmp_path / "out"), "--work-dir", str(work),
                  "--executor", "processes", "--tasks", "2", "--workers", "2", "--quiet")
    assert res.returncode == 0, res.stderr
    assert res.stdout == "" and res.stderr == "", res.stderr[-2000:]
    logs = list(work.glob("executors/*/logs/task_*.stderr"))
    # datatrove's INFO went to the task files (it prints INFO only from the worker with local rank 0)
    assert len(logs) == 2 and any("Launching pipeline" in f.read_text() for f in logs)
    assert "Launching pipeline" in next(work.glob("executors/*/logs/task_00001.log")).read_text()


QUIET_THEN_LOUD = """
import sys
from pathlib import Path
sys.path.insert(0, {here!r})
from curator.executors import ProcessesExecutor
from curator.core.params import load_pipeline

tmp = Path({tmp!r})
load_pipeline(tmp / "quiet_pipeline.py").run(tmp / "quiet", executor=ProcessesExecutor(tasks=2, workers=2), quiet=True)
sizes = {{str(p): p.stat().st_size for p in (tmp / "quiet").rglob("*.stderr")}}
load_pipeline(tmp / "loud_pipeline.py").run(tmp / "loud", executor=ProcessesExecutor(tasks=2, workers=2), quiet=False)
grown = [p for p, n in sizes.items() if Path(p).stat().st_size != n]
print("GROWN", grown)
"""


def test_a_quiet_run_leaves_later_runs_in_the_same_process_loud(tmp_path: Path) -> None:
    (tmp_path / "quiet_pipeline.py").write_text(FILTER_PIPELINE)
    (tmp_path / "loud_pipeline.py").write_text(FILTER_PIPELINE.replace('"quiet"', '"loud"'))
    script = QUIET_THEN_LOUD.format(here=str(Path(__file__).parent), tmp=str(tmp_path))
    res = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-2000:]
    assert "GROWN []" in res.stdout  # nothing of the second run went into the first run's files
    assert "Launching pipeline" in res.stderr  # the second run's workers print as usual
