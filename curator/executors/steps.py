"""datatrove pipeline steps that run curator work: a shard of row stages, a global stage, the finish.

Each step carries its work as cloudpickle bytes. Stages defined in a pipeline file (loaded
under a generated module name) or in a notebook cannot be imported by name on a worker, so
their modules are pickled by value; the curator and filters packages are imported by name.
"""

from __future__ import annotations

import sys
import sysconfig
from pathlib import Path
from typing import Any

from datatrove.pipeline.base import PipelineStep

_INSTALLED = tuple(str(Path(p).resolve()) for p in {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"],
                                                     sysconfig.get_paths()["stdlib"]})


def _by_value_modules() -> list[Any]:
    """Modules a worker may not be able to import by name: pipeline files, notebooks, test files."""
    out = []
    for name, module in list(sys.modules.items()):
        top = name.split(".", 1)[0]
        path = getattr(module, "__file__", None)
        if top in ("curator", "filters", "__main__") or not path:
            continue
        resolved = str(Path(path).resolve())
        if resolved.startswith(_INSTALLED) or "site-packages" in resolved or "dist-packages" in resolved:
            continue
        out.append(module)
    return out


def dumps(obj: Any) -> bytes:
    """cloudpickle ``obj`` with user modules by value, so any worker can load it."""
    import cloudpickle

    registered = []
    for module in _by_value_modules():
        try:
            cloudpickle.register_pickle_by_value(module)
            registered.append(module)
        except ValueError:
            continue
    try:
        return cloudpickle.dumps(obj)
    finally:
        for module in registered:
            cloudpickle.unregister_pickle_by_value(module)


def loads(payload: bytes) -> Any:
    import cloudpickle

    return cloudpickle.loads(payload)


class Payload(bytes):
    """Pickled work, shown as its size: datatrove writes every step's attributes to executor.json
    with ``str()``, and the pickle holds the stages' parameters (a backend's ``extra_body``)."""

    def __str__(self) -> str:
        return f"<pickled work, {len(self):,} bytes>"

    __repr__ = __str__


class CuratorStep(PipelineStep):
    """Base of the curator steps: the work travels as bytes, the step only dispatches."""

    type = "CURATOR"

    def __init__(self, payload: bytes, label: str) -> None:
        super().__init__()
        self.payload = Payload(payload)
        self.name = label


class SegmentStep(CuratorStep):
    """One shard (datatrove rank) of a run of row stages."""

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> None:
        from curator.executors.shards import run_shard

        segment, ctx = loads(self.payload)
        if world_size != segment.tasks:
            raise ValueError(f"segment was split into {segment.tasks} shards but the executor runs {world_size} tasks")
        stats = run_shard(segment, rank, ctx)
        self.stat_update("rows_in", value=stats[0].rows_in)
        self.stat_update("rows_out", value=stats[-1].rows_out)


class GlobalStep(CuratorStep):
    """A global stage as a one-task job (Slurm): commit the segments before it, then run it."""

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> None:
        from curator.executors.driver import run_global_unit

        run_global_unit(*loads(self.payload))


class FinishStep(CuratorStep):
    """The last job (Slurm): commit, write outputs, funnel.json, run.json and rejects, and every
    stage's line in this job's log (the local runner's lines, in one place)."""

    def run(self, data: Any = None, rank: int = 0, world_size: int = 1) -> None:
        from curator.core.run_log import RunConsole
        from curator.executors.driver import finish

        finish(loads(self.payload), console=RunConsole(), log_stages=True)
