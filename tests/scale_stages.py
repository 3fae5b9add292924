"""Small stages and comparison helpers shared by the scale-out tests (test_executors_*, test_streaming).

They prove the executors independently of the real filters: a batch-size-sensitive Filter, a
SampleMap, and a global dedup-like stage whose result depends on row order.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import Filter, Map, SampleMap, Stage, StageOutput


@dataclass
class NotTooLong(Filter):
    max_chars: int = 300
    log: str = ""  # a file each apply() appends its rows' ids to (resume tests); not a parameter
    batch_size: ClassVar[int] = 5  # several batches per shard
    needs: ClassVar[tuple[str, ...]] = ("problem",)
    not_params: ClassVar[tuple[str, ...]] = ("label", "log")

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        if self.log:
            with open(self.log, "a") as fh:
                fh.write("".join(f"{i}\n" for i in df["id"]))
        return pl.Series([None if len(p) <= self.max_chars else "too long" for p in df["problem"]], dtype=pl.String)


@dataclass
class ProblemLength(Map):
    needs: ClassVar[tuple[str, ...]] = ("problem",)
    adds: ClassVar[tuple[str, ...]] = ("problem_chars",)

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        return df.with_columns(pl.col("problem").str.len_chars().alias("problem_chars"))


@dataclass
class SampleChars(SampleMap):
    needs: ClassVar[tuple[str, ...]] = ("samples",)
    adds: ClassVar[tuple[str, ...]] = ("samples.chars",)

    def sample_columns(self, samples: pl.DataFrame) -> dict[str, pl.Series]:
        return {"chars": samples["text"].str.len_chars().fill_null(0)}


@dataclass
class FirstPerBucket(Stage):
    """Global, order-sensitive: keeps the first row of each problem-length bucket."""

    width: int = 25
    scope: ClassVar[str] = "global"
    needs: ClassVar[tuple[str, ...]] = ("problem_chars",)
    reads: ClassVar[tuple[str, ...]] = ()
    adds: ClassVar[tuple[str, ...]] = ("bucket",)

    def apply(self, df: pl.DataFrame) -> StageOutput:
        df = df.with_columns((pl.col("problem_chars") // self.width).alias("bucket"))
        first = df["bucket"].is_first_distinct()
        rejects = df.filter(~first).with_columns(pl.lit("same bucket").alias("reason"))
        return StageOutput(df.filter(first), rejects, info={"buckets": int(first.sum())})


@dataclass
class LongestFirst(Stage):
    """Global, reorders rows (like a selection): the stage's order must survive the column join."""

    scope: ClassVar[str] = "global"
    needs: ClassVar[tuple[str, ...]] = ("problem_chars",)

    def apply(self, df: pl.DataFrame) -> StageOutput:
        return StageOutput(df.sort("problem_chars", descending=True, maintain_order=True))


def _drop_timings(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_timings(v) for k, v in value.items() if not k.endswith("seconds") and k != "cached"}
    return value


def funnel(out: Path) -> list[dict[str, Any]]:
    """funnel.json without wall-clock fields (seconds, cached)."""
    return [_drop_timings(s) for s in json.loads((out / "funnel.json").read_text())["stages"]]


def assert_same_build(a: Path, b: Path) -> None:
    """Two output dirs hold the same build: rows (any order), funnel, fingerprints, rejects."""
    ta, tb = pl.read_parquet(a / "data/default/train.parquet"), pl.read_parquet(b / "data/default/train.parquet")
    assert ta.columns == tb.columns
    assert ta.sort("id").equals(tb.sort("id")), "final rows differ"
    assert funnel(a) == funnel(b)
    ra, rb = json.loads((a / "run.json").read_text()), json.loads((b / "run.json").read_text())
    assert ra["fingerprints"] == rb["fingerprints"] and ra["outputs"] == rb["outputs"]
    rej_a = sorted(p.name for p in (a / "rejects").glob("*.parquet")) if (a / "rejects").exists() else []
    rej_b = sorted(p.name for p in (b / "rejects").glob("*.parquet")) if (b / "rejects").exists() else []
    assert rej_a == rej_b
    for name in rej_a:
        x, y = pl.read_parquet(a / "rejects" / name), pl.read_parquet(b / "rejects" / name)
        key = ["id", "sample_idx"] if "sample_idx" in x.columns else ["id"]
        assert x.sort(key).equals(y.sort(key)), f"rejects {name} differ"


def logged_ids(path: Path) -> list[str]:
    return path.read_text().split() if os.path.exists(path) else []
