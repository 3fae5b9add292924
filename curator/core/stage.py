"""Stages: named, configured transformations of a problem table.

A contributor writes one method:

- ``Filter.reasons(df)``: a string Series, null = keep, text = the drop reason;
- ``SampleFilter.sample_reasons(samples)``: the same, one entry per generated sample;
- ``SampleMap.sample_columns(samples)``: new per-sample fields;
- ``Map.transform(df)``: new or changed row columns (never fewer rows);
- ``Stage.apply(df)`` for anything else (global stages: dedup, balancing, selection).

Stages are dataclasses: their fields are their parameters and go into the cache
fingerprint, except ``label`` (every stage's name override), the fields named in ``not_params``
and the state a stage builds while it runs, declared with :func:`runtime`. Columns are declared
in the ``needs`` / ``adds`` ClassVars; a stage whose columns depend on its parameters overrides
``columns_needed()`` / ``columns_added()``. ``prepare`` (row columns before the work) and
``report`` (extra ``info`` for the funnel) are hooks, so no stage overrides ``apply`` for
bookkeeping. Plain callables become stages through :func:`filter_stage` / :func:`map_stage`.
The runner (``curator.core.pipeline``) does the batching, caching, counting and reject keeping,
so a stage never touches storage.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar, Literal

import polars as pl

from curator.core.samples import explode_samples, implode_samples

Scope = Literal["row", "global"]


class StageError(RuntimeError):
    """A stage raised; the message names the stage and the batch so the person knows where."""


def runtime(default: Any = None) -> Any:
    """Declare state a stage builds while it runs (a pool, an index, a client).

    Not a constructor argument, not compared, not printed, never in the fingerprint.
    """
    return field(default=default, init=False, repr=False, compare=False, metadata={"runtime": True})


@dataclass
class RunContext:
    """What a running stage may use: where to put durable state, the seed, a console."""

    work_dir: Path  # or a UPath when the work directory is an fsspec URL (curator.core.storage)
    out_dir: Path
    seed: int = 0
    console: Any = None  # rich.console.Console when run from the CLI
    request_cache: Path | None = None  # None: <work_dir>/requests.sqlite, or <out_dir>/.requests.sqlite

    @property
    def request_cache_path(self) -> Path:
        """The run's durable LLM request cache (shared by every generating stage).

        SQLite needs a local file, so a work directory on an object store keeps it in the
        output folder unless ``request_cache`` names another local path.
        """
        if self.request_cache is not None:
            return Path(self.request_cache)
        if isinstance(self.work_dir, Path):
            return self.work_dir / "requests.sqlite"
        return Path(self.out_dir) / ".requests.sqlite"


@dataclass
class StageOutput:
    """What a stage returns: kept rows, dropped rows and samples with a ``reason``, a report."""

    kept: pl.DataFrame
    rejects: pl.DataFrame | None = None
    sample_rejects: pl.DataFrame | None = None
    info: dict[str, Any] = field(default_factory=dict)


def _snake(name: str) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "_", name).lower()


@dataclass
class Stage:
    """Base of every stage. Subclasses are dataclasses whose fields are their parameters."""

    #: columns the stage reads; checked before anything runs (``--dry-run``)
    needs: ClassVar[tuple[str, ...]] = ()
    #: columns (or ``samples.<field>``) the stage adds
    adds: ClassVar[tuple[str, ...]] = ()
    #: columns a global stage reads *when the table has them*, besides ``needs`` (never required).
    #: Declaring it (even as ``()``) promises that ``needs`` + ``reads`` is all the stage looks at, so
    #: a sharded run may gather only those columns; None (not declared): it gathers every column,
    #: since a stage that checks ``if "answer" in df.columns`` would otherwise decide differently
    reads: ClassVar[tuple[str, ...] | None] = None
    #: ``row`` stages see batches and shard freely; ``global`` stages see the whole table
    scope: ClassVar[Scope] = "row"
    #: rows per batch for row stages (generation raises it so requests overlap)
    batch_size: ClassVar[int] = 2048
    #: stages that create samples (generation) are exempt from the samples-conserved check
    produces_samples: ClassVar[bool] = False
    #: extra modules whose source counts as this stage's code (e.g. the verifier): module objects,
    #: or functions / classes standing for the module that defines them
    code_modules: ClassVar[tuple[Any, ...]] = ()
    #: fields that are parameters of the run but do not change the output (besides ``label``)
    not_params: ClassVar[tuple[str, ...]] = ("label",)
    #: what the stage is for, as the data card names it: teacher, reference, judge, probe,
    #: dedup, decontamination, language ("" for the rest)
    role: ClassVar[str] = ""

    #: the stage's name in the funnel, the cache and ``--from`` (default: the class name in snake_case)
    label: str | None = field(default=None, kw_only=True)

    @property
    def name(self) -> str:
        """The stage's name in the funnel, the cache and ``--from``."""
        return self.label or _snake(type(self).__name__)

    def columns_needed(self) -> tuple[str, ...]:
        """Columns the stage reads (``needs``); override when they depend on parameters."""
        return self.needs

    def columns_added(self) -> tuple[str, ...]:
        """Columns the stage adds (``adds``); override when they depend on parameters."""
        return self.adds

    def prepare(self, df: pl.DataFrame) -> pl.DataFrame:
        """Hook: row columns to add before the stage's work (e.g. each problem's language)."""
        return df

    def report(self, out: StageOutput) -> dict[str, Any]:
        """Hook: extra ``info`` for the funnel and the card (e.g. the thresholds or spec used)."""
        return {}

    def finish_output(self, out: StageOutput) -> StageOutput:
        """``out`` with the ``report`` hook's info added (the built-in ``apply`` methods call it)."""
        extra = self.report(out)
        if extra:
            out.info = {**out.info, **extra}
        return out

    def setup(self, ctx: RunContext) -> None:  # noqa: B027 - optional hook
        """Load heavy resources once, before the first batch (models, benchmark indexes)."""

    def teardown(self) -> None:  # noqa: B027 - optional hook
        """Release what ``setup`` took."""

    def apply(self, df: pl.DataFrame) -> StageOutput | pl.DataFrame:
        """Transform a batch (row scope) or the whole table (global scope)."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    def params(self) -> dict[str, Any]:
        """The parameters that go into the fingerprint (not ``label``, ``not_params`` or runtime state)."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if f.name != "label" and f.name not in self.not_params and not f.metadata.get("runtime")}


def reject_frame(df: pl.DataFrame, reasons: pl.Series) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``df`` into (kept, rejects-with-reason) from a Series of reasons (null = keep)."""
    reasons = reasons.alias("reason").cast(pl.String)
    if reasons.len() != df.height:
        raise ValueError(f"reasons has {reasons.len()} entries for {df.height} rows")
    mask = reasons.is_null()
    kept = df.filter(mask)
    rejects = df.filter(~mask).with_columns(reasons.filter(~mask))
    return kept, rejects


@dataclass
class Filter(Stage):
    """Score-then-keep over rows: implement ``reasons`` (null = keep)."""

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        raise NotImplementedError(f"{type(self).__name__} must implement reasons()")

    def apply(self, df: pl.DataFrame) -> StageOutput:
        df = self.prepare(df)
        kept, rejects = reject_frame(df, self.reasons(df))
        return self.finish_output(StageOutput(kept, rejects))


@dataclass
class Map(Stage):
    """Adds or rewrites row columns; never drops rows."""

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        raise NotImplementedError(f"{type(self).__name__} must implement transform()")

    def apply(self, df: pl.DataFrame) -> StageOutput:
        return self.finish_output(StageOutput(self.transform(self.prepare(df))))


#: row columns copied next to each sample when a table is exploded for sample stages
SAMPLE_CONTEXT: tuple[str, ...] = ("id", "problem", "answer", "language", "domain")


@dataclass
class SampleMap(Stage):
    """Adds per-sample fields. ``sample_columns`` gets one row per sample (see ``explode_samples``)."""

    def sample_columns(self, samples: pl.DataFrame) -> pl.DataFrame | dict[str, pl.Series]:
        raise NotImplementedError(f"{type(self).__name__} must implement sample_columns()")

    def row_columns(self, df: pl.DataFrame) -> pl.DataFrame:
        """Optional: row columns derived after the samples were updated (e.g. ``pass_rate``)."""
        return df

    def apply(self, df: pl.DataFrame) -> StageOutput:
        df = self.prepare(df)
        flat = explode_samples(df, SAMPLE_CONTEXT)
        new = self.sample_columns(flat)
        new_cols = new if isinstance(new, dict) else {c: new[c] for c in new.columns if c not in flat.columns}
        flat = flat.with_columns([s.alias(n) for n, s in new_cols.items()])
        return self.finish_output(StageOutput(self.row_columns(implode_samples(df, flat))))


@dataclass
class SampleFilter(Stage):
    """Drops samples (not rows): implement ``sample_reasons`` (null = keep the sample).

    A row whose samples are all dropped stays, with an empty list: whether a problem without
    a usable sample is dropped is a row-level decision (e.g. ``rejection_sample``).
    """

    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        raise NotImplementedError(f"{type(self).__name__} must implement sample_reasons()")

    def sample_columns(self, samples: pl.DataFrame) -> dict[str, pl.Series]:
        """Optional: scores to keep on every sample (e.g. ``lang_ratio``), computed before dropping."""
        return {}

    def score_samples(self, samples: pl.DataFrame) -> tuple[dict[str, pl.Series], pl.Series]:
        """``(sample_columns, sample_reasons)``; override to compute both in one pass."""
        return self.sample_columns(samples), self.sample_reasons(samples)

    def apply(self, df: pl.DataFrame) -> StageOutput:
        df = self.prepare(df)
        flat = explode_samples(df, SAMPLE_CONTEXT)
        extra, reasons = self.score_samples(flat)
        if extra:
            flat = flat.with_columns([s.alias(n) for n, s in extra.items()])
        kept, rejects = reject_frame(flat, reasons)
        return self.finish_output(StageOutput(implode_samples(df, kept), sample_rejects=rejects))


@dataclass
class FunctionFilter(Filter):
    """A plain function ``fn(df) -> reasons`` used as a stage."""

    fn: Callable[[pl.DataFrame], pl.Series] = field(default=lambda df: pl.Series([None] * df.height))
    needs_: tuple[str, ...] = ()
    not_params: ClassVar[tuple[str, ...]] = ("label", "needs_")

    def columns_needed(self) -> tuple[str, ...]:
        return self.needs_

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        return self.fn(df)


@dataclass
class FunctionMap(Map):
    """A plain function ``fn(df) -> df`` used as a stage (must keep every row)."""

    fn: Callable[[pl.DataFrame], pl.DataFrame] = field(default=lambda df: df)
    needs_: tuple[str, ...] = ()
    adds_: tuple[str, ...] = ()
    not_params: ClassVar[tuple[str, ...]] = ("label", "needs_", "adds_")

    def columns_needed(self) -> tuple[str, ...]:
        return self.needs_

    def columns_added(self) -> tuple[str, ...]:
        return self.adds_

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        return self.fn(df)


def stage_needs(stage: Stage) -> tuple[str, ...]:
    """Declared input columns (``stage.columns_needed()``)."""
    return tuple(stage.columns_needed())


def stage_adds(stage: Stage) -> tuple[str, ...]:
    """Declared output columns (``stage.columns_added()``)."""
    return tuple(stage.columns_added())


def filter_stage(fn: Callable[[pl.DataFrame], pl.Series], name: str | None = None,
                 needs: tuple[str, ...] = ()) -> FunctionFilter:
    """Wrap ``fn(df) -> Series of reasons (null keeps)`` as a pipeline stage."""
    return FunctionFilter(fn=fn, label=name or fn.__name__, needs_=needs)


def map_stage(fn: Callable[[pl.DataFrame], pl.DataFrame], name: str | None = None,
              needs: tuple[str, ...] = (), adds: tuple[str, ...] = ()) -> FunctionMap:
    """Wrap ``fn(df) -> df`` as a pipeline stage."""
    return FunctionMap(fn=fn, label=name or fn.__name__, needs_=needs, adds_=adds)
