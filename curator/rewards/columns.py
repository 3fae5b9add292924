"""Rule rewards as in DeepSeek-R1-Zero: accuracy and format, as per-sample columns.

An RL prompt pool states how its rollouts are graded; these two numbers are that statement:
``reward_accuracy`` = 1 when the final answer is equivalent to the gold (the same verifier as
``Verify``), ``reward_format`` = 1 when the reasoning sits in one closed ``<think>`` block
and the answer after it is boxed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from curator.answers.grading import MV_TIMEOUT_S, Options, grade
from curator.core.stage import SampleMap, StageOutput

_OPEN, _CLOSE = "<think>", "</think>"
_BOX = re.compile(r"\\(?:boxed|fbox)\s*\{\s*[^\s}]")

#: what the columns mean, recorded in the funnel so a data card can say how the pool is graded
REWARD_SPEC = {
    "reward_accuracy": "1.0 if the last \\boxed{} answer after the reasoning is equivalent to the gold "
                       "(curator.answers.grading.grade), 0.0 if not, null if the gold is ungradable",
    "reward_format": "1.0 if the response has exactly one <think>...</think> block with reasoning in it "
                     "and a non-empty \\boxed{} answer after it, else 0.0",
}


def format_reward(text: str | None, reasoning: str | None = None) -> float:
    """R1-Zero format reward: ``<think>`` present and closed once, then a boxed answer.

    ``reasoning`` is a provider's separate reasoning field: when given, ``text`` is the
    final part and only needs the box.

    >>> format_reward("<think>2+2=4</think> The answer is \\\\boxed{4}.")
    1.0
    >>> format_reward("<think>2+2=4 ... \\\\boxed{4}")
    0.0
    """
    if not text:
        return 0.0
    if reasoning and reasoning.strip() and _OPEN not in text:
        return 1.0 if _BOX.search(text) else 0.0
    if text.count(_OPEN) > 1 or text.count(_CLOSE) != 1:
        return 0.0
    head, _, final = text.partition(_CLOSE)
    thought = head.split(_OPEN, 1)[1] if _OPEN in head else head  # a template may open <think> itself
    if head.strip() and _OPEN in head and head.lstrip().index(_OPEN) != 0:
        return 0.0
    return 1.0 if thought.strip() and _BOX.search(final) else 0.0


def accuracy_reward(text: str | None, gold: str | None, kind: str = "math", *, options: Options = None,
                    timeout_s: int | None = MV_TIMEOUT_S) -> float | None:
    """R1-Zero accuracy reward: 1.0 / 0.0 from ``grade``; None when the gold can't be graded."""
    ok = grade(text, gold, kind, options=options, timeout_s=timeout_s)
    return None if ok is None else float(ok)


@dataclass
class Rewards(SampleMap):
    """Adds ``reward_accuracy`` (from ``samples.correct``, set by ``Verify``) and ``reward_format``."""


    needs: ClassVar[tuple[str, ...]] = ("samples.correct",)
    adds: ClassVar[tuple[str, ...]] = ("samples.reward_accuracy", "samples.reward_format")

    def sample_columns(self, samples: pl.DataFrame) -> dict[str, pl.Series]:
        acc = samples["correct"].cast(pl.Float64) if "correct" in samples.columns else pl.Series(
            [None] * samples.height, dtype=pl.Float64)
        texts = samples["text"].to_list() if "text" in samples.columns else [None] * samples.height
        reasoning = samples["reasoning"].to_list() if "reasoning" in samples.columns else [None] * samples.height
        fmt = [format_reward(t, _provider_reasoning(t, r)) for t, r in zip(texts, reasoning, strict=True)]
        return {"reward_accuracy": acc.alias("reward_accuracy"),
                "reward_format": pl.Series("reward_format", fmt, pl.Float64)}

    def report(self, out: StageOutput) -> dict[str, Any]:
        return {"rewards": REWARD_SPEC}


def _provider_reasoning(text: str | None, reasoning: str | None) -> str | None:
    """The reasoning counts as separate only when the text itself carries no think tags."""
    return reasoning if text is not None and _OPEN not in text and _CLOSE not in text else None
