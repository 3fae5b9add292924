"""Slurm: one datatrove SlurmPipelineExecutor per unit, chained with ``depends`` (afterok).

The submitting process loads the input and plans; row segments become job arrays of
``tasks`` shards, each global stage a one-task job with more memory, and a last one-task
job writes the outputs, funnel.json and run.json. With ``submit=False`` the sbatch scripts
are written (one folder per job under ``<work_dir>/executors``) with a ``submit.sh`` that
chains them, and nothing is submitted.
"""

from __future__ import annotations

import json
import math
import re
import shlex
import shutil
import textwrap
from copy import deepcopy
from pathlib import Path
from typing import TYPE_CHECKING, Any

from datatrove.executor.slurm import SlurmPipelineExecutor  # imported only by a Slurm run (driver.py)

from curator.executors.config import SlurmExecutor

if TYPE_CHECKING:
    from curator.executors.driver import RunPlan, ShardedRunner


_SAFE_DIRECTIVE = re.compile(r"^[\w@%+=:,./-]*$")


def sbatch_value(value: Any) -> str:
    """An ``#SBATCH`` option value, double-quoted when it holds spaces or shell characters.

    >>> sbatch_value("/runs/my work/%j.out")
    '"/runs/my work/%j.out"'
    """
    text = str(value)
    if _SAFE_DIRECTIVE.match(text):
        return text
    if '"' in text or "\n" in text:
        raise ValueError(f"slurm: {text!r} cannot be an sbatch option value (a double quote or newline in it)")
    return f'"{text}"'


def quoted_run_script(run_script: str) -> str:
    """``srun ... launch_pickled_pipeline PATH`` with PATH quoted for the shell (a no-op for plain paths)."""
    head, sep, path = run_script.partition("launch_pickled_pipeline ")
    if not sep or path.startswith("'"):
        return run_script
    return f"{head}{sep}{shlex.quote(path.strip())}"


class QuotedSlurmPipelineExecutor(SlurmPipelineExecutor):
    """datatrove's Slurm executor with every path its script names quoted.

    datatrove writes ``source {venv}``, ``#SBATCH --output={logs}/%j.out`` and
    ``launch_pickled_pipeline {work}/executor.pik`` as they are, so a work directory with a
    space broke every job.
    """

    def get_launch_file_contents(self, sbatch_args: dict, run_script: str) -> str:
        args = "\n".join(f"#SBATCH --{k}={sbatch_value(v)}" for k, v in sbatch_args.items())
        if self.env_command:
            env = self.env_command
        elif self.condaenv:
            env = f"conda init bash\nconda activate {shlex.quote(self.condaenv)}\nsource ~/.bashrc"
        else:
            env = f"source {shlex.quote(self.venv_path)}" if self.venv_path else ""
        body = textwrap.dedent(f"""
            echo {shlex.quote(f"Starting data processing job {self.job_name}")}
            {{env}}
            set -xe
            {quoted_run_script(run_script)}
            """)
        return "#!/bin/bash\n" + args + body.replace("{env}", env)


def _executor(cfg: SlurmExecutor, step: Any, tasks: int, logs: Path, job: str, big: bool, depends: Any) -> Any:
    if not cfg.partition:
        raise ValueError("the slurm executor needs a partition: --partition NAME (sinfo lists them)")
    return QuotedSlurmPipelineExecutor(
        [step], tasks=tasks, time=cfg.time, partition=cfg.partition,
        cpus_per_task=cfg.global_cpus if big else cfg.cpus_per_task,
        mem_per_cpu_gb=cfg.global_mem_per_cpu_gb if big else cfg.mem_per_cpu_gb,
        gpus_per_task=0 if big else cfg.gpus_per_task, workers=cfg.workers, job_name=job, qos=cfg.qos,
        venv_path=cfg.venv_path, env_command=cfg.env_command, sbatch_args=dict(cfg.sbatch_args),
        logging_dir=str(logs), slurm_logs_folder=str(logs / "slurm_logs"), depends=depends,
    )


def chain(runner: ShardedRunner, plan: RunPlan) -> list[Any]:
    """The executors in submission order; each depends on the one before."""
    from curator.executors.steps import FinishStep, GlobalStep, SegmentStep, dumps

    cfg = runner.config
    assert isinstance(cfg, SlurmExecutor)
    executors: list[Any] = []
    prev, done = None, []
    for unit in plan.units:
        if unit.kind == "segment":
            seg = unit.segment
            assert seg is not None
            logs = runner.segment_logs(seg)
            names = ", ".join(s.stage.name for s in seg.slots)
            step = SegmentStep(dumps((seg, runner.worker_ctx)), f"curator: {names}")
            prev = _executor(cfg, step, seg.tasks, logs, f"{cfg.job_name}-{seg.key[:2]}-rows", False, prev)
            done.append(seg)
        elif unit.kind == "global":
            slot = unit.slots[0]
            logs = runner.work_dir / "executors" / f"{slot.index:02d}-{slot.stage.name}-{slot.fp[:12]}"
            if (logs / "completions").exists():  # not cached, so it runs again (e.g. after --from)
                shutil.rmtree(logs / "completions")
            step = GlobalStep(dumps((list(done), slot, unit.upstream, runner.worker_ctx)), f"curator: {slot.stage.name}")
            prev = _executor(cfg, step, 1, logs, f"{cfg.job_name}-{slot.index:02d}-{slot.stage.name}", True, prev)
        else:
            continue
        plan.logs[unit.slots[0].stage.name] = logs
        executors.append(prev)
    logs = runner.work_dir / "executors" / f"finish-{int(plan.started)}"
    step = FinishStep(dumps(plan), "curator: finish")
    executors.append(_executor(cfg, step, 1, logs, f"{cfg.job_name}-finish", True, prev))
    return executors


def write_scripts(executors: list[Any]) -> Path:
    """What ``launch_job`` writes, without calling sbatch; plus a submit.sh that chains the jobs."""
    import dill
    from dill import CONTENTS_FMODE

    lines = ["#!/bin/bash", "# Submit the curator jobs in order; each starts when the one before succeeded.", "set -e"]
    for i, ex in enumerate(executors):
        ranks = ex.get_incomplete_ranks()
        clone = deepcopy(ex)
        clone.depends = None
        with ex.logging_dir.open("executor.pik", "wb") as fh:
            dill.dump(clone, fh, fmode=CONTENTS_FMODE)
        with ex.logging_dir.open("ranks_to_run.json", "w") as fh:
            json.dump(ranks, fh)
        n_jobs = max(1, math.ceil(len(ranks) / ex.tasks_per_job))
        script = ex.get_launch_file_contents(
            ex.get_sbatch_args(n_jobs),
            f"srun -l -n {ex.nodes_per_task} launch_pickled_pipeline "
            f"{shlex.quote(ex.logging_dir.resolve_paths('executor.pik'))}",
        )
        path = ex.logging_dir.resolve_paths("launch_script.slurm")
        with ex.logging_dir.open("launch_script.slurm", "w") as fh:
            fh.write(script)
        dep = f" --dependency=afterok:$JOB{i - 1}" if i else ""
        lines.append(f"JOB{i}=$(sbatch --parsable{dep} {shlex.quote(path)})")
        lines.append(f'echo "submitted {ex.job_name}: $JOB{i}"')
    first = Path(executors[0].logging_dir.resolve_paths(""))
    out = first.parent / "submit.sh"
    out.write_text("\n".join(lines) + "\n")
    out.chmod(0o755)
    return out


def submit(runner: ShardedRunner, plan: RunPlan) -> Path | None:
    """Submit the chain (datatrove launches each job's dependencies first) or only write the scripts."""
    executors = chain(runner, plan)
    cfg = runner.config
    assert isinstance(cfg, SlurmExecutor)
    if not cfg.submit:
        script = write_scripts(executors)
        if not runner.quiet:
            runner.console.print(f"[green]wrote[/] {len(executors)} sbatch scripts; submit them with {script}")
        return script
    executors[-1].run()  # launches its dependencies first, each with --dependency=afterok
    if not runner.quiet:
        runner.console.print(f"[green]submitted[/] {len(executors)} Slurm jobs; the last one ({executors[-1].job_id}) "
                             f"writes {runner.out_dir}")
    return None
