"""Reward functions with TRL's ``GRPOTrainer`` signature.

TRL calls each function as ``f(prompts=..., completions=..., completion_ids=..., **columns)``
where ``columns`` are the dataset's other columns repeated per generation (plus
``trainer_state``, ``log_extra``, ``log_metric``), and logs its mean under the function's
``__name__``. Completions are strings, or, for conversational datasets, lists of message
dicts; both work here. ``None`` (an ungradable gold) becomes NaN in TRL, which it skips.

The columns read are the ones ``curator.publish.exports.GRPOPrompts`` writes: ``answer``
(else ``solution``), ``answer_kind``, ``options`` (JSON), ``language``. Weights go to
``GRPOConfig(reward_weights=...)``; :func:`reward_funcs` returns both lists.

    from curator.rewards import trl_reward
    funcs, weights = trl_reward.reward_funcs({"accuracy": 1.0, "format": 0.2})
    GRPOTrainer(model, reward_funcs=funcs, args=GRPOConfig(reward_weights=weights, ...), ...)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from curator.rewards.rules import (
    PARTS,
    answer_tag_format,
    check_weights,
    combine,
    completion_text,
    language_consistency,
    soft_overlong,
    think_format,
)
from curator.rewards.scoring import CODE, AnswerFormat, Target, grade_batch, score_batch, target_from

RewardFunc = Callable[..., list[float | None]]


def _column(kwargs: Mapping[str, Any], name: str, n: int) -> list[Any]:
    values = kwargs.get(name)
    return [None] * n if values is None else list(values)


def targets(n: int, kwargs: Mapping[str, Any], max_length: int | None = None) -> list[Target]:
    """One ``Target`` per completion from the dataset columns TRL passed."""
    golds = kwargs.get("answer", kwargs.get("solution"))
    if golds is None:
        raise ValueError("curator.rewards.trl_reward: the dataset has neither an `answer` nor a `solution` column; "
                         "export it with curator.publish.exports.GRPOPrompts or add the gold answers")
    cols = {c: _column(kwargs, c, n) for c in ("answer_kind", "options", "language", "max_response_length", "tests")}
    golds = [cols["tests"][i] if cols["answer_kind"][i] == CODE else golds[i] for i in range(n)]  # code: its tests
    return [target_from(golds[i], {"answer_kind": cols["answer_kind"][i], "options": cols["options"][i],
                                   "language": cols["language"][i],
                                   "max_response_length": max_length or cols["max_response_length"][i]})
            for i in range(n)]


def accuracy_reward(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """1.0 when the boxed final answer is equivalent to the gold (``grade``), 0.0 if not, None if ungradable."""
    texts = [completion_text(c) for c in completions]
    return [g.accuracy for g in grade_batch(texts, targets(len(texts), kwargs))]


def answer_tag_accuracy_reward(completions: Sequence[Any], **kwargs: Any) -> list[float | None]:
    """Accuracy of the answer inside ``<answer>...</answer>`` (R1-Zero's template)."""
    texts = [completion_text(c) for c in completions]
    return [g.accuracy for g in grade_batch(texts, targets(len(texts), kwargs), answer_format="answer_tag")]


def think_format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """R1-Zero format: one ``<think>`` block with reasoning, then a ``\\boxed{}`` answer."""
    return [think_format(completion_text(c)) for c in completions]


def answer_tag_format_reward(completions: Sequence[Any], **kwargs: Any) -> list[float]:
    """R1-Zero format with its own template: ``<think>...</think><answer>...</answer>``."""
    return [answer_tag_format(completion_text(c)) for c in completions]


def language_reward(completions: Sequence[Any], language: Sequence[str | None] | None = None,
                    **kwargs: Any) -> list[float | None]:
    """R1 language consistency: share of ``language`` words in the reasoning (None: no target)."""
    langs = list(language) if language is not None else [None] * len(completions)
    return [language_consistency(completion_text(c), t) for c, t in zip(completions, langs, strict=True)]


def soft_overlong_reward(max_length: int, cache_length: int | None = None) -> RewardFunc:
    """DAPO's soft overlong punishment over ``completion_ids`` lengths, with L_max / L_cache fixed."""

    def soft_overlong_reward(completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None = None,
                             **kwargs: Any) -> list[float]:
        if completion_ids is None:
            raise ValueError("soft_overlong_reward needs completion_ids (TRL passes them; give token ids)")
        return [soft_overlong(len(ids), max_length, cache_length) for ids in completion_ids]

    return soft_overlong_reward


def combined_reward(weights: Mapping[str, float] | None = None, *, answer_format: AnswerFormat = "boxed",
                    max_length: int | None = None, cache_length: int | None = None) -> RewardFunc:
    """One function returning the weighted sum of all parts (accuracy, format, language, overlong).

    ``max_length`` None: each row's ``max_response_length`` column (no column: no penalty).
    """
    w = check_weights(weights)

    def combined_reward(completions: Sequence[Any], completion_ids: Sequence[Sequence[int]] | None = None,
                        **kwargs: Any) -> list[float]:
        texts = [completion_text(c) for c in completions]
        lengths = [len(ids) for ids in completion_ids] if completion_ids is not None else None
        parts = score_batch(texts, targets(len(texts), kwargs, max_length), lengths=lengths,
                            answer_format=answer_format, cache_length=cache_length)
        return [combine(p, w) for p in parts]

    return combined_reward


def reward_funcs(weights: Mapping[str, float] | None = None, *, answer_format: AnswerFormat = "boxed",
                 max_length: int | None = None, cache_length: int | None = None
                 ) -> tuple[list[RewardFunc], list[float]]:
    """(reward_funcs, reward_weights) for ``GRPOTrainer`` / ``GRPOConfig``, one function per
    weighted part so TRL logs each; ``overlong`` needs ``max_length``."""
    w = check_weights(weights)
    acc = answer_tag_accuracy_reward if answer_format == "answer_tag" else accuracy_reward
    fmt = answer_tag_format_reward if answer_format == "answer_tag" else think_format_reward
    by_part: dict[str, RewardFunc] = {"accuracy": acc, "format": fmt, "language": language_reward}
    if w["overlong"]:
        if not max_length:
            raise ValueError("reward_funcs: an overlong weight needs max_length (L_max, in tokens)")
        by_part["overlong"] = soft_overlong_reward(max_length, cache_length)
    chosen = [p for p in PARTS if w[p]]
    return [by_part[p] for p in chosen], [w[p] for p in chosen]
