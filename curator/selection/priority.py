"""Kimi k1.5's prioritized sampling as a column: ``sampling_weight = max(1 - pass_rate, floor)``.

Kimi k1.5 tracks each problem's success rate s_i during RL and samples it with probability
proportional to 1 - s_i, so solved problems stop taking rollouts. The pass rates a pool was
chosen by are the first estimate of s_i; the exports carry the weight (verl ``extra_info``,
a TRL column) and ``curator.analysis.verl_sampler.PrioritizedSampler`` samples by it and
updates it from the rewards it sees. The floor keeps a solved problem reachable (Kimi gives
none; 0.05 is this project's default, a parameter).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from curator.core.stage import Map

#: the weight column the exports and the verl sampler read
WEIGHT_COLUMN = "sampling_weight"


def priority_weights(pass_rate: pl.Series, floor: float = 0.05) -> pl.Series:
    """``max(1 - pass_rate, floor)``; an unknown pass rate gets weight 1 (nothing solved it yet).

    >>> priority_weights(pl.Series([0.0, 0.75, 1.0, None]), floor=0.1).to_list()
    [1.0, 0.25, 0.1, 1.0]
    """
    if not 0.0 <= floor <= 1.0:
        raise ValueError(f"priority floor must be in [0, 1], got {floor}")
    rate = pass_rate.cast(pl.Float64)
    weight = (1.0 - rate).clip(lower_bound=floor).fill_null(1.0).fill_nan(1.0)
    return weight.alias(WEIGHT_COLUMN)


@dataclass
class PriorityWeights(Map):
    """Adds ``sampling_weight`` from ``pass_rate`` (Kimi k1.5 prioritized sampling)."""

    floor: float = 0.05  # smallest weight, so a solved problem is still drawn now and then (unconfirmed)

    needs: ClassVar[tuple[str, ...]] = ("pass_rate",)
    adds: ClassVar[tuple[str, ...]] = (WEIGHT_COLUMN,)

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(priority_weights(df["pass_rate"], self.floor))
