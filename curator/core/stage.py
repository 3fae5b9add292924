"""Stages: named, configured transformations of a problem table.

A contributor writes one method:

- ``Filter.reasons(df)``: a string Series, null = keep, text = the drop reason;
- ``SampleFilter.sample_reasons(samples)``: the same, one entry per generated sample;
- ``SampleMap.sample_columns(samples)``: new per-sample fields;
- ``Map.transform(df)``: new or changed row columns (never fewer rows);
- ``Stage.apply(df)`` for anything else (global stages: dedup, balancing, selection).

Stages are dataclasses: their fields are their parameters and go into the cache
fingerprint. ``plain callables`` become stages through :func:`filter_stage` / :func:`map_stage`.
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
    #: ``row`` stages see batches and shard freely; ``global`` stages see the whole table
    scope: ClassVar[Scope] = "row"
    #: rows per batch for row stages (generation raises it so requests overlap)
    batch_size: ClassVar[int] = 2048
    #: stages that create samples (generation) are exempt from the samples-conserved check
    produces_samples: ClassVar[bool] = False
    #: extra modules whose source counts as this stage's code (e.g. the verifier)
    code_modules: ClassVar[tuple[str, ...]] = ()
    #: fields that are not parameters (do not change the output)
    not_params: ClassVar[tuple[str, ...]] = ("label",)

    @property
    def name(self) -> str:
        """The stage's name in the funnel, the cache and ``--from``."""
        label = getattr(self, "label", None)
        return label or _snake(type(self).__name__)

    def setup(self, ctx: RunContext) -> None:  # noqa: B027 - optional hook
        """Load heavy resources once, before the first batch (models, benchmark indexes)."""

    def teardown(self) -> None:  # noqa: B027 - optional hook
        """Release what ``setup`` took."""

    def apply(self, df: pl.DataFrame) -> StageOutput | pl.DataFrame:
        """Transform a batch (row scope) or the whole table (global scope)."""
        raise NotImplementedError(f"{type(self).__name__} must implement apply()")

    def params(self) -> dict[str, Any]:
        """The parameters that go into the fingerprint."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in self.not_params}


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
        kept, rejects = reject_frame(df, self.reasons(df))
        return StageOutput(kept, rejects)


@dataclass
class Map(Stage):
    """Adds or rewrites row columns; never drops rows."""

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        raise NotImplementedError(f"{type(self).__name__} must implement transform()")

    def apply(self, df: pl.DataFrame) -> StageOutput:
        return StageOutput(self.transform(df))


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
        flat = explode_samples(df, SAMPLE_CONTEXT)
        new = self.sample_columns(flat)
        new_cols = new if isinstance(new, dict) else {c: new[c] for c in new.columns if c not in flat.columns}
        flat = flat.with_columns([s.alias(n) for n, s in new_cols.items()])
        return StageOutput(self.row_columns(implode_samples(df, flat)))


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

    def apply(self, df: pl.DataFrame) -> StageOutput:
        flat = explode_samples(df, SAMPLE_CONTEXT)
        extra = self.sample_columns(flat)
        if extra:
            flat = flat.with_columns([s.alias(n) for n, s in extra.items()])
        kept, rejects = reject_frame(flat, self.sample_reasons(flat))
        return StageOutput(implode_samples(df, kept), sample_rejects=rejects)


@dataclass
class FunctionFilter(Filter):
    """A plain function ``fn(df) -> reasons`` used as a stage."""

    fn: Callable[[pl.DataFrame], pl.Series] = field(default=lambda df: pl.Series([None] * df.height))
    label: str = "filter"
    needs_: tuple[str, ...] = ()
    not_params: ClassVar[tuple[str, ...]] = ("label", "needs_")

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        return self.fn(df)


@dataclass
class FunctionMap(Map):
    """A plain function ``fn(df) -> df`` used as a stage (must keep every row)."""

    fn: Callable[[pl.DataFrame], pl.DataFrame] = field(default=lambda df: df)
    label: str = "map"
    needs_: tuple[str, ...] = ()
    adds_: tuple[str, ...] = ()
    not_params: ClassVar[tuple[str, ...]] = ("label", "needs_", "adds_")

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        return self.fn(df)


def stage_needs(stage: Stage) -> tuple[str, ...]:
    """Declared input columns, including those given to function stages."""
    return tuple(getattr(stage, "needs_", ())) or stage.needs


def stage_adds(stage: Stage) -> tuple[str, ...]:
    """Declared output columns, including those given to function stages."""
    return tuple(getattr(stage, "adds_", ())) or stage.adds


def filter_stage(fn: Callable[[pl.DataFrame], pl.Series], name: str | None = None,
                 needs: tuple[str, ...] = ()) -> FunctionFilter:
    """Wrap ``fn(df) -> Series of reasons (null keeps)`` as a pipeline stage."""
    return FunctionFilter(fn=fn, label=name or fn.__name__, needs_=needs)


def map_stage(fn: Callable[[pl.DataFrame], pl.DataFrame], name: str | None = None,
              needs: tuple[str, ...] = (), adds: tuple[str, ...] = ()) -> FunctionMap:
    """Wrap ``fn(df) -> df`` as a pipeline stage."""
    return FunctionMap(fn=fn, label=name or fn.__name__, needs_=needs, adds_=adds)
