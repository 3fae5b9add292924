"""Scale-out: the same pipeline on datatrove's executors (local processes, Ray, Slurm).

``Pipeline.run(executor="ray")`` (or ``curator build --executor ray``) runs runs of row stages
as datatrove tasks over Parquet shards, global stages as barriers between them on the columns
they need, and writes exactly what the local runner writes. Nothing here is imported by a
local run; Ray is an extra (``pip install 'reasoning-curator[ray]'``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from curator.executors.config import (
    ExecutorConfig,
    ProcessesExecutor,
    RayExecutor,
    SlurmExecutor,
    executor_config,
)

__all__ = ["ExecutorConfig", "ProcessesExecutor", "RayExecutor", "SlurmExecutor", "executor_config",
           "run_with_executor"]


def run_with_executor(pipeline: Any, executor: str | ExecutorConfig, *, out_dir: str | Path | None = None,
                      work_dir: str | Path | None = None, from_stage: str | None = None, seed: int = 0,
                      console: Any = None, quiet: bool = False, command: str | None = None,
                      request_cache: str | Path | None = None) -> pl.DataFrame | None:
    """Run ``pipeline`` on a scale-out engine; returns the final table (None for Slurm: the jobs write it)."""
    from curator.executors.driver import ShardedRunner

    config = executor_config(executor)
    return ShardedRunner(pipeline, config, out_dir, work_dir, from_stage, seed, console, quiet, command,
                         request_cache).run()
