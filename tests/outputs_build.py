"""A small real build for the card / hub / inspect tests: a Pipeline over a constructed table.

The table has what a full recipe produces (samples with reasoning and token counts,
pass@k, maj@k, difficulty, bin, curriculum split, language, lang_ratio, licenses in
``meta``) without running a model, and the stages drop rows and samples for several
reasons, so every section of the card has something to show and to check.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from curator import Map, Pipeline, SampleFilter, SplitOutput, Stage, StageOutput, TableOutput, filter_stage

BENCHMARK = {"What is the sum of the first 10 positive integers?"}


@dataclass
class FixedBackend:
    """Stands in for a generation backend's identity (the card reads identities, not models)."""

    model: str = "HuggingFaceTB/SmolLM2-135M-Instruct"

    def identity(self) -> dict[str, Any]:
        return {"model": self.model, "kind": "embedded", "chat_format": "chatml"}


@dataclass
class Probe(Map):
    """The probe stage as the card sees it: a backend and sampling parameters in run.json."""

    role = "probe"  # the card lists its model as a probe
    backend: FixedBackend = field(default_factory=FixedBackend)
    k: int = 4
    temperature: float = 1.0
    max_tokens: int = 512

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        return df


def too_easy(df: pl.DataFrame) -> pl.Series:
    return pl.Series([("solved by every sample" if d == 0 else None) for d in df["difficulty"]], dtype=pl.String)


@dataclass
class Dedup(Stage):
    scope = "global"
    adds = ("dup_group",)
    role = "dedup"  # the card's deduplication section reports it

    def apply(self, df: pl.DataFrame) -> StageOutput:
        key = df["problem"].str.to_lowercase().str.replace_all(r"\s+", "")
        df = df.with_columns(key.rank("dense").cast(pl.Int64).alias("dup_group"))
        first = key.is_first_distinct()
        return StageOutput(df.filter(first), df.filter(~first).with_columns(pl.lit("exact duplicate").alias("reason")),
                           info={"method": "exact match", "normalisation": "lowercase, no whitespace"})


@dataclass
class Decontaminate(Stage):
    scope = "global"
    role = "decontamination"
    ngram: int = 8

    def apply(self, df: pl.DataFrame) -> StageOutput:
        hit = df["problem"].is_in(list(BENCHMARK))
        rej = df.filter(hit).with_columns(pl.lit("sample_benchmark").alias("contaminated_by"),
                                          pl.lit("benchmark overlap").alias("reason"))
        n = rej.height  # the report has the shape filters.decontaminate gives it
        report = {"ngram": self.ngram, "rule": f"word {self.ngram}-gram overlap", "benchmarks": {"sample_benchmark": {
            "items": len(BENCHMARK), "items_matched": n, "rows_matched": n, "by_rule": {"ngram": n, "exact": 0}}}}
        return StageOutput(df.filter(~hit), rej, info={"decontamination": report})


@dataclass
class LanguageConsistency(SampleFilter):
    role = "language"
    min_ratio: float = 0.9

    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        return pl.Series([None if r >= self.min_ratio else "mixed languages in reasoning" for r in samples["lang_ratio"]],
                         dtype=pl.String)


def demo_table(n: int = 40, licensed: bool = True) -> pl.DataFrame:
    """``n`` problems (plus one duplicate and one benchmark item) with 4 samples each."""
    rows = []
    problems = [f"Compute {i} + {i * 3} and explain each step." for i in range(n)]
    problems += [problems[3].upper(), next(iter(BENCHMARK))]
    for i, problem in enumerate(problems):
        lang = "zh" if i % 5 == 0 else "en"
        correct = [j < (i % 5) for j in range(4)]  # 0..4 of 4 correct
        samples = []
        for j, ok in enumerate(correct):
            words = 20 + 7 * i + 11 * j
            samples.append({
                "text": f"<think>{'step ' * words}</think> The answer is \\boxed{{{4 * i}}}",
                "reasoning": "step " * words, "final": f"The answer is \\boxed{{{4 * i}}}",
                "extracted": str(4 * i if ok else 4 * i + 1), "correct": ok, "finish_reason": "stop",
                "status": "ok", "error": None, "prompt_tokens": 30, "completion_tokens": words + 12,
                "model": "HuggingFaceTB/SmolLM2-135M-Instruct", "seed": j,
                "lang_ratio": 0.5 if (i % 7 == 1 and j == 0) else 1.0,
            })
        c = sum(correct)
        difficulty = 1 - c / 4
        meta = {"license": "Apache-2.0" if i % 2 else "MIT"} if licensed else {}
        rows.append({
            "problem": problem, "answer": str(4 * i), "source": "demo/" + ("even" if i % 2 == 0 else "odd"),
            "domain": "arithmetic", "language": lang, "meta": json.dumps(meta) if meta else None,
            "samples": samples, "n_samples": 4, "n_correct": c, "pass_rate": c / 4,
            "pass_at_1": c / 4, "pass_at_4": 1.0 if c else 0.0, "maj_correct": c >= 3,
            "difficulty": difficulty, "bin": "easy" if difficulty < 0.5 else "hard",
            "split": "stage1_easy" if difficulty < 0.5 else "stage2_hard",
        })
    return pl.DataFrame(rows)


def demo_pipeline(df: pl.DataFrame | None = None, name: str = "demo_set") -> Pipeline:
    return Pipeline(
        name=name,
        source=demo_table() if df is None else df,
        description="A constructed reasoning set used to test the data card.",
        stages=[Probe(), filter_stage(too_easy, needs=("difficulty",)), Dedup(), Decontaminate(),
                LanguageConsistency()],
        outputs=[SplitOutput(column="split"), TableOutput(config="all", split="train")],
    )


def build_demo(out_dir: Path, df: pl.DataFrame | None = None) -> Path:
    """Run the demo pipeline into ``out_dir`` (the card is written by the build itself)."""
    demo_pipeline(df).run(out_dir, quiet=True, command="curator build demo.py --out demo")
    return out_dir
