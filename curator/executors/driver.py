"""The scale-out runner: the local runner's load, cache, funnel and outputs; datatrove for the rows.

The pipeline is cut into units: stages already cached, runs of consecutive row stages
(segments, run as datatrove tasks over shards) and global stages (barriers). Fingerprints,
cache entries, the funnel, rejects, outputs and run.json are the local runner's (its public
methods and ``curator.core.accounting``), so a Ray or Slurm build writes what ``curator build``
writes locally, and either can resume the other's cache.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field, replace
from typing import Any

import polars as pl

from curator.core.accounting import clear_rejects, export_rejects, finish_run
from curator.core.funnel import StageStats
from curator.core.run_log import stage_done
from curator.core.run_options import PipelineSpec, RunOptions
from curator.core.runner import Runner
from curator.core.stage import RunContext, StageError, StageOutput
from curator.core.stage_cache import CacheEntry
from curator.core.storage import StorageError, StoragePath, absolute, check_root, is_local
from curator.executors.config import ExecutorConfig, ProcessesExecutor, RayExecutor, SlurmExecutor
from curator.executors.quiet import quiet_driver
from curator.executors.shards import (
    Segment,
    Slot,
    commit_segment,
    prepare_segment,
    run_global,
    shard_done,
)


@dataclass
class Unit:
    """A piece of the run: ``cached`` stages, a row ``segment`` or one ``global`` stage."""

    kind: str
    slots: list[Slot]
    upstream: StoragePath
    segment: Segment | None = None


@dataclass
class RunPlan:
    """Everything the final step needs (it may run in another process, e.g. the last Slurm job)."""

    pipeline: PipelineSpec
    units: list[Unit]
    load_stats: StageStats
    fingerprints: dict[str, str]
    final_root: StoragePath
    ctx: RunContext  # the stages' context on a worker (no console)
    options: RunOptions  # with absolute paths, as a worker must see them
    started: float
    logs: dict[str, StoragePath] = field(default_factory=dict)


def run_global_unit(segments: list[Segment], slot: Slot, upstream: StoragePath, ctx: RunContext) -> StageStats:
    """Commit the row segments before a global stage, then run it (in the driver or a one-task job)."""
    for seg in segments:
        commit_segment(seg)
    return run_global(slot, CacheEntry(upstream).stats(), upstream, ctx)


def finish(plan: RunPlan, options: RunOptions | None = None, console: Any = None,
           log_stages: bool = False) -> pl.DataFrame:
    """Funnel in stage order, rejects, outputs, funnel.json, run.json: exactly the local runner's.

    ``options`` defaults to the plan's (quiet, as in the last Slurm job). ``log_stages`` writes
    each stage's line and ``stage`` event to ``console`` here, for a driver that did not see the
    stages run (Slurm's jobs each logged only their own).
    """
    options = options or plan.options
    out_dir = options.out_path(plan.pipeline.name)
    stats = [plan.load_stats]
    for unit in plan.units:
        if unit.kind == "segment":
            assert unit.segment is not None
            all_stats = commit_segment(unit.segment)
        else:
            all_stats = [slot.entry.stats() for slot in unit.slots]
        for slot, part in zip(unit.slots, all_stats, strict=True):
            if unit.kind == "cached":
                part.cached, part.seconds = True, 0.0
            stats.append(part)
            export_rejects(out_dir, slot.index, slot.stage.name, slot.entry)
    if log_stages:
        for part in stats:
            stage_done(console, part)
    df = CacheEntry(plan.final_root).kept()
    finish_run(plan.pipeline, options, stats, df, plan.fingerprints, plan.started, console)
    return df


class ShardedRunner(Runner):
    """A run whose row stages go to a datatrove executor (processes, Ray or Slurm)."""

    def __init__(self, pipeline: PipelineSpec, config: ExecutorConfig, options: RunOptions) -> None:
        super().__init__(pipeline, options)
        self.config = config
        if isinstance(config, SlurmExecutor) and not is_local(self.work_dir):
            raise StorageError(f"--executor slurm needs a work directory on a shared POSIX filesystem (sbatch reads "
                               f"its scripts from there), not {self.work_dir}; use --work-dir /shared/path")
        # workers may start elsewhere: every path absolute, in the options and in the one run context
        self.work_dir = absolute(self.work_dir)
        self.out_dir = self.out_dir.resolve()
        request_cache = self.ctx.request_cache_path.resolve()
        self.options = replace(options, out_dir=self.out_dir, work_dir=self.work_dir, request_cache=request_cache)
        self.ctx = RunContext(self.work_dir, self.out_dir, options.seed, self.console, request_cache)
        self.worker_ctx = replace(self.ctx, console=None)

    # -- planning ----------------------------------------------------------------------------
    def _load_to_cache(self) -> tuple[StoragePath, str]:
        """Load as the local runner does; a DataFrame source is written to the cache for the shards."""
        df, fp = self.load()
        entry = self.cache.entry("load", fp)
        if not entry.complete:
            entry.reset()
            entry.write_part(0, StageOutput(df))
            entry.finish(self.stats[-1])
        return entry.root, fp

    def _plan(self, load_root: StoragePath, load_fp: str) -> RunPlan:
        from curator.core.fingerprint import stage_fingerprint

        units: list[Unit] = []
        fingerprints = {"load": load_fp}
        upstream, up_fp = load_root, load_fp
        pending: list[Slot] = []
        pending_up = upstream

        def flush() -> None:
            if pending:
                key = hashlib.sha256(json.dumps([s.fp for s in pending] + [self.config.tasks]).encode()).hexdigest()
                seg = Segment(list(pending), pending_up, self.config.tasks,
                              f"{pending[0].index:02d}-{pending[0].stage.name}-{key[:12]}")
                units.append(Unit("segment", list(pending), pending_up, seg))
                pending.clear()

        for i, stage in enumerate(self.p.stages, start=1):
            fp = stage_fingerprint(stage, up_fp)
            entry = self.cache.entry(stage.name, fp)
            cached = entry.complete and not self.forced(stage.name)
            if not cached and self.forcing:
                entry.reset()
            slot = Slot(i, stage, fp, entry.root, cached)
            if cached or stage.scope == "global":
                flush()
                units.append(Unit("cached" if cached else "global", [slot], upstream))
            else:
                if not pending:
                    pending_up = upstream
                pending.append(slot)
            upstream, up_fp = entry.root, fp
            fingerprints[stage.name] = fp
        flush()
        return RunPlan(self.p, units, self.stats[0], fingerprints, upstream, self.worker_ctx, self.options.for_worker(),
                       time.time())

    def segment_logs(self, seg: Segment) -> StoragePath:
        """datatrove's logging dir of a segment (completion markers, per-task logs); stale markers removed."""
        logs = self.work_dir / "executors" / seg.key
        prepare_segment(seg)
        completions = logs / "completions"
        if completions.exists():
            for marker in completions.iterdir():
                if not marker.name.isdigit() or not shard_done(seg, int(marker.name)):
                    marker.unlink()  # its outputs were reset (--from) or removed: run it again
        return logs

    # -- running -----------------------------------------------------------------------------
    def run(self) -> pl.DataFrame | None:
        self.check_plan()
        check_root(self.work_dir)
        started = time.time()
        clear_rejects(self.out_dir)
        load_root, load_fp = self._load_to_cache()
        plan = self._plan(load_root, load_fp)
        plan.started = started
        if isinstance(self.config, SlurmExecutor):
            from curator.executors.slurm import submit

            submit(self, plan)
            return None
        done: list[Segment] = []
        for unit in plan.units:
            if unit.kind == "segment":
                assert unit.segment is not None
                self._run_segment(unit.segment)
                finished = commit_segment(unit.segment)
                done.append(unit.segment)
            elif unit.kind == "global":
                if not self.quiet:
                    self.console.print(f"[bold]{unit.slots[0].stage.name}[/] (global) on the driver")
                finished = [run_global_unit(done, unit.slots[0], unit.upstream, self.worker_ctx)]
            else:
                finished = [unit.slots[0].entry.stats()]
                finished[0].cached, finished[0].seconds = True, 0.0
            for part in finished:  # as the local runner: a plain line in a log file, a `stage` JSON event
                stage_done(self.console, part)
        return finish(plan, self.options, self.console)

    def _run_segment(self, seg: Segment) -> None:
        from curator.executors.steps import SegmentStep, dumps

        logs = self.segment_logs(seg)
        names = ", ".join(s.stage.name for s in seg.slots)
        if not self.quiet:
            self.console.print(f"[bold]{names}[/] on {self.config.name}: {seg.tasks} shards (logs: {logs})")
        step = SegmentStep(dumps((seg, self.worker_ctx)), f"curator: {names}")
        with quiet_driver(self.quiet):
            executor = self._executor([step], seg.tasks, logs)
            executor.run()
        missing = executor.get_incomplete_ranks()
        if missing:
            raise StageError(f"{len(missing)} of {seg.tasks} shards of [{names}] did not finish (ranks {missing[:10]}); "
                             f"see {logs}/logs/task_{missing[0]:05d}.log. Rerun the same command: finished shards "
                             "and batches are kept.")

    def _stderr_dir(self, logs: StoragePath) -> str | None:
        """With --quiet, where tasks put what they print: next to their logs, or nowhere (remote logs)."""
        if not self.quiet:
            return None
        return str(logs / "logs") if is_local(logs) else ""

    def _executor(self, pipeline: list[Any], tasks: int, logs: StoragePath) -> Any:
        cfg = self.config
        if isinstance(cfg, ProcessesExecutor):
            from curator.executors.quiet import QuietLocalPipelineExecutor

            return QuietLocalPipelineExecutor(pipeline, tasks=tasks, workers=cfg.workers, logging_dir=str(logs),
                                              stderr_dir=self._stderr_dir(logs))
        if isinstance(cfg, RayExecutor):
            from curator.executors.quiet import QuietRayPipelineExecutor

            _ensure_ray(cfg, self.quiet)
            return QuietRayPipelineExecutor(pipeline, tasks=tasks, workers=cfg.workers, logging_dir=str(logs),
                                            stderr_dir=self._stderr_dir(logs), cpus_per_task=cfg.cpus_per_task,
                                            mem_per_cpu_gb=cfg.mem_per_cpu_gb, gpus_per_task=cfg.gpus_per_task)
        raise TypeError(f"no synchronous executor for {type(cfg).__name__}")


def _ensure_ray(cfg: RayExecutor, quiet: bool = False) -> None:
    try:
        import ray
    except ImportError as err:
        raise ImportError("the ray executor needs Ray: pip install 'reasoning-curator[ray]'") from err
    if not ray.is_initialized():
        # quiet: Ray's own start-up lines off, and the workers' output stays in Ray's log files
        options = {"logging_level": logging.WARNING, "log_to_driver": False} if quiet else {}
        if cfg.address:
            ray.init(address=cfg.address, **options)
        else:
            ray.init(num_cpus=cfg.num_cpus, include_dashboard=False, **options)
