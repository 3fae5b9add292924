"""``--quiet`` for datatrove's executors, which print every task's log on stderr regardless.

datatrove gives each task a stderr handler at INFO (a copy of what goes to the task's log
file). With quiet, each task's stderr goes to ``logs/task_NNNNN.stderr`` from inside the task
(a worker process, a Ray worker, or this process), and the driver's own datatrove lines are
switched off for the run. Nothing process-wide is redirected in the driver, so no forkserver
or Ray log monitor started during a quiet run keeps writing into its files afterwards.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from datatrove.executor import LocalPipelineExecutor
from datatrove.executor.ray import RayPipelineExecutor
from datatrove.utils.logging import logger


@contextmanager
def stderr_to_file(path: Path | None) -> Iterator[None]:
    """File descriptor 2 (so C libraries and child processes too) appended to ``path`` for a while."""
    if path is None:
        yield
        return
    if str(path) != os.devnull:
        path.parent.mkdir(parents=True, exist_ok=True)
    sys.stderr.flush()
    saved = os.dup(2)
    try:
        with path.open("ab") as fh:
            os.dup2(fh.fileno(), 2)
            try:
                yield
            finally:
                sys.stderr.flush()
                os.dup2(saved, 2)
    finally:
        os.close(saved)


@contextmanager
def quiet_driver(quiet: bool) -> Iterator[None]:
    """No datatrove lines from this process while an executor runs (its tasks handle their own)."""
    if not quiet:
        yield
        return
    logger.disable("datatrove")
    try:
        yield
    finally:
        logger.enable("datatrove")


@contextmanager
def task_output(stderr_dir: str | None, rank: int) -> Iterator[None]:
    """One task with its stderr in ``stderr_dir`` ("" = discarded: the task log has it all)."""
    if stderr_dir is None:
        yield
        return
    path = Path(os.devnull) if stderr_dir == "" else Path(stderr_dir) / f"task_{rank:05d}.stderr"
    logger.enable("datatrove")  # the task's own log file must get everything
    try:
        with stderr_to_file(path):
            yield
    finally:
        logger.disable("datatrove")


class QuietLocalPipelineExecutor(LocalPipelineExecutor):
    """datatrove's local executor; with ``stderr_dir`` set, each task's stderr goes there."""

    def __init__(self, *args: Any, stderr_dir: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stderr_dir = stderr_dir

    def _launch_run_for_rank(self, rank: int, ranks_q: Any, completed: Any = None, completed_lock: Any = None) -> Any:
        with task_output(self.stderr_dir, rank):
            return super()._launch_run_for_rank(rank, ranks_q, completed, completed_lock)


class QuietRayPipelineExecutor(RayPipelineExecutor):
    """datatrove's Ray executor; with ``stderr_dir`` set, each task's stderr goes there (on its node)."""

    def __init__(self, *args: Any, stderr_dir: str | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stderr_dir = stderr_dir

    def _run_for_rank(self, rank: int, local_rank: int = 0, node_rank: int = -1) -> Any:
        with task_output(self.stderr_dir, rank):
            return super()._run_for_rank(rank, local_rank, node_rank)
