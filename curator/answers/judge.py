"""A judge model for answers rules cannot check (R1 stage 2.5 used DeepSeek-V3 this way).

The judge gets the problem, the gold and the prediction and must answer with a JSON object
``{"verdict": "correct"}`` or ``{"verdict": "incorrect"}``. The verdict is parsed strictly:
anything else is a recorded failure (``judge_error``), never a pass.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from curator.answers.verify import counted, pass_columns, sample_response
from curator.core.samples import explode_samples, implode_samples
from curator.core.stage import SAMPLE_CONTEXT, Stage, StageOutput
from curator.generation.model_stage import CallsModel, resolve_backend

JUDGE_SYSTEM = ("You grade answers to problems. Compare the student's final answer with the reference answer. "
                "Judge meaning, not wording or formatting. Reply with only a JSON object: "
                '{"verdict": "correct"} or {"verdict": "incorrect"}.')
JUDGE_USER = "Problem:\n{problem}\n\nReference answer:\n{gold}\n\nStudent answer:\n{prediction}"
VERDICTS = {"correct": True, "incorrect": False}
_FENCE = re.compile(r"^```(?:json)?\s*\n?(.*?)\n?```$", re.DOTALL)


def judge_messages(problem: str, gold: str, prediction: str) -> list[dict[str, str]]:
    """The chat request for one (problem, gold, prediction)."""
    return [{"role": "system", "content": JUDGE_SYSTEM},
            {"role": "user", "content": JUDGE_USER.format(problem=problem, gold=gold, prediction=prediction)}]


def judge_json(text: str | None, width: int = 80) -> tuple[object, str | None]:
    """``(object, error)``: the JSON a judge model replied with. Allowed around it: whitespace, a
    ``<think>`` block before it, one ```json fence (shared by every judge that must answer in JSON).

    >>> judge_json('<think>hm</think> {"a": 1}')
    ({'a': 1}, None)
    """
    if text is None:
        return None, "no judge response"
    body = text.rpartition("</think>")[2].strip()
    fenced = _FENCE.match(body)
    if fenced:
        body = fenced.group(1).strip()
    try:
        return json.loads(body), None
    except ValueError:
        return None, f"judge reply is not JSON: {body[:width]!r}"


def parse_verdict(text: str | None) -> tuple[bool | None, str | None]:
    """``(verdict, error)``: the judge's reply must be one JSON object with a known ``verdict``.

    Allowed around it: whitespace, a ``<think>`` block before it, one ```json fence.

    >>> parse_verdict('{"verdict": "correct"}')
    (True, None)
    >>> parse_verdict('The answer is correct.')[0] is None
    True
    """
    data, error = judge_json(text)
    if error is not None:
        return None, error
    if not isinstance(data, dict) or "verdict" not in data:
        return None, f"judge reply has no 'verdict' key: {json.dumps(data)[:80]!r}"
    verdict = data["verdict"]
    if not isinstance(verdict, str) or verdict.strip().lower() not in VERDICTS:
        return None, f"judge verdict {verdict!r} is not one of {sorted(VERDICTS)}"
    return VERDICTS[verdict.strip().lower()], None


@dataclass
class Judge(CallsModel, Stage):
    """Ask a judge model about samples; by default only those the rules could not grade.

    Sets ``samples.judge_verdict`` and ``samples.judge_error``; where the rules gave no
    verdict (``correct`` null) a parsed judge verdict becomes ``correct``, and the row's
    ``n_correct`` / ``pass_rate`` / ``pass_at_k`` are recomputed.
    """

    backend: Any = "embedded"
    only_ungradable: bool = True
    max_tokens: int = 256
    seed: int = 0

    needs: ClassVar[tuple[str, ...]] = ("problem", "answer", "samples.extracted", "samples.correct")
    adds: ClassVar[tuple[str, ...]] = ("samples.judge_verdict", "samples.judge_error")
    role: ClassVar[str] = "judge"

    def __post_init__(self) -> None:
        self.backend = resolve_backend(self.backend)

    def apply(self, df: pl.DataFrame) -> StageOutput:
        from curator.generation import complete

        flat = explode_samples(df, SAMPLE_CONTEXT)
        todo, convs = [], []
        for i, s in enumerate(flat.iter_rows(named=True)):
            if not counted(s) or s.get("answer") is None:
                continue
            if self.only_ungradable and s.get("correct") is not None:
                continue
            prediction = s.get("extracted") or sample_response(s) or ""
            todo.append(i)
            convs.append(judge_messages(s.get("problem") or "", str(s["answer"]), prediction))
        verdicts: list[bool | None] = [None] * flat.height
        errors: list[str | None] = [None] * flat.height
        if convs:
            replies = complete(self.backend, convs, n=1, temperature=0.0, max_tokens=self.max_tokens,
                               seed=self.seed, cache=self.cache_path)
            for i, row in zip(todo, replies, strict=True):
                reply = row[0] if row else {}
                text = reply.get("final") if reply.get("final") is not None else reply.get("text")
                verdict, err = parse_verdict(text) if reply.get("status") != "failed" else (
                    None, f"judge request failed: {reply.get('error')}")
                verdicts[i], errors[i] = verdict, err
        correct = [c if c is not None else v for c, v in zip(flat["correct"].to_list(), verdicts, strict=True)]
        flat = flat.with_columns(pl.Series("judge_verdict", verdicts, pl.Boolean),
                                 pl.Series("judge_error", errors, pl.String),
                                 pl.Series("correct", correct, pl.Boolean))
        out = implode_samples(df, flat)
        if "n_correct" in out.columns:
            ks = [int(c.removeprefix("pass_at_")) for c in out.columns if c.startswith("pass_at_")]
            gradable = [any(s.get("correct") is not None for s in row or []) for row in out["samples"].to_list()]
            out = pass_columns(out, ks, gradable)
        info = {"judged": len(todo), "judge_failures": sum(e is not None for e in errors),
                "judge_correct": sum(v is True for v in verdicts)}
        return StageOutput(out, info=info)
