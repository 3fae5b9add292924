"""The reward rules an RL trainer adds up, as pure functions of one completion.

Accuracy is not here: it needs the verifier and its time limit, so it lives in
``curator.rewards.batch`` (``grade`` through the verify pool). These are the cheap parts:

- R1-Zero format: reasoning in ``<think>...</think>``, then a boxed answer
  (``curator.rewards.columns.format_reward``) or, in R1-Zero's own template, the answer in
  ``<answer>...</answer>``.
- R1 language consistency: the share of target-language words in the chain of thought,
  the same ratio as ``filters.language`` (continuous, 0..1).
- DAPO soft overlong punishment: 0 up to ``L_max - L_cache`` tokens, then linear down to -1
  at ``L_max``, -1 beyond.
- A weighted sum of the parts.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from curator.rewards.columns import format_reward
from filters.language import target_language_ratio

#: the parts a combined reward adds up, in the order trainers log them
PARTS = ("accuracy", "format", "language", "overlong")
#: R1 sums accuracy and language consistency unweighted; format and the overlong penalty are
#: opt-in here (DAPO uses the penalty, R1-Zero the format reward; neither publishes weights)
DEFAULT_WEIGHTS: dict[str, float] = {"accuracy": 1.0, "format": 0.0, "language": 0.0, "overlong": 0.0}

_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.S)
_ANSWER_TAG_FORMAT = re.compile(r"^\s*(?:<think>)?(?P<think>.*?)</think>\s*<answer>(?P<answer>.*?)</answer>\s*$", re.S)


def completion_text(completion: Any) -> str:
    """The text of one completion as TRL passes it: a string, or a list of message dicts.

    >>> completion_text([{"role": "assistant", "content": "hi"}])
    'hi'
    """
    if completion is None:
        return ""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Mapping):
        return str(completion.get("content") or "")
    if isinstance(completion, Sequence):  # conversational: the assistant turns of the completion
        turns = [m for m in completion if isinstance(m, Mapping)]
        said = [str(m.get("content") or "") for m in turns if m.get("role", "assistant") == "assistant"]
        return "\n".join(said) if said else "\n".join(str(m.get("content") or "") for m in turns)
    raise TypeError(f"a completion must be a string or a list of message dicts, got {type(completion).__name__}")


def reasoning_part(text: str) -> str:
    """The chain of thought: the text before ``</think>`` (without ``<think>``), else all of it."""
    if "</think>" in text:
        head = text.rpartition("</think>")[0]
        return head.split("<think>", 1)[1] if "<think>" in head else head
    if "<think>" in text:
        return text.split("<think>", 1)[1]  # truncated: the whole tail is reasoning
    return text


def think_format(text: str) -> float:
    """R1-Zero format, boxed variant: one closed ``<think>`` block with reasoning, then ``\\boxed{}``.

    >>> think_format("<think>2+2</think> \\\\boxed{4}"), think_format("\\\\boxed{4}")
    (1.0, 0.0)
    """
    return format_reward(text)


def answer_tag_format(text: str) -> float:
    """R1-Zero format, its own template: ``<think>reasoning</think> <answer>answer</answer>``.

    >>> answer_tag_format("<think>2+2</think>\\n<answer>4</answer>"), answer_tag_format("<answer>4</answer>")
    (1.0, 0.0)
    """
    m = _ANSWER_TAG_FORMAT.match(text or "")
    if not m or "<think>" in m.group("think") or "<answer>" in m.group("answer"):
        return 0.0
    return 1.0 if m.group("think").strip() and m.group("answer").strip() else 0.0


def answer_tag_response(text: str) -> str | None:
    """What to grade under R1-Zero's template: the last ``<answer>`` content, boxed when bare.

    The grader reads boxed answers; a bare ``<answer>4</answer>`` is the same statement.

    >>> answer_tag_response("<think>..</think><answer> 4 </answer>")
    '\\\\boxed{4}'
    """
    found = _ANSWER_TAG.findall(text.rpartition("</think>")[2] if "</think>" in text else text)
    if not found or not found[-1].strip():
        return None
    inner = found[-1].strip()
    return inner if "\\boxed" in inner or "\\fbox" in inner else f"\\boxed{{{inner}}}"


def language_consistency(text: str, target: str | None) -> float | None:
    """R1's language reward: target-language words / all words of the reasoning (None: no target).

    The ratio is ``filters.language.target_language_ratio``, the one the curation filter uses.

    >>> language_consistency("<think>所以 answer is 2</think> \\\\boxed{2}", "zh")
    0.5
    """
    if not target:
        return None
    return target_language_ratio(reasoning_part(text or ""), target)


def soft_overlong(length: int | None, max_length: int | None, cache_length: int | None = None) -> float:
    """DAPO's soft overlong punishment for a response of ``length`` tokens.

    0 if length <= L_max - L_cache; (L_max - L_cache - length) / L_cache up to L_max; -1 beyond.
    ``cache_length`` None: a fifth of ``max_length`` (DAPO: L_cache 4096 of L_max 20480).
    Unknown length or no ``max_length``: 0 (nothing to punish).

    >>> soft_overlong(100, 1000, 200), soft_overlong(900, 1000, 200), soft_overlong(1001, 1000, 200)
    (0.0, -0.5, -1.0)
    """
    if length is None or not max_length:
        return 0.0
    cache = max_length // 5 if cache_length is None else cache_length
    if cache < 0 or cache > max_length:
        raise ValueError(f"soft_overlong: cache_length must be in [0, max_length={max_length}], got {cache}")
    if length > max_length:
        return -1.0
    start = max_length - cache
    if length <= start:
        return 0.0
    return (start - length) / cache


@dataclass(frozen=True)
class RewardParts:
    """One completion's reward parts; ``accuracy`` None = the gold can't be graded."""

    accuracy: float | None
    format: float
    language: float | None
    overlong: float

    def combined(self, weights: Mapping[str, float] | None = None) -> float:
        """The weighted sum; an ungradable accuracy or missing language counts 0 in it."""
        return combine(self, weights)


def check_weights(weights: Mapping[str, float] | None) -> dict[str, float]:
    """Weights for ``PARTS``; unknown names are an error (a typo would silently weigh 0)."""
    if weights is None:
        return dict(DEFAULT_WEIGHTS)
    unknown = set(weights) - set(PARTS)
    if unknown:
        raise ValueError(f"reward weights: unknown part(s) {sorted(unknown)}; the parts are {PARTS}")
    return {p: float(weights.get(p, 0.0)) for p in PARTS}


def combine(parts: RewardParts, weights: Mapping[str, float] | None = None) -> float:
    """sum(weight * part) over ``PARTS``; None parts count 0.

    >>> combine(RewardParts(1.0, 1.0, 0.5, -0.25), {"accuracy": 1, "language": 1, "overlong": 1})
    1.25
    """
    w = check_weights(weights)
    return float(sum(w[p] * (getattr(parts, p) or 0.0) for p in PARTS))
