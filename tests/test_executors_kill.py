"""kill -9 of a build mid-stage, for the local and ``processes`` executors, then a rerun.

A pipeline file with a row stage and a global stage that can pause: when told, each writes a
signal file when it starts its work and then sleeps, and the test SIGKILLs the whole build
(its process group) at that moment. After the kill every Parquet file left behind must be
whole (readable), the paused stage must not be marked complete, and a rerun must give exactly
the build an uninterrupted run gives, without redoing the stages finished before the kill.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import polars as pl
import pytest
from scale_stages import assert_same_build, funnel, logged_ids

TESTS = Path(__file__).parent
ROWS = 16

PIPELINE = '''
import os, sys, time
sys.path.insert(0, {tests!r})
from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from curator import Pipeline
from curator.core.sources import ReadProblems
from curator.core.stage import Filter, Stage, StageOutput
from scale_stages import FirstPerBucket, NotTooLong, ProblemLength


def _pause(signal_file):
    """Say the stage has started its work, then wait to be killed."""
    with open(signal_file, "a") as fh:
        fh.write(f"{{os.getpid()}}\\n")
    time.sleep(300)


@dataclass
class PauseRows(Filter):
    """Keeps every row; with ``signal`` set, pauses in its second batch (the first one is written)."""

    signal: str = ""
    batch_size: ClassVar[int] = 4
    needs: ClassVar[tuple[str, ...]] = ("problem",)
    not_params: ClassVar[tuple[str, ...]] = ("label", "signal")

    def reasons(self, df):
        if self.signal:
            if os.path.exists(self.signal + ".first"):
                _pause(self.signal)
            open(self.signal + ".first", "a").close()
        return pl.Series([None] * df.height, dtype=pl.String)


@dataclass
class PauseGlobal(Stage):
    """A global stage that keeps every row; with ``signal`` set, pauses before it returns."""

    signal: str = ""
    scope: ClassVar[str] = "global"
    not_params: ClassVar[tuple[str, ...]] = ("label", "signal")

    def apply(self, df):
        if self.signal:
            _pause(self.signal)
        return StageOutput(df)


@dataclass
class Params:
    row_signal: str = ""
    global_signal: str = ""
    log: str = ""


def build(p: Params) -> Pipeline:
    return Pipeline("killed", ReadProblems(limit={rows}), [
        NotTooLong(log=p.log),
        PauseRows(signal=p.row_signal),
        ProblemLength(),
        PauseGlobal(signal=p.global_signal),
        FirstPerBucket(width=10),
    ])
'''


def _cmd(pipe: Path, out: Path, executor: str, *params: str, log: bool = True) -> list[str]:
    cmd = [sys.executable, "-m", "curator.cli", "build", str(pipe), "--out", str(out), "--quiet"]
    if log:
        cmd += ["--param", f"log={out.parent / 'applied.txt'}"]
    if executor == "processes":
        cmd += ["--executor", "processes", "--tasks", "2", "--workers", "2"]
    for p in params:
        cmd += ["--param", p]
    return cmd


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": str(TESTS.parent)}


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> Path:
    """An uninterrupted local build."""
    tmp = tmp_path_factory.mktemp("reference")
    pipe = tmp / "killed_pipeline.py"
    pipe.write_text(PIPELINE.format(tests=str(TESTS), rows=ROWS))
    res = subprocess.run(_cmd(pipe, tmp / "out", "local"), capture_output=True, text=True, env=_env(), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    return tmp / "out"


def _whole(root: Path) -> None:
    """Every Parquet file under ``root`` reads back (writes are whole-file or nothing)."""
    for f in root.rglob("*.parquet"):
        pl.read_parquet(f)


@pytest.mark.slow
@pytest.mark.parametrize("executor", ["local", "processes"])
@pytest.mark.parametrize("stage", ["row", "global"])
def test_sigkill_mid_stage_then_rerun_equals_uninterrupted(reference, tmp_path, executor, stage):
    log, out, sig = tmp_path / "applied.txt", tmp_path / "out", tmp_path / "started"
    pipe = tmp_path / "killed_pipeline.py"
    pipe.write_text(PIPELINE.format(tests=str(TESTS), rows=ROWS))
    proc = subprocess.Popen(_cmd(pipe, out, executor, f"{stage}_signal={sig}"), stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=_env(), start_new_session=True)
    # processes, row stage: both shards pause (each writes its pid), so neither is mid-batch elsewhere
    pauses = 2 if executor == "processes" and stage == "row" else 1
    deadline = time.time() + 240
    while time.time() < deadline and proc.poll() is None and len(logged_ids(sig)) < pauses:
        time.sleep(0.1)
    assert proc.poll() is None, f"the build ended before the pause: {proc.stderr.read().decode()[-2000:]}"
    assert sig.exists(), "the paused stage never started"
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    proc.stderr.close()

    work = out / ".work"
    _whole(work)
    paused = list((work / "stages").glob(f"pause_{stage if stage == 'global' else 'rows'}-*"))
    assert not any((p / "_SUCCESS").exists() for p in paused), "the killed stage is marked complete"
    later = list((work / "stages").glob("first_per_bucket-*"))
    assert not any((p / "_SUCCESS").exists() for p in later), "a stage after the killed one is complete"
    assert not (out / "data").exists(), "outputs were written by a killed build"
    applied_before = logged_ids(log)
    assert sorted(applied_before) == sorted(set(applied_before)) and len(applied_before) == ROWS

    res = subprocess.run(_cmd(pipe, out, executor), capture_output=True, text=True, env=_env(), timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    _whole(out)
    assert funnel(reference) == funnel(out)  # (here, for pytest's diff)
    assert_same_build(reference, out)
    assert logged_ids(log) == applied_before, "a stage that finished before the kill ran again"


GENERATE_PIPELINE = PIPELINE.split("@dataclass\nclass Params")[0] + '''
from curator.generation import Generate, make_backend


@dataclass
class Params:
    url: str = ""
    signal: str = ""


def build(p: Params) -> Pipeline:
    # the model is a scripted loopback server (a stand-in for a teacher): it counts every request
    backend = make_backend("openai", model="fake", base_url=p.url, send_n=False)
    return Pipeline("paid", ReadProblems(limit={rows}), [
        Generate(backend=backend, k=2, max_tokens=8, progress=False),
        PauseRows(signal=p.signal),
    ])
'''


@pytest.mark.slow
def test_requests_paid_before_a_kill_are_not_sent_again(tmp_path):
    """Killed after its shards' generate step finished and before the next stage did: the rerun
    sends nothing (each response was committed to the request cache as it arrived)."""
    from tests.servers.openai_fake import serve

    pipe = tmp_path / "paid_pipeline.py"
    pipe.write_text(GENERATE_PIPELINE.format(tests=str(TESTS), rows=ROWS))
    sig, out = tmp_path / "started", tmp_path / "out"
    with serve() as server:
        cmd = _cmd(pipe, out, "processes", f"url={server.base_url}", log=False)
        proc = subprocess.Popen(cmd + ["--param", f"signal={sig}"], stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, env=_env(), start_new_session=True)
        deadline = time.time() + 240
        while time.time() < deadline and proc.poll() is None and len(logged_ids(sig)) < 2:
            time.sleep(0.1)
        assert len(logged_ids(sig)) >= 2, "the shards never reached the stage after generate"
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        paid = server.requests
        res = subprocess.run(cmd, capture_output=True, text=True, env=_env(), timeout=300)
        assert res.returncode == 0, res.stderr[-3000:]
        assert paid == ROWS * 2 and server.requests == paid, "a request paid before the kill was sent again"
    assert pl.read_parquet(out / "data/default/train.parquet")["samples"].list.len().sum() == ROWS * 2
