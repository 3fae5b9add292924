"""Curriculum splits: N training stages ordered from easy to hard.

Three shapes, all from one ordering of the table by ``difficulty``:

- ``disjoint``: stage k holds the k-th slice of difficulty (this project's 2-stage and 5-stage
  curricula: training split into difficulty subsets run in order);
- ``cumulative``: stage k holds slices 1..k (each stage adds harder problems to what came before);
- ``narrowing``: stage k holds slices k..N (each stage drops the easiest); with ``hardest_n`` this
  is Light-R1's "everything, then the hardest 3k".

One row per problem stays the rule of the table: ``split`` is the first stage a row enters and
``splits`` lists every stage that holds it (one entry when disjoint). :class:`CurriculumOutput`
and the exports write one file per stage from ``splits``, so a cumulative row appears in each
stage's file while the funnel counts it once.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal

import polars as pl

from curator.core.io import write_table
from curator.core.outputs import OutputFile
from curator.core.stage import Stage, StageOutput, reject_frame

Mode = Literal["disjoint", "cumulative", "narrowing"]


def stage_names(n_stages: int, names: Sequence[str] | None = None) -> list[str]:
    """``stage1`` .. ``stageN`` unless names are given (one per stage, easiest first)."""
    if n_stages < 1:
        raise ValueError(f"n_stages must be >= 1, got {n_stages}")
    if names:
        if len(names) != n_stages:
            raise ValueError(f"{n_stages} stages need {n_stages} names, got {list(names)}")
        return [str(n) for n in names]
    return [f"stage{i + 1}" for i in range(n_stages)]


def stage_index(df: pl.DataFrame, n_stages: int, edges: Sequence[float] | None = None) -> pl.Series:
    """0-based stage of each row by ``difficulty`` (null where difficulty is null).

    Without edges: equal-count slices by difficulty rank; rows with equal difficulty always share
    a stage (rank ``min``), so stages never overlap in difficulty. With edges: ``[e_i, e_i+1)``
    on difficulty, the last slice closed.
    """
    d = df["difficulty"].cast(pl.Float64)
    if edges is not None:
        edges = [float(e) for e in edges]
        if len(edges) != n_stages + 1:
            raise ValueError(f"{n_stages} stages need {n_stages + 1} difficulty edges, got {edges}")
        expr = pl.lit(0, dtype=pl.Int64)  # stage = number of inner edges <= difficulty
        for e in edges[1:-1]:
            expr = expr + (pl.col("difficulty") >= e).cast(pl.Int64)
        outside = (pl.col("difficulty") < edges[0]) | (pl.col("difficulty") > edges[-1])
        return df.select(pl.when(pl.col("difficulty").is_null() | outside).then(None).otherwise(expr)
                         .alias("stage"))["stage"]
    n_valid = int(d.is_not_null().sum())
    rank = d.rank("min") - 1  # 0-based; ties share the lowest rank
    idx = (rank * n_stages // max(n_valid, 1)).cast(pl.Int64).clip(0, n_stages - 1)
    return idx.alias("stage")


def assign_splits(df: pl.DataFrame, n_stages: int = 2, mode: Mode = "disjoint",
                  names: Sequence[str] | None = None, edges: Sequence[float] | None = None,
                  hardest_n: int | None = None) -> pl.DataFrame:
    """Add ``split`` (first stage holding the row) and ``splits`` (every stage holding it).

    ``hardest_n`` (Light-R1): two stages, all rows then the ``hardest_n`` most difficult
    (ties broken by ``id`` so the cut is deterministic). Rows without difficulty get null.
    """
    if hardest_n is not None:
        names = stage_names(2, names)
        order = df.select(pl.struct(pl.col("difficulty").cast(pl.Float64).fill_null(float("-inf")),
                                    pl.col("id")).rank("ordinal", descending=True) - 1)
        hard = (order.to_series() < hardest_n) & df["difficulty"].is_not_null()
        has = df["difficulty"].is_not_null()
        split = pl.when(has).then(pl.lit(names[0])).otherwise(None)
        splits = (pl.when(pl.Series(hard)).then(pl.lit(names)).when(has).then(pl.lit(names[:1]))
                  .otherwise(None))
        return df.with_columns(split.alias("split"), splits.alias("splits"))
    if mode not in ("disjoint", "cumulative", "narrowing"):
        raise ValueError(f"mode {mode!r}: use 'disjoint', 'cumulative' or 'narrowing'")
    names = stage_names(n_stages, names)
    tmp = df.with_columns(stage_index(df, n_stages, edges).alias("_stage"))
    stage = pl.col("_stage")
    if mode == "disjoint":
        lo, hi = stage, stage
    elif mode == "cumulative":  # stage k = slices 1..k: the row is in stages idx..N
        lo, hi = stage, pl.lit(n_stages - 1, dtype=pl.Int64)
    else:  # narrowing: stage k = slices k..N: the row is in stages 1..idx
        lo, hi = pl.lit(0, dtype=pl.Int64), stage
    members = pl.int_ranges(lo, hi + 1, dtype=pl.Int64)
    to_name = {"old": list(range(n_stages)), "new": names, "return_dtype": pl.String}
    out = tmp.with_columns(
        members.list.eval(pl.element().replace_strict(**to_name)).alias("splits"),
        (lo if mode != "narrowing" else pl.when(stage.is_not_null()).then(lo)).replace_strict(**to_name,
                                                                                          default=None)
        .alias("split"),
    )
    return out.drop("_stage")


def iter_splits(df: pl.DataFrame, column: str = "splits",
                order: Sequence[str] | None = None) -> Iterator[tuple[str, pl.DataFrame]]:
    """(name, rows) per split, from a list column (``splits``) or a string column (``split``).

    Splits come easiest first (by the lowest, then the highest difficulty they hold) unless
    ``order`` names them.
    """
    if column not in df.columns:
        raise ValueError(f"no column {column!r} to split by; run the Curriculum stage first or pick "
                         f"one of {df.columns}")
    is_list = isinstance(df.schema[column], pl.List)
    flat = df.select(pl.col(column), *(["difficulty"] if "difficulty" in df.columns else []))
    flat = flat.explode(column) if is_list else flat
    flat = flat.filter(pl.col(column).is_not_null())
    if "difficulty" in flat.columns:  # easy -> hard: by the easiest, then the hardest row a split holds
        ranks = flat.group_by(column).agg(pl.col("difficulty").min().alias("lo"), pl.col("difficulty").max().alias("hi"))
        values = ranks.sort("lo", "hi", column, nulls_last=True)[column].to_list()
    else:
        values = flat[column].unique(maintain_order=True).to_list()
    if is_list:
        select = lambda v: pl.col(column).list.contains(v)  # noqa: E731
    else:
        select = lambda v: pl.col(column) == v  # noqa: E731
    if order is not None:
        values = [v for v in order if v in values] + [v for v in values if v not in order]
    for value in values:
        yield str(value), df.filter(select(value))


def stage_report(df: pl.DataFrame, names: Sequence[str]) -> list[dict]:
    """Per stage: rows and difficulty / pass-rate range (the data card prints these)."""
    out = []
    for name, part in iter_splits(df, "splits", order=names):
        row = {"split": name, "rows": part.height,
               "difficulty_min": part["difficulty"].min(), "difficulty_max": part["difficulty"].max()}
        if "pass_rate" in part.columns:
            row["pass_rate_min"], row["pass_rate_max"] = part["pass_rate"].min(), part["pass_rate"].max()
        if "bin" in part.columns:
            row["bins"] = sorted(str(b) for b in part["bin"].unique().drop_nulls().to_list())
        out.append(row)
    return out


@dataclass
class Curriculum(Stage):
    """Write ``split`` and ``splits``: N stages easy -> hard (rows without difficulty are dropped)."""

    n_stages: int = 2  # this project's source material: 2-stage and 5-stage curricula
    mode: Mode = "disjoint"
    names: tuple[str, ...] | None = None
    edges: tuple[float, ...] | None = None  # difficulty edges; None = equal-count slices
    hardest_n: int | None = None  # Light-R1: everything, then the hardest 3,000

    needs: ClassVar[tuple[str, ...]] = ("difficulty",)
    adds: ClassVar[tuple[str, ...]] = ("split", "splits")
    scope: ClassVar = "global"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        reasons = df.select(pl.when(pl.col("difficulty").is_null()).then(pl.lit("no difficulty"))
                            .otherwise(None).alias("reason"))["reason"]
        kept, rejects = reject_frame(df, reasons)
        out = assign_splits(kept, self.n_stages, self.mode, self.names, self.edges, self.hardest_n)
        names = stage_names(2 if self.hardest_n is not None else self.n_stages, self.names)
        mode = "narrowing" if self.hardest_n is not None else self.mode
        info = {"mode": mode, "stages": stage_report(out, names)}
        return StageOutput(out, rejects, info=info)


@dataclass
class CurriculumOutput:
    """One file per curriculum stage, as named splits of one config (a row may be in several)."""

    column: str = "splits"
    config: str = "default"
    format: str = "parquet"
    order: tuple[str, ...] | None = None

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        files = []
        for split, part in iter_splits(df, self.column, self.order):
            rel = f"data/{self.config}/{split}.{self.format}"
            write_table(part, Path(out_dir) / rel)
            files.append(OutputFile(self.config, split, rel, part.height, self.format))
        return files
