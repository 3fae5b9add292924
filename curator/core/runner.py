"""The local runner: one build of a pipeline in this process.

It owns everything stages should not: batching, the per-stage cache, the funnel, the
rejects and writing outputs (``curator.core.accounting``). A rerun of an unchanged pipeline
loads each stage's output from the cache; a changed stage reruns with everything after it.
The scale-out runner (``curator.executors.driver.ShardedRunner``) extends this class through
its public methods.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import polars as pl

from curator.core.accounting import (
    as_stage_output,
    clear_rejects,
    export_rejects,
    finish_run,
    gather_outputs,
    reason_counts,
    samples_count,
)
from curator.core.fingerprint import canonical, sha256_text, stage_fingerprint
from curator.core.funnel import StageStats
from curator.core.io import write_table
from curator.core.run_log import stage_done
from curator.core.run_options import PipelineSpec, RunOptions
from curator.core.stage import RunContext, Stage, StageError, StageOutput
from curator.core.stage_cache import CacheEntry, StageCache
from curator.core.storage import check_root
from curator.core.table import conform


def apply_batches(stage: Stage, df: pl.DataFrame, entry: CacheEntry, ctx: RunContext,
                  on_batch: Callable[[], Any] | None = None) -> list[StageOutput]:
    """Run a stage over ``df`` batch by batch, each batch's output cached in ``entry`` as it finishes.

    A finished batch of an interrupted run is read back, not redone. Row stages see batches of
    ``stage.batch_size``; global stages see ``df`` whole. Used by the local runner and, per shard,
    by the scale-out executors (``curator.executors``).
    """
    if stage.scope == "global" or df.height <= stage.batch_size:
        batches = [df]
    else:
        batches = [df.slice(o, stage.batch_size) for o in range(0, df.height, stage.batch_size)]
    outs: list[StageOutput] = []
    stage.setup(ctx)
    try:
        for b, batch in enumerate(batches):
            out = entry.part(b)  # a finished batch of an interrupted run is not redone
            if out is None:
                try:
                    out = as_stage_output(stage.apply(batch), stage.name)
                except Exception as err:
                    where = f"batch {b + 1} of {len(batches)}" if len(batches) > 1 else "its input"
                    raise StageError(f"stage {stage.name!r} failed on {where}: "
                                     f"{type(err).__name__}: {err}") from err
                entry.write_part(b, out)
            outs.append(out)
            if on_batch is not None:
                on_batch()
    finally:
        stage.teardown()
    return outs


class Runner:
    """One local run of a pipeline with the given options."""

    def __init__(self, pipeline: PipelineSpec, options: RunOptions) -> None:
        from rich.console import Console

        if options.from_stage is not None and options.from_stage not in pipeline.stage_names():
            raise ValueError(f"--from {options.from_stage!r}: no such stage; stages are {pipeline.stage_names()}")
        self.p = pipeline
        self.options = options
        self.out_dir = options.out_path(pipeline.name)
        self.work_dir = options.work_path(pipeline.name)
        self.console = options.console or Console(stderr=True, quiet=options.quiet)
        self.quiet = options.quiet
        request_cache = options.request_cache
        self.ctx = RunContext(self.work_dir, self.out_dir, options.seed, self.console,
                              None if request_cache is None else Path(request_cache))
        self.cache = StageCache(self.work_dir / "stages")
        self.stats: list[StageStats] = []
        self.forcing = False

    # -- the run -------------------------------------------------------------------------
    def run(self) -> pl.DataFrame:
        self.check_plan()
        check_root(self.work_dir)
        started = time.time()
        clear_rejects(self.out_dir)
        df, fp = self.load()
        fingerprints = {"load": fp}
        for i, stage in enumerate(self.p.stages, start=1):
            df, fp = self.run_stage(i, stage, df, fp)
            fingerprints[stage.name] = fp
        self.finish(df, fingerprints, started)
        return df

    def check_plan(self) -> None:
        """Refuse a pipeline whose stages need columns no earlier stage provides."""
        plan = self.p.plan()
        if plan.missing:
            lines = "; ".join(f"stage {s!r} needs column {c!r}" for s, c in plan.missing)
            raise ValueError(f"pipeline {self.p.name!r} cannot run: {lines}, which no earlier stage provides. "
                             "Add the stage that provides it or run `curator build --dry-run` to see the plan.")

    def finish(self, df: pl.DataFrame, fingerprints: dict[str, str], started: float) -> None:
        """Outputs, funnel.json, run.json and finishers (``accounting.finish_run``)."""
        finish_run(self.p, self.options, self.stats, df, fingerprints, started, self.console)

    def forced(self, name: str) -> bool:
        """Whether ``name`` reruns because of ``--from`` (it or an earlier stage was named)."""
        if self.options.from_stage == name:
            self.forcing = True
        return self.forcing

    def load(self) -> tuple[pl.DataFrame, str]:
        """The source as a table (from the cache when unchanged); bad input rows quarantined."""
        src = self.p.source
        if isinstance(src, pl.DataFrame):
            df = conform(src)
            fp = sha256_text(json.dumps({"frame": df.hash_rows().sum()}, default=str))
            n = samples_count(df)
            stats = StageStats("load", "source", fp, rows_in=df.height, rows_out=df.height,
                               samples_in=0, samples_out=n, samples_added=n)
            self.stats.append(stats)
            return df, fp
        fp = sha256_text(json.dumps({"source": canonical(src.params())}, sort_keys=True))
        entry = self.cache.entry("load", fp)
        if entry.complete and not self.forced("load"):
            stats = entry.stats()
            stats.cached, stats.seconds = True, 0.0
            df = entry.kept()
        else:
            t0 = time.perf_counter()
            entry.reset()
            result = src.load()
            df = result.table
            bad = result.bad_rows
            n = samples_count(df)
            stats = StageStats("load", "source", fp, rows_in=df.height + bad.height, rows_out=df.height,
                               dropped=reason_counts(bad.with_columns(
                                   pl.col("reason").str.replace(r" \(.*", "")) if bad.height else None),
                               samples_out=n, samples_added=n)
            for note in result.notes:  # e.g. a column mapping that replaced an input column
                stats.info.setdefault("notes", []).append(note)
                if not self.quiet:
                    self.console.print(f"[yellow]load:[/] {note}")
            entry.write_part(0, StageOutput(df, bad if bad.height else None))
            stats.seconds = time.perf_counter() - t0
            entry.finish(stats)
        stats.check()
        self.stats.append(stats)
        stage_done(self.console, stats)
        bad = entry.rejects()
        if bad is not None and bad.height:
            write_table(bad.with_columns(pl.lit("load").alias("stage")), self.out_dir / "rejects" / "00-load.parquet")
            write_table(bad, self.out_dir / "quarantine.jsonl")
            self.console.print(f"[yellow]quarantined {bad.height} bad input rows[/] -> {self.out_dir / 'quarantine.jsonl'}")
        return df, fp

    def run_stage(self, index: int, stage: Stage, df: pl.DataFrame, upstream: str) -> tuple[pl.DataFrame, str]:
        fp = stage_fingerprint(stage, upstream)
        entry = self.cache.entry(stage.name, fp)
        if entry.complete and not self.forced(stage.name):
            stats = entry.stats()
            stats.cached, stats.seconds = True, 0.0
            out = entry.kept()
        else:
            t0 = time.perf_counter()
            if self.forcing:
                entry.reset()
            out, stats = self._execute(stage, df, entry, fp)
            stats.seconds = time.perf_counter() - t0
            stats.check()
            entry.finish(stats)
        self.stats.append(stats)
        stage_done(self.console, stats)
        export_rejects(self.out_dir, index, stage.name, entry)
        return out, fp

    def _execute(self, stage: Stage, df: pl.DataFrame, entry: CacheEntry, fp: str) -> tuple[pl.DataFrame, StageStats]:
        n = 1 if stage.scope == "global" or df.height <= stage.batch_size else -(-df.height // stage.batch_size)
        progress = self._progress(stage.name, n)
        with progress:
            task = progress.add_task(stage.name, total=n)
            outs = apply_batches(stage, df, entry, self.ctx, on_batch=lambda: progress.advance(task))
        return gather_outputs(stage, fp, outs, rows_in=df.height, samples_in=samples_count(df))

    def _progress(self, name: str, total: int) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("batches"), TimeElapsedColumn(), console=self.console,
                        disable=self.quiet or total <= 1, transient=True)
