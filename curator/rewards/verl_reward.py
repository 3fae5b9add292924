"""verl's reward function: ``compute_score`` (naive / DAPO managers) and its batch form.

verl loads a file by path and calls a named function in it:

    reward.custom_reward_function.path=<this file>  reward.custom_reward_function.name=compute_score

(verl 0.9; before its reward loop the two keys were top-level ``custom_reward_function.*``.)

The naive and DAPO reward managers call ``compute_score(data_source=..., solution_str=...,
ground_truth=..., extra_info=...)`` once per response; the batch manager
(``reward.reward_manager.name=batch``, name ``compute_score_batch``) calls
``compute_score_batch(data_sources=..., solution_strs=..., ground_truths=..., extra_infos=...)``
once per step, which fans out to the grader's worker processes. A dict result becomes
``score`` (the reward) plus logged parts; every part is a float so verl can average them.
``custom_reward_function.reward_kwargs`` reach the keyword arguments below.

``extra_info`` is what ``curator.publish.exports.VerlParquet`` writes: ``answer_kind``,
``options`` (JSON), ``language``, ``max_response_length``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from curator.rewards.batch import shared_grader
from curator.rewards.rules import RewardParts, check_weights
from curator.rewards.scoring import AnswerFormat, score_batch, target_from

#: a dict's keys, each a float (verl averages every key it is given)
KEYS = ("score", "acc", "format", "language", "overlong")


def compute_score(data_source: str | None = None, solution_str: str | None = None, ground_truth: Any = None,
                  extra_info: Mapping[str, Any] | None = None, *, weights: Mapping[str, float] | None = None,
                  answer_format: AnswerFormat = "boxed", cache_length: int | None = None,
                  tokenizer: str | None = None, workers: int | None = None, timeout_s: float | None = None,
                  **kwargs: Any) -> dict[str, float]:
    """One response's reward: ``{"score", "acc", "format", "language", "overlong"}``.

    ``weights`` (accuracy, format, language, overlong; default accuracy only) make ``score``.
    ``tokenizer``: a local tokenizer path whose token count feeds the overlong punishment
    (verl passes text only); without it ``overlong`` is 0 and verl's DAPO manager's own
    ``overlong_buffer`` can do that part. ``data_source`` is not used: the row says how it
    is graded.
    """
    return compute_score_batch([data_source], [solution_str], [ground_truth], [extra_info], weights=weights,
                               answer_format=answer_format, cache_length=cache_length, tokenizer=tokenizer,
                               workers=workers, timeout_s=timeout_s)[0]


def compute_score_batch(data_sources: Sequence[str | None], solution_strs: Sequence[str | None],
                        ground_truths: Sequence[Any], extra_infos: Sequence[Mapping[str, Any] | None] | None = None,
                        *, weights: Mapping[str, float] | None = None, answer_format: AnswerFormat = "boxed",
                        cache_length: int | None = None, tokenizer: str | None = None, workers: int | None = None,
                        timeout_s: float | None = None, **kwargs: Any) -> list[dict[str, float]]:
    """``compute_score`` for a whole batch (verl's batch reward manager), graded in parallel."""
    w = check_weights(weights)
    infos = list(extra_infos) if extra_infos is not None else [None] * len(solution_strs)
    texts = [s or "" for s in solution_strs]
    targets = [target_from(g, _info(i)) for g, i in zip(ground_truths, infos, strict=True)]
    lengths = _token_lengths(texts, tokenizer)
    parts = score_batch(texts, targets, lengths=lengths, answer_format=answer_format, cache_length=cache_length,
                        grader=shared_grader(workers, timeout_s))
    return [as_dict(p, w) for p in parts]


def as_dict(parts: RewardParts, weights: Mapping[str, float]) -> dict[str, float]:
    """verl's dict: an ungradable gold scores 0; no target language reads 1.0 (nothing to mix)."""
    return {"score": parts.combined(weights), "acc": parts.accuracy or 0.0, "format": parts.format,
            "language": 1.0 if parts.language is None else parts.language, "overlong": parts.overlong}


def _info(info: Any) -> Mapping[str, Any]:
    if info is None:
        return {}
    if isinstance(info, Mapping):
        return info
    raise TypeError(f"extra_info must be a dict (verl's extra_info column), got {type(info).__name__}")


def _token_lengths(texts: Sequence[str], tokenizer: str | None) -> list[int | None] | None:
    if not tokenizer:
        return None
    tok = _load_tokenizer(tokenizer)
    return [len(ids) for ids in tok(list(texts), add_special_tokens=False)["input_ids"]]


@lru_cache(maxsize=4)
def _load_tokenizer(name: str) -> Any:
    try:
        from transformers import AutoTokenizer
    except ImportError as err:
        raise ImportError("compute_score(tokenizer=...) needs transformers (pip install transformers)") from err
    return AutoTokenizer.from_pretrained(name)
