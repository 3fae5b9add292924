"""A judge model scores general replies against a stated rubric; low scores are dropped.

R1's non-reasoning data was kept by quality, not by rules (there is no gold to check a poem
against). The judge sees the request and the reply and must return one JSON object
``{"score": 1-10, "reason": "..."}``; the score and reason are kept on every sample, replies
under ``threshold`` and replies whose verdict cannot be read are dropped with that reason.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from curator.answers.judge import judge_json
from curator.core.samples import explode_samples, implode_samples
from curator.core.stage import SAMPLE_CONTEXT, Stage, StageOutput, reject_frame
from curator.generation.model_stage import CallsModel, resolve_backend

#: the rubric the judge is given (this project's; R1 publishes none)
RUBRIC = (
    "You rate an assistant's reply to a user's request on a 1-10 scale.\n"
    "10: fully answers the request, correct, clear, in the request's language, no padding.\n"
    "7-9: answers it with minor flaws (small omissions, slightly verbose).\n"
    "4-6: partly answers it, or has a factual error, or is hard to read.\n"
    "1-3: off-topic, wrong, in the wrong language, or unsafe.\n"
    'Reply with only a JSON object: {"score": <1-10>, "reason": "<one sentence>"}.'
)


def judge_request(prompt: str, reply: str, rubric: str = RUBRIC) -> list[dict[str, str]]:
    """The chat request for one (prompt, reply)."""
    return [{"role": "system", "content": rubric},
            {"role": "user", "content": f"Request:\n{prompt}\n\nReply:\n{reply}"}]


def parse_score(text: str | None) -> tuple[int | None, str | None, str | None]:
    """``(score, reason, error)`` from the judge's reply: one JSON object with an integer 1-10 ``score``.

    >>> parse_score('{"score": 8, "reason": "clear"}')
    (8, 'clear', None)
    >>> parse_score("Great reply!")[2]
    "judge reply is not JSON: 'Great reply!'"
    """
    data, error = judge_json(text, width=60)
    if error is not None:
        return None, None, error
    score = data.get("score") if isinstance(data, dict) else None
    if isinstance(score, bool) or not isinstance(score, int | float) or not 1 <= score <= 10 or score != int(score):
        return None, None, f"judge score {score!r} is not an integer from 1 to 10"
    reason = data.get("reason")
    return int(score), str(reason) if reason is not None else None, None


@dataclass
class JudgeReplies(CallsModel, Stage):
    """Scores every usable reply with a judge model; drops those under ``threshold``."""

    backend: Any = "embedded"
    threshold: int = 7  # keep replies scored 7-10 (this project's default; a parameter)
    rubric: str = RUBRIC
    max_tokens: int = 128
    seed: int = 0

    needs: ClassVar[tuple[str, ...]] = ("problem", "samples")
    adds: ClassVar[tuple[str, ...]] = ("samples.judge_score", "samples.judge_reason")

    def __post_init__(self) -> None:
        self.backend = resolve_backend(self.backend)
        if not 1 <= self.threshold <= 10:
            raise ValueError(f"JudgeReplies: threshold must be 1-10, got {self.threshold}")

    def apply(self, df: pl.DataFrame) -> StageOutput:
        from curator.generation import complete

        flat = explode_samples(df, SAMPLE_CONTEXT)
        todo = [i for i, s in enumerate(flat.iter_rows(named=True)) if s.get("status") != "failed"]
        convs = [judge_request(flat["problem"][i] or "", flat["text"][i] or "", self.rubric) for i in todo]
        scores: list[int | None] = [None] * flat.height
        reasons: list[str | None] = [None] * flat.height
        drop: list[str | None] = [None] * flat.height
        replies = complete(self.backend, convs, n=1, temperature=0.0, max_tokens=self.max_tokens,
                           seed=self.seed, cache=self.cache_path) if convs else []
        for i, row in zip(todo, replies, strict=True):
            reply = row[0] if row else {}
            if reply.get("status") == "failed":
                drop[i] = "judge request failed"
                continue
            text = reply.get("final") if reply.get("final") is not None else reply.get("text")
            score, why, err = parse_score(text)
            scores[i], reasons[i] = score, why
            if err is not None:
                drop[i] = "judge reply unreadable"
            elif score is not None and score < self.threshold:
                drop[i] = f"judge score below {self.threshold}"
        flat = flat.with_columns(pl.Series("judge_score", scores, pl.Int64),
                                 pl.Series("judge_reason", reasons, pl.String))
        kept, rejects = reject_frame(flat, pl.Series("reason", drop, pl.String))
        info = {"judged": len(todo), "mean_score": (sum(s for s in scores if s is not None)
                                                    / max(1, sum(s is not None for s in scores)))}
        return StageOutput(implode_samples(df, kept), sample_rejects=rejects, info=info)
