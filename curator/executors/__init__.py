"""Scale-out: the same pipeline on datatrove's executors (local processes, Ray, Slurm).

``Pipeline.run(executor="ray")`` (or ``curator build --executor ray``) runs runs of row stages
as datatrove tasks over Parquet shards, global stages as barriers between them on the columns
they need, and writes exactly what the local runner writes. Nothing here is imported by a
local run; Ray is an extra (``pip install 'reasoning-curator[ray]'``).
"""

from __future__ import annotations

from typing import Any

import polars as pl

from curator.core.run_options import RunOptions
from curator.executors.config import (
    ExecutorConfig,
    ProcessesExecutor,
    RayExecutor,
    SlurmExecutor,
    executor_config,
)

__all__ = ["ExecutorConfig", "ProcessesExecutor", "RayExecutor", "SlurmExecutor", "executor_config",
           "run_with_executor"]


def run_with_executor(pipeline: Any, options: RunOptions) -> pl.DataFrame | None:
    """Run ``pipeline`` on the scale-out engine ``options.executor``; returns the final table
    (None for Slurm: the jobs write it)."""
    from curator.executors.driver import ShardedRunner

    return ShardedRunner(pipeline, executor_config(options.executor), options).run()
