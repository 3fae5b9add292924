"""All reward parts for a batch of completions: what every trainer adapter calls.

A row states how its completions are graded (``Target``: gold, answer kind, options, target
language, maximum response length), the same fields the exports write; accuracy goes
through ``grade`` in the verify pool (``curator.rewards.batch``), the rest are the rules of
``curator.rewards.rules``.
"""

from __future__ import annotations

import atexit
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Literal

from curator.answers.grading import KINDS
from curator.answers.verify import default_workers
from curator.rewards.batch import Graded, RewardGrader, shared_grader
from curator.rewards.rules import (
    RewardParts,
    answer_tag_format,
    answer_tag_response,
    language_consistency,
    soft_overlong,
    think_format,
)

AnswerFormat = Literal["boxed", "answer_tag"]
ANSWER_FORMATS = ("boxed", "answer_tag")
#: code rows: the gold is the prompt's tests, run in the sandbox (curator.rewards.code), as Verify runs them
CODE = "code"


@dataclass(frozen=True)
class Target:
    """What one prompt's completions are graded against (the export's ``extra_info`` fields)."""

    gold: str | None
    kind: str = "math"  # curator.answers.KINDS
    options: Any = None  # letter -> text, or a list; JSON text is decoded
    language: str | None = None  # the language the reasoning should be in (R1 consistency)
    max_length: int | None = None  # L_max of the soft overlong punishment, in tokens


def decode_options(value: Any) -> Any:
    """Options as the grader takes them: dict or list; JSON text decoded; empty -> None.

    >>> decode_options('{"A": "1", "B": "2"}'), decode_options(""), decode_options(["x", "y"])
    ({'A': '1', 'B': '2'}, None, ['x', 'y'])
    """
    if value is None:
        return None
    if isinstance(value, str):
        text = value.strip()
        if not text or text in ("null", "{}", "[]"):
            return None
        try:
            value = json.loads(text)
        except ValueError:
            raise ValueError(f"options: expected JSON (an object letter -> text, or a list), got {text[:60]!r}; "
                             "write them with json.dumps") from None
    if isinstance(value, Mapping):
        return {str(k): str(v) for k, v in value.items() if v is not None} or None
    if isinstance(value, Sequence) or hasattr(value, "tolist"):  # numpy arrays from Parquet readers
        items = value.tolist() if hasattr(value, "tolist") else list(value)
        return [str(v) for v in items] or None
    raise ValueError(f"options: expected a dict, a list or JSON text, got {type(value).__name__}")


def target_from(gold: Any, info: Mapping[str, Any] | None = None) -> Target:
    """A ``Target`` from a gold answer and a row's fields (``answer_kind``, ``options``,
    ``language``, ``max_response_length``), the names the exports write."""
    info = info or {}
    options = decode_options(info.get("options"))
    kind = info.get("answer_kind") or ("choice" if options else "math")
    if kind not in (*KINDS, CODE):
        raise ValueError(f"answer_kind {kind!r} is not one of {(*KINDS, CODE)}; fix the row's answer_kind")
    max_length = info.get("max_response_length")
    return Target(None if gold is None else str(gold), kind, options, info.get("language") or None,
                  int(max_length) if max_length else None)


def score_batch(texts: Sequence[str], targets: Sequence[Target], *, lengths: Sequence[int | None] | None = None,
                answer_format: AnswerFormat = "boxed", cache_length: int | None = None,
                grader: RewardGrader | None = None) -> list[RewardParts]:
    """Every reward part of every completion; ``lengths`` are response lengths in tokens."""
    if answer_format not in ANSWER_FORMATS:
        raise ValueError(f"answer_format {answer_format!r}: use one of {ANSWER_FORMATS}")
    if len(targets) != len(texts) or (lengths is not None and len(lengths) != len(texts)):
        raise ValueError(f"score_batch: {len(texts)} completions, {len(targets)} targets, "
                         f"{'no' if lengths is None else len(lengths)} lengths; give one per completion")
    graded = grade_batch(texts, targets, answer_format=answer_format, grader=grader)
    fmt = answer_tag_format if answer_format == "answer_tag" else think_format
    lengths = lengths if lengths is not None else [None] * len(texts)
    return [RewardParts(g.accuracy, fmt(t or ""), language_consistency(t or "", tg.language),
                        soft_overlong(n, tg.max_length, cache_length))
            for t, tg, g, n in zip(texts, targets, graded, lengths, strict=True)]


def grade_batch(texts: Sequence[str], targets: Sequence[Target], *, answer_format: AnswerFormat = "boxed",
                grader: RewardGrader | None = None) -> list[Graded]:
    """``grade`` of every completion against its target, in worker processes (``Graded`` each);
    code rows run their tests through ``curator.rewards.code.CodeReward`` instead."""
    out: list[Graded | None] = [None] * len(texts)
    code = [i for i, t in enumerate(targets) if t.kind == CODE]
    rest = [i for i, t in enumerate(targets) if t.kind != CODE]
    if rest:
        responses = [answer_tag_response(texts[i] or "") if answer_format == "answer_tag" else texts[i] for i in rest]
        graded = (grader or shared_grader()).grade(responses, [targets[i].gold for i in rest],
                                                   [targets[i].kind for i in rest], [targets[i].options for i in rest])
        for i, g in zip(rest, graded, strict=True):
            out[i] = g
    if code:
        scores = code_reward().scores([texts[i] or "" for i in code], [targets[i].gold for i in code])
        for i, s in zip(code, scores, strict=True):
            out[i] = Graded(None, s == 1.0)
    return out  # type: ignore[return-value]


@lru_cache(maxsize=1)
def code_reward() -> Any:
    """The process's code reward (its sandbox executor lives as long as the process)."""
    from curator.rewards.code import CodeReward

    reward = CodeReward(workers=default_workers())
    atexit.register(reward.close)
    return reward
