"""Difficulty from pass rates: a ``difficulty`` score in [0, 1] and a ``bin`` label per problem.

Difficulty is ``1 - pass_rate`` over k samples of a probe model (Kimi k1.5, Skywork-OR1), or an
external score column (e.g. a 1-10 rating) rescaled to [0, 1]. Bins come from fixed edges, from
quantiles of the table, or from named levels. Problems with 0/k and k/k correct get their own
labels (``unsolved``, ``saturated``) because they teach an RL policy nothing (DAPO dynamic
sampling) and Skywork-OR1 drops both.

Everything here is a pure function over polars columns; :class:`Difficulty` is the stage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import ClassVar, Literal

import polars as pl

from curator.core.stage import Stage, StageOutput, reject_frame

UNSOLVED = "unsolved"  # 0/k correct
SATURATED = "saturated"  # k/k correct
UNRATED = "unrated"  # no gradable sample and no external score

#: pass-rate edges used when none are given: five equal bins (this project's 5-stage curriculum)
DEFAULT_EDGES: tuple[float, ...] = (0.0, 0.2, 0.4, 0.6, 0.8, 1.0)
#: named levels on difficulty (= 1 - pass rate): Kimi k1.5 names easy/medium/hard without
#: thresholds, so these thirds are this project's choice (unconfirmed), configurable.
DEFAULT_LEVELS: tuple[str, ...] = ("easy", "medium", "hard")
DEFAULT_LEVEL_EDGES: tuple[float, ...] = (0.0, 1 / 3, 2 / 3, 1.0)


def pass_rate_columns(df: pl.DataFrame) -> pl.DataFrame:
    """Add ``n_samples``, ``n_correct``, ``pass_rate`` from ``samples.correct`` where absent.

    The verify stage normally adds them; ungradable samples (``correct`` null) count in neither.
    """
    if "pass_rate" in df.columns:
        return df
    correct = pl.col("samples").list.eval(pl.element().struct.field("correct"))
    n = correct.list.eval(pl.element().is_not_null().cast(pl.Int64)).list.sum()
    c = correct.list.eval(pl.element().fill_null(False).cast(pl.Int64)).list.sum()
    df = df.with_columns(n.alias("n_samples"), c.alias("n_correct"))
    rate = pl.when(pl.col("n_samples") > 0).then(pl.col("n_correct") / pl.col("n_samples"))
    return df.with_columns(rate.otherwise(None).cast(pl.Float64).alias("pass_rate"))


def difficulty_expr(score_column: str | None = None, score_range: tuple[float, float] = (1.0, 10.0),
                    higher_is_harder: bool = True) -> pl.Expr:
    """``1 - pass_rate``, or an external score rescaled linearly from ``score_range`` to [0, 1]."""
    if score_column is None:
        return (1.0 - pl.col("pass_rate").cast(pl.Float64)).alias("difficulty")
    lo, hi = score_range
    if hi <= lo:
        raise ValueError(f"score_range {score_range} must be (low, high) with low < high")
    scaled = ((pl.col(score_column).cast(pl.Float64) - lo) / (hi - lo)).clip(0.0, 1.0)
    return (scaled if higher_is_harder else 1.0 - scaled).alias("difficulty")


def edge_labels(edges: Sequence[float]) -> list[str]:
    """``[0, 0.2, 0.4]`` -> ``["0-0.2", "0.2-0.4"]``."""
    return [f"{lo:g}-{hi:g}" for lo, hi in zip(edges[:-1], edges[1:], strict=True)]


def bin_expr(column: str, edges: Sequence[float], labels: Sequence[str] | None = None) -> pl.Expr:
    """Label of the bin ``[edges[i], edges[i+1])`` holding each value; the last bin is closed.

    Values outside the edges and nulls get a null label.

    >>> df = pl.DataFrame({"p": [0.0, 0.2, 0.5, 1.0, None]})
    >>> df.select(bin_expr("p", [0, 0.5, 1]))["bin"].to_list()
    ['0-0.5', '0-0.5', '0.5-1', '0.5-1', None]
    """
    edges = [float(e) for e in edges]
    if len(edges) < 2 or any(b <= a for a, b in zip(edges[:-1], edges[1:], strict=True)):
        raise ValueError(f"bin edges must be at least two strictly increasing numbers, got {edges}")
    labels = list(labels) if labels is not None else edge_labels(edges)
    if len(labels) != len(edges) - 1:
        raise ValueError(f"{len(edges) - 1} bins need {len(edges) - 1} labels, got {len(labels)}: {labels}")
    x = pl.col(column)
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    last = len(labels) - 1
    for i in range(last, -1, -1):  # build the when-chain from the last bin backwards
        lo, hi = edges[i], edges[i + 1]
        inside = (x >= lo) & ((x <= hi) if i == last else (x < hi))
        expr = pl.when(inside).then(pl.lit(labels[i])).otherwise(expr)
    return expr.alias("bin")


def quantile_edges(values: pl.Series, n_bins: int) -> list[float]:
    """Edges at the quantiles of ``values`` (nulls ignored); tied quantiles are merged."""
    if n_bins < 1:
        raise ValueError(f"n_bins must be >= 1, got {n_bins}")
    v = values.drop_nulls().cast(pl.Float64)
    if v.len() == 0:
        return [0.0, 1.0]
    qs = [v.quantile(i / n_bins, interpolation="linear") for i in range(n_bins + 1)]
    edges: list[float] = []
    for q in qs:
        if not edges or q > edges[-1]:
            edges.append(float(q))
    if len(edges) == 1:
        edges.append(edges[0] + 1e-12)
    return edges


def extremes_expr(enabled: bool = True) -> pl.Expr:
    """``unsolved`` for 0/k, ``saturated`` for k/k, else null (rows without any score: ``unrated``)."""
    if not enabled:
        return pl.lit(None, dtype=pl.String)
    p = pl.col("pass_rate")
    return (pl.when(p <= 0.0).then(pl.lit(UNSOLVED))
            .when(p >= 1.0).then(pl.lit(SATURATED))
            .otherwise(pl.lit(None, dtype=pl.String)))


Method = Literal["fixed", "quantile", "levels"]


def assign_bins(df: pl.DataFrame, method: Method = "fixed", on: str = "pass_rate",
                edges: Sequence[float] = DEFAULT_EDGES, n_quantiles: int = 4,
                levels: Sequence[str] = DEFAULT_LEVELS, level_edges: Sequence[float] = DEFAULT_LEVEL_EDGES,
                label_extremes: bool = True) -> tuple[pl.DataFrame, dict]:
    """Add ``bin`` to a table that has ``difficulty`` (and ``pass_rate``); return it and the edges used.

    ``fixed`` cuts ``on`` (``pass_rate`` or ``difficulty``) at ``edges``; ``quantile`` cuts
    ``difficulty`` at its quantiles into ``q1`` (easiest) .. ``qN``; ``levels`` cuts
    ``difficulty`` at ``level_edges`` into named levels. With ``label_extremes`` the 0/k, k/k and
    ungraded rows get ``unsolved`` / ``saturated`` / ``unrated`` instead, and quantiles are taken
    over the remaining rows only.
    """
    extremes = extremes_expr(label_extremes and "pass_rate" in df.columns)
    if method == "fixed":
        if on not in df.columns:
            raise ValueError(f"bin on {on!r}: the table has no such column; run verify (pass_rate) first")
        used, labels, col = list(edges), edge_labels(edges), on
    elif method == "quantile":
        mid = df.lazy().with_columns(extremes.alias("_x")).filter(pl.col("_x").is_null()).collect()
        # unrated rows have a null difficulty and are ignored by the quantiles
        used = quantile_edges(mid["difficulty"], n_quantiles)
        labels, col = [f"q{i + 1}" for i in range(len(used) - 1)], "difficulty"
    elif method == "levels":
        used, labels, col = list(level_edges), list(levels), "difficulty"
    else:
        raise ValueError(f"method {method!r}: use 'fixed', 'quantile' or 'levels'")
    binned = bin_expr(col, used, labels)
    df = df.with_columns(pl.coalesce(extremes, binned, pl.lit(UNRATED)).alias("bin"))
    return df, {"method": method, "on": col, "edges": used, "labels": labels}


def bin_report(df: pl.DataFrame) -> list[dict]:
    """Per bin: rows and the difficulty range it holds (for the funnel and the data card)."""
    if df.height == 0:
        return []
    g = (df.group_by("bin").agg(pl.len().alias("rows"), pl.col("difficulty").min().alias("difficulty_min"),
                                pl.col("difficulty").max().alias("difficulty_max"))
         .sort("difficulty_min", "bin", nulls_last=True))
    return g.to_dicts()


@dataclass
class Difficulty(Stage):
    """Add ``difficulty`` and ``bin``; optionally drop 0/k (``unsolved``) and k/k (``saturated``).

    Global: quantile bins need the whole table. Drops go to the rejects with their label as
    reason, so the card shows how many problems were too easy or too hard for the probe.
    """

    method: Method = "fixed"
    on: str = "pass_rate"  # what fixed edges cut: pass_rate or difficulty
    edges: tuple[float, ...] = DEFAULT_EDGES  # five equal pass-rate bins (5-stage curriculum)
    n_quantiles: int = 4
    levels: tuple[str, ...] = DEFAULT_LEVELS  # Kimi k1.5 easy/medium/hard
    level_edges: tuple[float, ...] = DEFAULT_LEVEL_EDGES  # thirds of difficulty (unconfirmed)
    label_extremes: bool = True
    drop_unsolved: bool = False  # Skywork-OR1 and DAPO drop 0/k
    drop_saturated: bool = False  # Skywork-OR1 and DAPO drop k/k
    drop_unrated: bool = False
    score_column: str | None = None  # external rating instead of 1 - pass_rate
    score_range: tuple[float, float] = (1.0, 10.0)
    higher_is_harder: bool = True

    needs: ClassVar[tuple[str, ...]] = ("samples",)
    adds: ClassVar[tuple[str, ...]] = ("n_samples", "n_correct", "pass_rate", "difficulty", "bin")
    scope: ClassVar = "global"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        df = pass_rate_columns(df) if "samples" in df.columns or "pass_rate" in df.columns else df
        if self.score_column is not None and self.score_column not in df.columns:
            raise ValueError(f"score_column {self.score_column!r} is not a column; columns are {df.columns}")
        df = df.with_columns(difficulty_expr(self.score_column, self.score_range, self.higher_is_harder))
        df, used = assign_bins(df, self.method, self.on, self.edges, self.n_quantiles, self.levels,
                               self.level_edges, self.label_extremes)
        drop = {UNSOLVED: self.drop_unsolved, SATURATED: self.drop_saturated, UNRATED: self.drop_unrated}
        dropped = [label for label, yes in drop.items() if yes]
        reasons = df.select(pl.when(pl.col("bin").is_in(dropped)).then(pl.col("bin"))
                            .otherwise(None).alias("reason"))["reason"]
        kept, rejects = reject_frame(df, reasons)
        info = {"binning": used, "bins": bin_report(df), "dropped_labels": dropped}
        return StageOutput(kept, rejects, info=info)
