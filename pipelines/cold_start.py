"""DeepSeek-R1 cold start: a few thousand readable, verified long-CoT samples.

(Foundation version: load -> exact dedup -> write. The generation, verification,
readability, language and selection stages join as they land.)
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from curator import InputParams, Pipeline, filter_stage


def exact_duplicates(df: pl.DataFrame) -> pl.Series:
    key = df["problem"].str.to_lowercase().str.replace_all(r"\s+", "")
    first = key.is_first_distinct()
    return pl.Series("reason", [None if f else "exact duplicate" for f in first], dtype=pl.String)


@dataclass
class Params(InputParams):
    pass


def build(p: Params) -> Pipeline:
    return Pipeline(
        name="cold_start",
        source=p.reader(),
        stages=[filter_stage(exact_duplicates, needs=("problem",))],
    )
