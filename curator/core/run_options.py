"""How to run a pipeline: one value from ``Pipeline.run`` down to the runner and the executors.

``RunOptions`` holds what the caller chose (where, which engine, the seed, how loud); the
local runner and every executor read the same value instead of loose arguments.
``PipelineSpec`` is what they read of the pipeline itself, so neither imports the pipeline
module back (``Pipeline`` is the one implementation).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Protocol

from curator.core.storage import StoragePath, location


@dataclass(frozen=True)
class RunOptions:
    """The options of one build (``curator build`` flags; ``Pipeline.run`` keyword arguments).

    >>> RunOptions(seed=1).out_path("demo")
    PosixPath('out/demo')
    >>> RunOptions(out_dir="build").work_path("demo")
    PosixPath('build/.work')
    """

    out_dir: str | Path | None = None  # None: out/<pipeline name>
    work_dir: str | Path | None = None  # None: <out_dir>/.work; may be an fsspec URL (s3://bucket/run)
    from_stage: str | None = None  # rerun this stage and everything after it (--from)
    executor: Any = "local"  # local | processes | ray | slurm, or a curator.executors.ExecutorConfig
    seed: int = 0  # handed to every stage through RunContext
    console: Any = None  # rich.console.Console; None: one on stderr
    quiet: bool = False  # no progress bars, no funnel at the end
    command: str | None = None  # recorded in run.json; None: sys.argv
    request_cache: str | Path | None = None  # local SQLite file of LLM responses (RunContext.request_cache_path)

    def out_path(self, pipeline_name: str) -> Path:
        return Path(self.out_dir or Path("out") / pipeline_name)

    def work_path(self, pipeline_name: str) -> StoragePath:
        return location(self.work_dir) if self.work_dir else self.out_path(pipeline_name) / ".work"

    def for_worker(self) -> RunOptions:
        """What travels to another process (a Slurm job): no console, nothing printed."""
        return replace(self, console=None, quiet=True)


class PipelineSpec(Protocol):
    """What a runner reads of a pipeline (``curator.core.pipeline.Pipeline`` provides it)."""

    name: str
    source: Any  # a ReadProblems or a DataFrame
    stages: Sequence[Any]  # Stage objects
    outputs: Sequence[Any]  # Output objects
    description: str
    params: Any
    finishers: Sequence[Callable[[Path], Any]]

    def plan(self) -> Any: ...

    def stage_names(self) -> list[str]: ...
