"""Slurm: the sbatch scripts a build would submit (there is no Slurm here), and their pickled work.

The scripts are datatrove's (SlurmPipelineExecutor.get_launch_file_contents); the test checks
their directives and chaining, then runs each job's pickled step in order, as its array tasks
would, and compares the result with a local build.
"""

from __future__ import annotations

import json
import re
import shlex
import subprocess
import sys

import dill
from scale_stages import FirstPerBucket, NotTooLong, ProblemLength, assert_same_build

from curator import Pipeline
from curator.core.sources import ReadProblems
from curator.executors import SlurmExecutor


def _pipeline() -> Pipeline:
    return Pipeline("slurm", ReadProblems(), [NotTooLong(), ProblemLength(), FirstPerBucket(), ProblemLength(
        label="length_again")])


def _scripts(work):
    submit = (work / "executors" / "submit.sh").read_text()
    lines = re.findall(r"^JOB\d+=\$\((sbatch --parsable.*)\)$", submit, flags=re.M)
    return submit, [shlex.split(line)[-1] for line in lines]


def test_sbatch_scripts_chain_rows_global_and_finish(tmp_path):
    work = tmp_path / "work"
    cfg = SlurmExecutor(tasks=3, partition="cpu", time="02:00:00", mem_per_cpu_gb=4, venv_path="/opt/venv/bin/activate",
                        submit=False, job_name="demo")
    assert _pipeline().run(tmp_path / "out", work_dir=work, executor=cfg, quiet=True) is None
    submit, paths = _scripts(work)
    assert len(paths) == 4  # rows segment, global stage, rows segment, finish
    assert "--dependency=afterok:$JOB0" in submit and "--dependency=afterok:$JOB2" in submit
    texts = [open(p).read() for p in paths]
    rows, glob, _, finish = texts
    assert "#SBATCH --array=0-2" in rows and "#SBATCH --partition=cpu" in rows and "#SBATCH --time=02:00:00" in rows
    assert "#SBATCH --mem-per-cpu=4G" in rows and "#SBATCH --cpus-per-task=1" in rows
    assert "#SBATCH --array=0-0" in glob and "#SBATCH --mem-per-cpu=16G" in glob and "#SBATCH --cpus-per-task=2" in glob
    for text, path in zip(texts, paths, strict=True):
        assert text.startswith("#!/bin/bash") and "source /opt/venv/bin/activate" in text
        assert f"launch_pickled_pipeline {path.rsplit('/', 1)[0]}/executor.pik" in text
        assert "#SBATCH --job-name=demo" in text
    assert not (tmp_path / "out" / "funnel.json").exists()  # nothing ran yet
    res = subprocess.run(["bash", "-n", str(work / "executors" / "submit.sh")], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr


def test_pickled_jobs_run_in_order_build_what_local_builds(tmp_path):
    """What each array task would do: load executor.pik, run the step for its rank."""
    work = tmp_path / "work"
    _pipeline().run(tmp_path / "slurm", work_dir=work, executor=SlurmExecutor(tasks=3, partition="cpu", submit=False),
                    quiet=True)
    _, paths = _scripts(work)
    for path in paths:
        pik = path.rsplit("/", 1)[0] + "/executor.pik"
        code = ("import dill, sys; ex = dill.load(open(sys.argv[1], 'rb'));"
                "[ex.pipeline[0](None, r, ex.world_size) for r in range(ex.world_size)]")
        res = subprocess.run([sys.executable, "-c", code, pik], capture_output=True, text=True)  # a fresh process
        assert res.returncode == 0, res.stderr[-3000:]
        assert isinstance(dill.load(open(pik, "rb")).tasks, int)
    _pipeline().run(tmp_path / "local", quiet=True)
    assert_same_build(tmp_path / "local", tmp_path / "slurm")
    # the finish job's log has every stage's line, as a local run's log file does
    lines = [line for line in res.stdout.splitlines() if line.startswith("stage ")]
    funnel = json.loads((tmp_path / "slurm" / "funnel.json").read_text())["stages"]
    assert [s["stage"] for s in funnel] == ["load", "not_too_long", "problem_length", "first_per_bucket", "length_again"]
    assert len(lines) == len(funnel)
    for line, st in zip(lines, funnel, strict=True):
        assert line.startswith(f"stage {st['stage']}: {st['rows_in']:,} rows in, {st['rows_out']:,} kept"), line


def test_scripts_quote_a_work_dir_and_venv_with_spaces(tmp_path):
    work = tmp_path / "my work dir"
    venv = tmp_path / "my venv" / "bin" / "activate"
    cfg = SlurmExecutor(tasks=2, partition="cpu", venv_path=str(venv), submit=False, job_name="demo")
    _pipeline().run(tmp_path / "out", work_dir=work, executor=cfg, quiet=True)
    _, paths = _scripts(work)
    assert paths and all(" " in p for p in paths)
    for path in paths:
        text = open(path).read()
        res = subprocess.run(["bash", "-n", path], capture_output=True, text=True)
        assert res.returncode == 0, res.stderr
        line = next(x for x in text.splitlines() if "launch_pickled_pipeline" in x)
        assert shlex.split(line)[-1] == path.rsplit("/", 1)[0] + "/executor.pik"
        assert shlex.split(next(x for x in text.splitlines() if x.startswith("source ")))[1] == str(venv)
        output = next(x for x in text.splitlines() if x.startswith("#SBATCH --output="))
        assert output.startswith('#SBATCH --output="') and output.endswith('.out"'), output
