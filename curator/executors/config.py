"""Settings of the scale-out engines: datatrove's local processes, Ray, Slurm.

``Pipeline.run(executor=...)`` takes a name (``"processes"``, ``"ray"``, ``"slurm"``) or one of
these objects; ``curator build --executor ...`` builds them from its options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class ProcessesExecutor:
    """datatrove's LocalPipelineExecutor: row stages over ``tasks`` shards in ``workers`` processes here."""

    tasks: int = 4
    workers: int = -1  # -1: one process per task (datatrove's default)

    name = "processes"


@dataclass
class RayExecutor:
    """datatrove's RayPipelineExecutor on a running cluster (``address="auto"``) or a local one."""

    tasks: int = 4
    workers: int = -1  # -1: as many tasks at once as the cluster takes
    address: str | None = None  # "auto": join the cluster of `ray start`; None: start a local one
    cpus_per_task: int = 1  # datatrove's default
    mem_per_cpu_gb: float = 2  # datatrove's default; a scheduling hint for Ray
    gpus_per_task: int = 0
    num_cpus: int | None = None  # only when starting a local cluster

    name = "ray"


@dataclass
class SlurmExecutor:
    """datatrove's SlurmPipelineExecutor: one job array per row segment, one job per global stage.

    The jobs are chained with ``--dependency=afterok``; the last one writes the outputs, the
    funnel and run.json. ``submit=False`` writes the sbatch scripts without calling ``sbatch``.
    """

    tasks: int = 4
    partition: str | None = None
    time: str = "24:00:00"
    cpus_per_task: int = 1
    mem_per_cpu_gb: int = 2
    gpus_per_task: int = 0
    global_cpus: int = 2  # global stages and the final write run as one task with more memory
    global_mem_per_cpu_gb: int = 16
    workers: int = -1  # -1: no limit on array tasks at once
    qos: str = "normal"
    job_name: str = "curator"
    venv_path: str | None = None  # `source` this in every job (else: env_command or nothing)
    env_command: str | None = None
    sbatch_args: dict[str, Any] = field(default_factory=dict)
    submit: bool = True

    name = "slurm"


ExecutorConfig = ProcessesExecutor | RayExecutor | SlurmExecutor

_BY_NAME: dict[str, type] = {"processes": ProcessesExecutor, "ray": RayExecutor, "slurm": SlurmExecutor}


def executor_config(executor: str | ExecutorConfig, **options: Any) -> ExecutorConfig:
    """An executor's settings from its name (plus options) or as given."""
    if not isinstance(executor, str):
        return executor
    cls = _BY_NAME.get(executor)
    if cls is None:
        raise ValueError(f"unknown executor {executor!r}; use local (default), processes, ray or slurm")
    return cls(**{k: v for k, v in options.items() if v is not None})
