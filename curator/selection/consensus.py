"""Consensus filtering: keep an item iff a reference model's answer agrees with its gold.

The source recipe filtered MedQA by agreement between the gold label and DeepSeek-V3's
answer (10,718 -> about 8,000). General form: run the reference model greedily (k=1) or
take its majority over k samples (maj@k), keep the item iff that answer is equivalent to
the gold, and record ``reference_answer`` and ``agrees_with_reference`` either way.
Without a gold, the majority of k samples becomes a pseudo-label, accepted only when its
share is at least ``tau``.

Reference responses come from a backend of the generation layer, from an existing column
(answers or responses someone already generated), or from the row's own ``samples``.

Where rules cannot decide - a gold no parser reads, or word answers that differ as strings
("the city of Paris" / "Paris") - an optional ``judge`` model decides (``curator.answers.judge``'s
strict JSON verdict); ``agreement_by`` records which one did.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from curator.answers import chinese, forms, verify
from curator.answers import grading as answers
from curator.answers.forms import text_answer
from curator.answers.verify import DEFAULT_TIMEOUT_S, VerifyPool, counted, row_kinds, sample_response
from curator.core.stage import Stage, StageOutput, reject_frame, runtime
from curator.generation.model_stage import CallsModel, resolve_backend


@dataclass(frozen=True)
class Decision:
    """What consensus decided for one item."""

    reference_answer: str | None
    reference_frac: float
    agrees: bool | None  # null when there is no gold (or it can't be graded)
    label: str | None = None  # the accepted pseudo-label when there was no gold
    reason: str | None = None  # why the item is dropped; None keeps it


def decide(gold: str | None, reference_answers: list[str | None], kind: str = "math", *,
           options: Any = None, tau: float = 0.5, pseudo_label: bool = True,
           timeout_s: int | None = answers.MV_TIMEOUT_S) -> Decision:
    """The consensus decision from the reference model's extracted answers (one = greedy).

    >>> decide("4", ["4"]).agrees, decide("4", ["5"]).reason
    (True, 'disagrees with reference')
    >>> decide(None, ["7", "7.0", "8", "7"], tau=0.5).label
    '7'
    """
    ref, frac = answers.majority_answer(reference_answers, kind, options=options, timeout_s=timeout_s)
    has_gold = gold is not None and str(gold).strip() != ""
    if has_gold:
        if not answers.gold_is_parseable(gold, kind, timeout_s=timeout_s):
            return Decision(ref, frac, None, reason="ungradable gold")
        if ref is None:
            return Decision(None, frac, False, reason="reference gave no answer")
        agrees = answers.is_equivalent(gold, ref, kind, options=options, timeout_s=timeout_s)
        return Decision(ref, frac, agrees, reason=None if agrees else "disagrees with reference")
    if not pseudo_label:
        return Decision(ref, frac, None, reason="no gold")
    if ref is None:
        return Decision(None, frac, None, reason="no gold and no reference answer")
    if frac < tau:
        return Decision(ref, frac, None, reason=f"no gold and majority share below tau={tau:g}")
    return Decision(ref, frac, None, label=ref)


def consensus_item(gold: str | None, responses: list[str | None], kind: str, options: Any,
                   tau: float, pseudo_label: bool) -> Decision:
    """Worker entry: extract the reference answers from responses, then ``decide``."""
    extracted = [answers.extract_answer(r, kind) if r is not None else None for r in responses]
    if kind == "choice" and options:
        extracted = [e if e is not None else answers.extract_answer(r, "math")
                     for e, r in zip(extracted, responses, strict=True)]
    return decide(gold, extracted, kind, options=options, tau=tau, pseudo_label=pseudo_label, timeout_s=None)


def needs_judge(gold: str | None, d: Decision) -> bool:
    """Rules could not decide: the gold is unreadable, or word answers differ only as strings."""
    if d.reason == "ungradable gold":
        return True
    return d.agrees is False and d.reference_answer is not None and gold is not None and \
        text_answer(str(gold)) is not None


def judged(d: Decision, verdict: bool | None, error: str | None) -> Decision:
    """The decision after the judge's verdict; a failed judgement keeps the item out, with why."""
    if verdict is None:
        return Decision(d.reference_answer, d.reference_frac, d.agrees, reason=f"{d.reason}; judge: {error}")
    return Decision(d.reference_answer, d.reference_frac, verdict,
                    reason=None if verdict else "disagrees with reference (judge)")


def _responses_from_column(value: Any) -> list[str | None]:
    """A reference column holds an answer, a list of answers, or a list of sample structs."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    out: list[str | None] = []
    for v in value:
        if isinstance(v, dict):
            out.append(sample_response(v) if counted(v) else None)
        else:
            out.append(v)
    return out


def _as_response(answer: str | None) -> str | None:
    """A bare reference answer, boxed so extraction reads it whole (``x = 3`` stays one answer)."""
    if answer is None:
        return None
    return answer if "\\boxed" in answer or "</think>" in answer else f"\\boxed{{{answer}}}"


@dataclass
class Consensus(CallsModel, Stage):
    """Keep rows whose gold agrees with the reference answer; pseudo-label rows without gold.

    Reference responses, first that applies: ``backend`` (a generation-layer backend or a
    ``make_backend`` kind; ``k`` samples, greedy when ``k == 1``), ``reference_column`` (an
    answer, a list of answers, or a list of sample structs, e.g. from
    ``Generate(label="reference")`` written elsewhere), else the row's own ``samples``.
    """

    backend: Any = None
    k: int = 1  # 1 = greedy reference answer; >1 = maj@k of the reference model
    temperature: float = 0.0  # greedy; use ~0.7-1.0 with k > 1
    max_tokens: int = 2048
    template: str = "r1"
    seed: int = 0
    reference_column: str | None = None
    tau: float = 0.5  # pseudo-label acceptance: majority share of 8-64 samples (RECIPES.md)
    pseudo_label: bool = True
    kind: str = "math"
    workers: int = 2
    timeout_s: float = DEFAULT_TIMEOUT_S
    judge: Any = None  # a backend (or kind) asked where rules cannot decide; None: such items are dropped
    judge_max_tokens: int = 256
    _console: Any = runtime()

    needs: ClassVar[tuple[str, ...]] = ("problem", "answer")
    adds: ClassVar[tuple[str, ...]] = ("reference_answer", "reference_frac", "agrees_with_reference",
                                       "pseudo_label", "agreement_by")
    role: ClassVar[str] = "reference"
    code_modules: ClassVar[tuple[Any, ...]] = (answers, forms, chinese, verify)

    def __post_init__(self) -> None:
        answers.check_kind(self.kind)
        self.backend = resolve_backend(self.backend)
        self.judge = resolve_backend(self.judge)
        if self.k < 1 or not 0.0 <= self.tau <= 1.0:
            raise ValueError(f"Consensus: need k >= 1 and 0 <= tau <= 1, got k={self.k}, tau={self.tau}")

    def columns_needed(self) -> tuple[str, ...]:
        if self.backend is None:
            return ("answer", self.reference_column or "samples")
        return self.needs

    def setup(self, ctx: Any) -> None:
        super().setup(ctx)
        self._console = getattr(ctx, "console", None)

    def teardown(self) -> None:
        super().teardown()
        close = getattr(self.judge, "close", None)
        if callable(close):
            close()

    def apply(self, df: pl.DataFrame) -> StageOutput:
        responses = self._reference_responses(df)
        kinds = row_kinds(df, self.kind)
        golds = df["answer"].to_list()
        items = [(golds[r], responses[r], *kinds[r], self.tau, self.pseudo_label) for r in range(df.height)]
        with VerifyPool(self.workers, self.timeout_s) as pool:
            outcomes = pool.map(consensus_item, items)
        decisions = [o.value if o.error is None else Decision(None, 0.0, None, reason=f"verification {o.error}")
                     for o in outcomes]
        by = ["rules" if d.agrees is not None else None for d in decisions]
        judged_rows = self._ask_judge(df, golds, responses, decisions) if self.judge is not None else {}
        for r, (decision, error) in judged_rows.items():
            decisions[r] = judged(decisions[r], decision, error)
            by[r] = "judge" if decision is not None else by[r]
        labelled = [d.label is not None for d in decisions]
        out = df.with_columns(
            pl.Series("reference_answer", [d.reference_answer for d in decisions], pl.String),
            pl.Series("reference_frac", [d.reference_frac for d in decisions], pl.Float64),
            pl.Series("agrees_with_reference", [d.agrees for d in decisions], pl.Boolean),
            pl.Series("pseudo_label", labelled, pl.Boolean),
            pl.Series("agreement_by", by, pl.String),
            pl.Series("answer", [d.label if d.label is not None else g for d, g in zip(decisions, golds, strict=True)],
                      pl.String),
        )
        kept, rejects = reject_frame(out, pl.Series("reason", [d.reason for d in decisions], pl.String))
        info = {"agree": sum(d.agrees is True for d in decisions), "disagree": sum(d.agrees is False for d in decisions),
                "pseudo_labelled": sum(labelled)}
        if self.judge is not None:
            info.update(judged=len(judged_rows), judge_failures=sum(v is None for v, _ in judged_rows.values()))
        return StageOutput(kept, rejects if rejects.height else None, info=info)

    def _ask_judge(self, df: pl.DataFrame, golds: list[Any], responses: list[list[str | None]],
                   decisions: list[Decision]) -> dict[int, tuple[bool | None, str | None]]:
        """Verdicts for the rows rules could not decide: ``{row: (verdict or None, error)}``."""
        from curator.answers.judge import judge_messages, parse_verdict
        from curator.generation import complete

        rows, convs = [], []
        problems = df["problem"].to_list()
        for r, d in enumerate(decisions):
            if not needs_judge(golds[r], d):
                continue
            prediction = d.reference_answer or next((x for x in responses[r] if x), None)
            if prediction is None:
                continue  # nothing to judge: the reference gave no response
            rows.append(r)
            convs.append(judge_messages(problems[r] or "", str(golds[r]), prediction))
        if not convs:
            return {}
        replies = complete(self.judge, convs, n=1, temperature=0.0, max_tokens=self.judge_max_tokens,
                           seed=self.seed, cache=self.cache_path)
        out: dict[int, tuple[bool | None, str | None]] = {}
        for r, row in zip(rows, replies, strict=True):
            reply = row[0] if row else {}
            if reply.get("status") == "failed":
                out[r] = (None, f"request failed: {reply.get('error')}")
                continue
            text = reply.get("final") if reply.get("final") is not None else reply.get("text")
            out[r] = parse_verdict(text)
        return out

    def _reference_responses(self, df: pl.DataFrame) -> list[list[str | None]]:
        if self.backend is not None:
            from curator.generation import complete, row_messages
            from curator.generation.prompts import prompt_columns

            rows = df.select([c for c in prompt_columns() if c in df.columns]).to_dicts()
            convs = [row_messages(r, self.template) for r in rows]
            samples = complete(self.backend, convs, n=self.k, temperature=self.temperature,
                               max_tokens=self.max_tokens, seed=self.seed,
                               cache=self.cache_path)
            return [[sample_response(s) if counted(s) else None for s in row] for row in samples]
        if self.reference_column is not None:
            if self.reference_column not in df.columns:
                raise ValueError(f"Consensus: reference_column {self.reference_column!r} is not in the table; "
                                 f"columns are {df.columns}")
            values = df[self.reference_column].to_list()
            bare = df.schema[self.reference_column] in (pl.String, pl.List(pl.String))
            return [[_as_response(a) if bare else a for a in _responses_from_column(v)] for v in values]
        return [_responses_from_column(v) for v in df["samples"].to_list()]
