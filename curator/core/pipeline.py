"""A pipeline: a source, stages in order, outputs. Runs in a notebook or from ``curator build``.

The runner owns everything stages should not: batching, the per-stage cache, the funnel,
the rejects, and writing outputs. A rerun of an unchanged pipeline loads each stage's
output from the cache; a changed stage reruns together with everything after it.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import polars as pl

from curator.core.fingerprint import canonical, sha256_text
from curator.core.funnel import StageStats, merge_counts, render_funnel, write_funnel
from curator.core.io import write_table
from curator.core.outputs import Output, OutputFile, TableOutput
from curator.core.redact import redact_command, redact_value
from curator.core.sources import ReadProblems
from curator.core.stage import RunContext, Stage, StageOutput, stage_adds, stage_needs
from curator.core.stage_cache import StageCache
from curator.core.storage import StoragePath, check_root, location
from curator.core.table import PROBLEM_SCHEMA, conform


class StageError(RuntimeError):
    """A stage raised; the message names the stage and the batch so the person knows where."""


@dataclass
class PlanStep:
    index: int
    name: str
    scope: str
    needs: tuple[str, ...]
    adds: tuple[str, ...]
    missing: tuple[str, ...]


@dataclass
class Plan:
    steps: list[PlanStep]

    @property
    def missing(self) -> list[tuple[str, str]]:
        return [(s.name, c) for s in self.steps for c in s.missing]

    def render(self) -> Any:
        from rich.table import Table

        table = Table(title="Plan")
        for c in ("#", "stage", "scope", "needs", "adds", "missing"):
            table.add_column(c)
        for s in self.steps:
            table.add_row(str(s.index), s.name, s.scope, ", ".join(s.needs) or "-", ", ".join(s.adds) or "-",
                          "[bold red]" + ", ".join(s.missing) + "[/]" if s.missing else "")
        return table


def _samples_count(df: pl.DataFrame) -> int:
    if "samples" not in df.columns or df.height == 0:
        return 0
    return int(df["samples"].list.len().sum() or 0)


def _reason_counts(df: pl.DataFrame | None) -> dict[str, int]:
    if df is None or df.height == 0:
        return {}
    counts = df.group_by("reason").len()
    return {str(r): int(n) for r, n in counts.iter_rows()}


def _sum_info(infos: list[dict[str, Any]]) -> dict[str, Any]:
    """Row stages report per batch; numbers add up, the rest keeps the last value."""
    out: dict[str, Any] = {}
    for info in infos:
        for k, v in info.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and isinstance(out.get(k, 0), (int, float)):
                out[k] = out.get(k, 0) + v
            elif isinstance(v, dict) and isinstance(out.get(k, {}), dict):
                out[k] = _sum_info([out.get(k, {}), v])
            else:
                out[k] = v
    return out


def _normalise_output(result: StageOutput | pl.DataFrame, stage_name: str) -> StageOutput:
    if isinstance(result, pl.DataFrame):
        return StageOutput(result)
    if not isinstance(result, StageOutput):
        raise StageError(f"stage {stage_name!r} returned {type(result).__name__}; return a DataFrame or StageOutput")
    return result


def apply_batches(stage: Stage, df: pl.DataFrame, entry: Any, ctx: RunContext,
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
                    out = _normalise_output(stage.apply(batch), stage.name)
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


def gather_outputs(stage: Stage, fp: str, outs: list[StageOutput], rows_in: int,
                   samples_in: int) -> tuple[pl.DataFrame, StageStats]:
    """Concatenate batch outputs and count them into the stage's funnel entry."""
    kept = [o.kept for o in outs]
    rejects = [o.rejects for o in outs if o.rejects is not None and o.rejects.height]
    srejects = [o.sample_rejects for o in outs if o.sample_rejects is not None and o.sample_rejects.height]
    result = pl.concat(kept, how="diagonal_relaxed") if len(kept) > 1 else kept[0]
    rej = pl.concat(rejects, how="diagonal_relaxed") if rejects else None
    srej = pl.concat(srejects, how="diagonal_relaxed") if srejects else None
    stats = stage_stats(stage, fp, rows_in=rows_in, rows_out=result.height, dropped=_reason_counts(rej),
                        samples_in=samples_in, samples_out=_samples_count(result),
                        samples_dropped=_reason_counts(srej),
                        samples_with_rows=_samples_count(rej) if rej is not None else 0,
                        infos=[o.info for o in outs])
    return result, stats


def stage_stats(stage: Stage, fp: str, *, rows_in: int, rows_out: int, dropped: dict[str, int],
                samples_in: int, samples_out: int, samples_dropped: dict[str, int], samples_with_rows: int,
                infos: list[dict[str, Any]]) -> StageStats:
    """A stage's funnel entry from its counts (the same arithmetic for one batch or many shards)."""
    stats = StageStats(stage.name, stage.scope, fp, rows_in=rows_in, rows_out=rows_out, dropped=dict(dropped),
                       samples_in=samples_in, samples_out=samples_out, samples_dropped=dict(samples_dropped),
                       info=_sum_info(infos))
    if samples_with_rows:
        stats.samples_dropped = merge_counts(stats.samples_dropped, {"row dropped": samples_with_rows})
    if stage.produces_samples:
        stats.samples_added = samples_out + sum(stats.samples_dropped.values()) - samples_in
    return stats


def write_card(out_dir: Path) -> Any:
    """Default finisher: the data card and its plots next to the data (``curator.publish.card``)."""
    from curator.publish.card import write_card as render  # matplotlib / jinja2 load only when a build ends

    return render(out_dir)


#: run at the end of every build; pass ``finishers=(*DEFAULT_FINISHERS, mine)`` to add one, ``()`` for none
DEFAULT_FINISHERS: tuple[Callable[[Path], Any], ...] = (write_card,)


@dataclass
class Pipeline:
    """Stages composed in order. ``run()`` returns the final table (a polars DataFrame)."""

    name: str
    source: ReadProblems | pl.DataFrame
    stages: Sequence[Stage]
    outputs: Sequence[Output] = field(default_factory=lambda: [TableOutput()])
    description: str = ""
    params: Any = None  # the pipeline file's Params, recorded in run.json and the card
    finishers: Sequence[Callable[[Path], Any]] = DEFAULT_FINISHERS

    def _source_columns(self) -> set[str]:
        if isinstance(self.source, pl.DataFrame):
            cols = set(self.source.columns) | set(PROBLEM_SCHEMA) | {"samples"}
            if "samples" in self.source.columns:
                dtype = self.source.schema["samples"]
                inner = getattr(dtype, "inner", None)
                cols |= {f"samples.{f.name}" for f in getattr(inner, "fields", [])}
            return cols
        return self.source.columns_provided()

    def plan(self) -> Plan:
        """Which columns each stage needs and whether an earlier stage provides them."""
        available = self._source_columns()
        steps = [PlanStep(0, "load", "source", (), tuple(sorted(available)), ())]
        names: set[str] = set()
        for i, stage in enumerate(self.stages, start=1):
            if stage.name in names:
                raise ValueError(f"two stages are named {stage.name!r}; give one a label=... so --from and "
                                 "the funnel can tell them apart")
            names.add(stage.name)
            needs, adds = stage_needs(stage), stage_adds(stage)
            missing = tuple(c for c in needs if c not in available)
            steps.append(PlanStep(i, stage.name, stage.scope, needs, adds, missing))
            available |= set(adds)
        return Plan(steps)

    def stage_names(self) -> list[str]:
        return ["load"] + [s.name for s in self.stages]

    def run(
        self,
        out_dir: str | Path | None = None,
        *,
        work_dir: str | Path | None = None,
        from_stage: str | None = None,
        executor: str = "local",
        seed: int = 0,
        console: Any = None,
        quiet: bool = False,
        command: str | None = None,
        request_cache: str | Path | None = None,
    ) -> pl.DataFrame:
        """Run every stage (from the cache where nothing changed), write outputs, return the table.

        ``work_dir`` (default ``<out_dir>/.work``) may be an fsspec URL such as ``s3://bucket/run``;
        ``request_cache`` is the local SQLite file of LLM responses (see ``RunContext``).
        """
        if executor != "local":
            from curator.executors import run_with_executor  # scale-out engines are optional

            return run_with_executor(self, executor, out_dir=out_dir, work_dir=work_dir, from_stage=from_stage,
                                     seed=seed, console=console, quiet=quiet, command=command,
                                     request_cache=request_cache)
        return Runner(self, out_dir, work_dir, from_stage, seed, console, quiet, command, request_cache).run()


class Runner:
    """One local run of a pipeline."""

    def __init__(self, pipeline: Pipeline, out_dir: str | Path | None, work_dir: str | Path | None,
                 from_stage: str | None, seed: int, console: Any, quiet: bool, command: str | None,
                 request_cache: str | Path | None = None) -> None:
        from rich.console import Console

        self.p = pipeline
        self.out_dir = Path(out_dir or Path("out") / pipeline.name)
        self.work_dir: StoragePath = location(work_dir) if work_dir else self.out_dir / ".work"
        self.request_cache = Path(request_cache) if request_cache else None
        self.console = console or Console(stderr=True, quiet=quiet)
        self.quiet = quiet
        self.command = command
        if from_stage is not None and from_stage not in pipeline.stage_names():
            raise ValueError(f"--from {from_stage!r}: no such stage; stages are {pipeline.stage_names()}")
        self.from_stage = from_stage
        self.ctx = RunContext(self.work_dir, self.out_dir, seed, self.console, self.request_cache)
        self.cache = StageCache(self.work_dir / "stages")
        self.stats: list[StageStats] = []
        self.forcing = False

    # -- the run -------------------------------------------------------------------------
    def run(self) -> pl.DataFrame:
        self._check_plan()
        check_root(self.work_dir)
        started = time.time()
        self._prepare_out_dir()
        df, fp = self._load()
        fingerprints = {"load": fp}
        for i, stage in enumerate(self.p.stages, start=1):
            df, fp = self._run_stage(i, stage, df, fp)
            fingerprints[stage.name] = fp
        self._finish(df, fingerprints, started)
        return df

    def _check_plan(self) -> None:
        plan = self.p.plan()
        if plan.missing:
            lines = "; ".join(f"stage {s!r} needs column {c!r}" for s, c in plan.missing)
            raise ValueError(f"pipeline {self.p.name!r} cannot run: {lines}, which no earlier stage provides. "
                             "Add the stage that provides it or run `curator build --dry-run` to see the plan.")

    def _prepare_out_dir(self) -> None:
        self.out_dir.mkdir(parents=True, exist_ok=True)
        rejects_dir = self.out_dir / "rejects"
        if rejects_dir.exists():
            for old in rejects_dir.glob("*.parquet"):
                old.unlink()

    def _finish(self, df: pl.DataFrame, fingerprints: dict[str, str], started: float) -> None:
        """Outputs, funnel.json, run.json and finishers (shared with the scale-out executors)."""
        files = self._write_outputs(df)
        write_funnel(self.stats, self.out_dir / "funnel.json")
        self._write_run_record(fingerprints, files, started)
        for finish in self.p.finishers:
            finish(self.out_dir)
        if not self.quiet:
            self.console.print(render_funnel(self.stats))
            self.console.print(f"[green]wrote[/] {self.out_dir} ({df.height:,} rows)")

    def _forced(self, name: str) -> bool:
        if self.from_stage == name:
            self.forcing = True
        return self.forcing

    def _load(self) -> tuple[pl.DataFrame, str]:
        src = self.p.source
        if isinstance(src, pl.DataFrame):
            df = conform(src)
            fp = sha256_text(json.dumps({"frame": df.hash_rows().sum()}, default=str))
            stats = StageStats("load", "source", fp, rows_in=df.height, rows_out=df.height,
                               samples_in=0, samples_out=_samples_count(df), samples_added=_samples_count(df))
            self.stats.append(stats)
            return df, fp
        fp = sha256_text(json.dumps({"source": canonical(src.params())}, sort_keys=True))
        entry = self.cache.entry("load", fp)
        if entry.complete and not self._forced("load"):
            stats = entry.stats()
            stats.cached, stats.seconds = True, 0.0
            df = entry.kept()
        else:
            t0 = time.perf_counter()
            entry.reset()
            result = src.load()
            df = result.table
            bad = result.bad_rows
            n = _samples_count(df)
            stats = StageStats("load", "source", fp, rows_in=df.height + bad.height, rows_out=df.height,
                               dropped=_reason_counts(bad.with_columns(
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
        bad = entry.rejects()
        if bad is not None and bad.height:
            write_table(bad.with_columns(pl.lit("load").alias("stage")), self.out_dir / "rejects" / "00-load.parquet")
            write_table(bad, self.out_dir / "quarantine.jsonl")
            self.console.print(f"[yellow]quarantined {bad.height} bad input rows[/] -> {self.out_dir / 'quarantine.jsonl'}")
        return df, fp

    def _run_stage(self, index: int, stage: Stage, df: pl.DataFrame, upstream: str) -> tuple[pl.DataFrame, str]:
        from curator.core.fingerprint import stage_fingerprint

        fp = stage_fingerprint(stage, upstream)
        entry = self.cache.entry(stage.name, fp)
        if entry.complete and not self._forced(stage.name):
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
        self._export_rejects(index, stage.name, entry)
        return out, fp

    def _execute(self, stage: Stage, df: pl.DataFrame, entry: Any, fp: str) -> tuple[pl.DataFrame, StageStats]:
        n = 1 if stage.scope == "global" or df.height <= stage.batch_size else -(-df.height // stage.batch_size)
        progress = self._progress(stage.name, n)
        with progress:
            task = progress.add_task(stage.name, total=n)
            outs = apply_batches(stage, df, entry, self.ctx, on_batch=lambda: progress.advance(task))
        result, stats = gather_outputs(stage, fp, outs, rows_in=df.height, samples_in=_samples_count(df))
        return result, stats

    def _progress(self, name: str, total: int) -> Any:
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        return Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                        TextColumn("batches"), TimeElapsedColumn(), console=self.console,
                        disable=self.quiet or total <= 1, transient=True)

    def _export_rejects(self, index: int, name: str, entry: Any) -> None:
        base = self.out_dir / "rejects"
        rej = entry.rejects()
        if rej is not None and rej.height:
            write_table(rej.with_columns(pl.lit(name).alias("stage")), base / f"{index:02d}-{name}.parquet")
        srej = entry.sample_rejects()
        if srej is not None and srej.height:
            write_table(srej.with_columns(pl.lit(name).alias("stage")), base / f"{index:02d}-{name}.samples.parquet")

    def _write_outputs(self, df: pl.DataFrame) -> list[OutputFile]:
        files: list[OutputFile] = []
        for output in self.p.outputs:
            files.extend(output.write(df, self.out_dir))
        (self.out_dir / "outputs.json").write_text(
            json.dumps([f.__dict__ for f in files], indent=2) + "\n")
        return files

    def _write_run_record(self, fingerprints: dict[str, str], files: list[OutputFile], started: float) -> None:
        # allow-list: declared, non-secret parameters by name; everything else redacted (curator.core.redact)
        params = redact_value(canonical(self.p.params)) if self.p.params is not None else None
        names = [f.name for f in dataclasses.fields(self.p.params)] if dataclasses.is_dataclass(self.p.params) else []
        record = {
            "pipeline": self.p.name,
            "description": self.p.description,
            "command": redact_command(self.command or sys.argv, names),
            "params": params,
            "stages": [{"name": s.name, "scope": s.scope, "params": redact_value(canonical(s.params()))}
                       for s in self.p.stages],
            "fingerprints": fingerprints,
            "outputs": [f.__dict__ for f in files],
            "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
            "seconds": round(time.time() - started, 3),
            "python": platform.python_version(),
            "versions": _versions(),
        }
        (self.out_dir / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("reasoning-curator", "polars", "datasets", "math-verify", "llama-cpp-python", "openai", "vllm"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out
