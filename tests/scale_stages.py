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


# -- sample stages over a Parquet file in bounded memory (test_streaming, test_executors_ray) ---------
def long_chains() -> pl.DataFrame:
    """Problems with long chains for the streamed sample stages: correct, wrong, truncated,
    mixed-language, looping, failed."""
    from curator.core.table import SAMPLES_DTYPE, conform

    blank = dict.fromkeys(SAMPLES_DTYPE.inner.to_schema())
    step_en = "We compute the product of {a} and {b} and then subtract {c} to get the value.\n"
    step_zh = "我们先计算{a}乘以{b}，再减去{c}，得到结果。\n"
    rows, golds, langs = [], [], []
    for i in range(23):
        a, b, c = i + 2, i % 5 + 3, i % 4
        gold = str(a * b - c)
        zh = i % 3 == 0
        step = (step_zh if zh else step_en).format(a=a, b=b, c=c)
        body = step * (20 + i)
        final = f"答案是 $\\boxed{{{gold}}}$。" if zh else f"So the answer is $\\boxed{{{gold}}}$."
        chains = [
            {"text": f"<think>{body}</think>{final}", "reasoning": body, "final": final, "finish_reason": "stop"},
            {"text": f"<think>{body}</think>\\boxed{{{int(gold) + 1}}}", "finish_reason": "stop"},
            {"text": f"<think>{body}", "finish_reason": "length", "status": "truncated"},
            {"text": f"<think>{body}Let me double check this step again in English now.{body}</think>{final}"
             if zh else f"<think>{body}我们再检查一遍这个步骤的计算。{body}</think>{final}", "finish_reason": "stop"},
            {"text": f"<think>{'Let me reconsider whether the sum is correct here.' * 60}</think>{final}"},
            {"text": None, "status": "failed"},
        ]
        rows.append([{**blank, "status": "ok", **s} for s in chains[: 3 + i % 4]])
        golds.append(gold if i != 7 else None)
        langs.append(None if i % 5 == 0 else ("zh" if zh else "en"))
    df = conform(pl.DataFrame({"problem": [f"Problem {i}: compute it." if langs[i] != "zh" else f"第{i}题：计算。"
                                           for i in range(len(golds))], "answer": golds, "language": langs}))
    return df.with_columns(pl.Series("samples", rows, dtype=SAMPLES_DTYPE))


def sample_row_stages() -> list:
    from curator.answers.verify import Verify
    from curator.selection.rejection_sampling import RejectionSample
    from filters.language import LanguageConsistency
    from filters.readability import Readability

    return [Verify(workers=0), Readability(workers=2), LanguageConsistency(workers=2),
            RejectionSample(policy="random", max_per_problem=1, seed=3)]
