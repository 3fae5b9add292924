"""RL prompt pools: evaluable, informative, balanced over difficulty and domain (Kimi k1.5).

Three steps, each a pure function and a stage:

1. :class:`Evaluable` - the gold answer must be checkable by the verifier; optionally drop
   multiple choice, true/false and proof questions (Kimi k1.5, Big-Math, R1), and prompts a model
   guesses without chain of thought within m tries (Kimi k1.5: 8).
2. :class:`PassRateWindow` - keep ``low < pass_rate < high`` (open-r1: 0.1 < p < 0.6 on DAPO data);
   a window excluding 0 and 1 is DAPO's dynamic-sampling condition.
3. :class:`Balance` - draw a target number of rows over difficulty bins x domains with a target
   distribution (uniform, or a histogram such as POLARIS' hard-leaning "mirrored J"), without
   replacement and deterministically for a seed; cells that cannot be filled are reported and
   their share goes to the cells that can.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import numpy as np
import polars as pl

from curator.answers import grading
from curator.core.stage import Filter, Stage, StageOutput, reject_frame
from curator.generation.model_stage import CallsModel, resolve_backend

NOT_SELECTED = "not selected"
OUTSIDE_WINDOW = "outside pass-rate window"


# -- 1. evaluability --------------------------------------------------------------------------

def gold_reasons(df: pl.DataFrame, kind: str = "math") -> pl.Series:
    """``no gold answer`` / ``gold not parseable`` per row (null keeps), via ``curator.answers.grading``."""
    from curator.answers.grading import gold_is_parseable  # the verifier module; imported only when used

    out: list[str | None] = []
    for gold in df["answer"].to_list():
        if gold is None or not str(gold).strip():
            out.append("no gold answer")
        elif not gold_is_parseable(str(gold), kind=kind):
            out.append("gold not parseable")
        else:
            out.append(None)
    return pl.Series("reason", out, dtype=pl.String)


def guessed_reasons(df: pl.DataFrame, column: str, tries: int = 8) -> pl.Series:
    """``guessable without CoT`` where any of the first ``tries`` samples in ``column`` is correct.

    ``column`` holds no-CoT generations in the samples layout (list of structs with ``correct``),
    e.g. produced by a ``Generate`` stage writing to another column, then verified.
    """
    if column not in df.columns:
        raise ValueError(f"guess column {column!r} is missing; generate no-CoT answers into it first "
                         f"(columns are {df.columns})")
    hit = (pl.col(column).list.head(tries)
           .list.eval(pl.element().struct.field("correct").fill_null(False)).list.any().fill_null(False))
    return df.select(pl.when(hit).then(pl.lit("guessable without CoT")).otherwise(None)
                     .alias("reason"))["reason"]


def question_type_reasons(df: pl.DataFrame, multiple_choice: bool, true_false: bool,
                          proofs: bool) -> pl.Series:
    """Drop reasons for question types a rule reward cannot grade well (Kimi k1.5, Big-Math).

    The rules are those of ``filters.quality`` (one place decides what a proof question is),
    with every other quality rule switched off.
    """
    if not (multiple_choice or true_false or proofs):
        return pl.Series("reason", [None] * df.height, dtype=pl.String)
    from dataclasses import fields

    from filters.quality import QualityRules, quality_reasons

    off = {f.name: False for f in fields(QualityRules) if isinstance(f.default, bool)}
    rules = QualityRules(**{**off, "multiple_choice": multiple_choice, "true_false": true_false,
                            "proof": proofs})
    return quality_reasons(df, rules).alias("reason")


def first_reason(*series: pl.Series) -> pl.Series:
    """Row-wise first non-null reason."""
    return pl.select(pl.coalesce([s.alias(f"r{i}") for i, s in enumerate(series)])).to_series().alias("reason")


@dataclass
class Evaluable(Filter):
    """Keep prompts a rule reward can grade: parseable gold, no MC / TF / proofs, not guessable."""

    kind: str = "math"
    check_gold: bool = True
    drop_multiple_choice: bool = False  # Kimi k1.5, Big-Math
    drop_true_false: bool = False  # Kimi k1.5, Big-Math
    drop_proofs: bool = False  # Kimi k1.5, R1 RL prompts
    guess_column: str | None = None  # no-CoT samples; None = skip the guessability check
    guess_tries: int = 8  # Kimi k1.5

    needs: ClassVar[tuple[str, ...]] = ("problem", "answer")
    code_modules: ClassVar[tuple[Any, ...]] = (grading,)

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        parts = [gold_reasons(df, self.kind)] if self.check_gold else []
        parts.append(question_type_reasons(df, self.drop_multiple_choice, self.drop_true_false, self.drop_proofs))
        if self.guess_column is not None:
            parts.append(guessed_reasons(df, self.guess_column, self.guess_tries))
        return first_reason(*parts)


# -- 2. pass-rate window -------------------------------------------------------------------------

def window_reasons(df: pl.DataFrame, low: float = 0.1, high: float = 0.6, inclusive: bool = False) -> pl.Series:
    """``outside pass-rate window`` unless ``low < pass_rate < high`` (``<=`` when inclusive)."""
    p = pl.col("pass_rate")
    inside = p.is_between(low, high, closed="both" if inclusive else "none")
    return df.select(pl.when(inside.fill_null(False)).then(None).otherwise(pl.lit(OUTSIDE_WINDOW))
                     .alias("reason"))["reason"]


@dataclass
class PassRateWindow(Filter):
    """Keep problems the policy solves sometimes: ``low < pass_rate < high``."""

    low: float = 0.1  # open-r1 pass-rate filter on DAPO data
    high: float = 0.6  # open-r1 (its demo used 0.2 - 0.8)
    inclusive: bool = False

    needs: ClassVar[tuple[str, ...]] = ("pass_rate",)

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        return window_reasons(df, self.low, self.high, self.inclusive)


# -- 3. balancing ---------------------------------------------------------------------------------

def largest_remainder(total: int, weights: Mapping[str, float]) -> dict[str, int]:
    """Split ``total`` into integers proportional to ``weights`` (ties go to the earlier key).

    >>> largest_remainder(10, {"a": 1, "b": 1, "c": 1})
    {'a': 4, 'b': 3, 'c': 3}
    """
    keys = [k for k, w in weights.items() if w > 0]
    wsum = sum(weights[k] for k in keys)
    out = {k: 0 for k in weights}
    if total <= 0 or wsum <= 0:
        return out
    exact = {k: total * weights[k] / wsum for k in keys}
    for k in keys:
        out[k] = math.floor(exact[k])
    left = total - sum(out.values())
    by_rest = sorted(keys, key=lambda k: (-(exact[k] - out[k]), keys.index(k)))
    for k in by_rest[:left]:
        out[k] += 1
    return out


def allocate(total: int, weights: Mapping[str, float], capacity: Mapping[str, int],
             refill: bool = True) -> dict[str, int]:
    """Integer quotas proportional to ``weights``, never above ``capacity``.

    With ``refill`` what a full cell cannot take is shared among the others by the same weights
    (water-filling), so the total is reached whenever the capacity allows.
    """
    alloc = {k: 0 for k in weights}
    if not refill:
        ideal = largest_remainder(total, weights)
        return {k: min(v, int(capacity.get(k, 0))) for k, v in ideal.items()}
    while True:
        remaining = total - sum(alloc.values())
        active = {k: w for k, w in weights.items() if w > 0 and alloc[k] < int(capacity.get(k, 0))}
        if remaining <= 0 or not active:
            return alloc
        share = largest_remainder(remaining, active)
        moved = 0
        for k, n in share.items():
            give = min(n, int(capacity.get(k, 0)) - alloc[k])
            alloc[k] += give
            moved += give
        if moved == 0:  # pragma: no cover - cannot happen: some active cell always gets >= 1
            return alloc


def mirrored_j(bins: Sequence[str], ratio: float = 3.0) -> dict[str, float]:
    """Weights rising linearly from the first (easiest) bin to the last (hardest), ``ratio`` times.

    POLARIS biases its pool toward hard problems ("mirrored J"); its exact histogram is not
    published as numbers (unconfirmed), so the shape and ``ratio`` are this project's choice.
    """
    n = len(bins)
    if n == 1:
        return {bins[0]: 1.0}
    return {b: 1.0 + (ratio - 1.0) * i / (n - 1) for i, b in enumerate(bins)}


Priority = Literal["uniform", "difficulty"]


def random_keys(df: pl.DataFrame, seed: int, priority: Priority = "uniform") -> pl.Series:
    """One random sort key per row, fixed by ``seed`` and the row ``id`` (not the row order).

    ``difficulty`` priority draws with probability proportional to ``difficulty`` (Kimi k1.5's
    ``1 - success rate``) by Efraimidis-Spirakis keys ``-log(u) / w`` (smaller is drawn first).
    """
    order = df.select(pl.col("id").rank("ordinal") - 1).to_series().to_numpy()
    u = np.random.default_rng(seed).random(df.height)[order]
    u = np.clip(u, 1e-300, 1.0)
    if priority == "uniform":
        return pl.Series("_key", u)
    w = df["difficulty"].fill_null(0.0).to_numpy().astype(np.float64)
    with np.errstate(divide="ignore"):
        key = np.where(w > 0, -np.log(u) / np.where(w > 0, w, 1.0), np.inf)
    return pl.Series("_key", key)


def balanced_sample(df: pl.DataFrame, size: int, by: Sequence[str] = ("bin", "domain"),
                    distribution: Mapping[str, float] | None = None, seed: int = 0,
                    refill: bool = True, priority: Priority = "uniform") -> tuple[pl.Series, dict]:
    """Pick ``size`` rows: quotas over ``by[0]`` from ``distribution`` (uniform if None), each
    split uniformly over the values of ``by[1:]`` jointly; random rows within each cell.

    Returns a boolean mask (selected) and a report: quotas, what each cell wanted and had,
    and ``unfilled`` cells (wanted more than available before refilling).
    """
    if size < 0:
        raise ValueError(f"target size must be >= 0, got {size}")
    by = list(by)
    for col in by:
        if col not in df.columns:
            raise ValueError(f"cannot balance by {col!r}: no such column (columns are {df.columns})")
    top, rest = by[0], by[1:]
    keyed = df.select([pl.col(c).cast(pl.String).fill_null("unknown") for c in by]).with_columns(
        random_keys(df, seed, priority)).with_row_index("_i")
    top_counts = dict(keyed.group_by(top).len().sort(top).iter_rows())
    if distribution is None:
        weights = {b: 1.0 for b in top_counts}
    else:
        weights = {str(b): float(w) for b, w in distribution.items()}  # absent bins: reported unfilled
        for b in top_counts:
            weights.setdefault(b, 0.0)
    wanted_top = largest_remainder(size, weights)
    top_quota = allocate(size, weights, top_counts, refill)
    unfilled = [{top: b, "wanted": wanted_top[b], "available": int(top_counts.get(b, 0))}
                for b in weights if wanted_top[b] > top_counts.get(b, 0)]
    cell = pl.concat_str([pl.col(c) for c in by], separator="\x1f").alias("_cell")
    keyed = keyed.with_columns(cell)
    quotas: dict[str, int] = {}
    sub_report: dict[str, dict] = {}
    if rest:
        cells = keyed.group_by(top, "_cell").len().sort(top, "_cell")
        for (b,), part in cells.group_by(top, maintain_order=True):
            caps = dict(zip(part["_cell"].to_list(), part["len"].to_list(), strict=True))
            want = largest_remainder(top_quota.get(b, 0), {c: 1.0 for c in caps})
            got = allocate(top_quota.get(b, 0), {c: 1.0 for c in caps}, caps, refill)
            quotas.update(got)
            short = {c.split("\x1f", 1)[1]: {"wanted": want[c], "available": caps[c]}
                     for c in caps if want[c] > caps[c]}
            if short:
                sub_report[str(b)] = short
    else:
        quotas = {str(b): q for b, q in top_quota.items()}
    quota_frame = pl.DataFrame({"_cell": list(quotas), "_quota": list(quotas.values())},
                               schema={"_cell": pl.String, "_quota": pl.Int64})
    chosen = (keyed.join(quota_frame, on="_cell", how="left")
              .with_columns(pl.col("_key").rank("ordinal").over("_cell").alias("_r"))
              .filter(pl.col("_r") <= pl.col("_quota").fill_null(0))["_i"])
    mask = pl.Series("selected", np.zeros(df.height, dtype=bool))
    mask = mask.scatter(chosen, True) if chosen.len() else mask
    report = {
        "target_size": size, "selected": int(chosen.len()), "balanced_by": by,
        "distribution": {b: weights[b] for b in weights},
        "quota": {str(b): int(top_quota[b]) for b in top_quota},
        "available": {str(b): int(n) for b, n in top_counts.items()},
        "unfilled": unfilled, "unfilled_within": sub_report,
        "short_by": max(size - int(chosen.len()), 0),
    }
    return mask, report


@dataclass
class Balance(Stage):
    """Draw ``size`` rows balanced over bins x domains; the rest are rejects ``not selected``."""

    size: int = 1000
    by: tuple[str, ...] = ("bin", "domain")
    distribution: dict[str, float] | None = None  # None = uniform over bins; see mirrored_j()
    seed: int = 0
    refill: bool = True
    priority: Priority = "uniform"  # "difficulty": Kimi k1.5's prioritized sampling, p ~ 1 - success

    needs: ClassVar[tuple[str, ...]] = ("id", "bin", "domain")
    scope: ClassVar = "global"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        mask, report = balanced_sample(df, self.size, self.by, self.distribution, self.seed, self.refill,
                                       self.priority)
        reasons = pl.select(pl.when(mask).then(None).otherwise(pl.lit(NOT_SELECTED))).to_series()
        kept, rejects = reject_frame(df, reasons)
        return StageOutput(kept, rejects, info={"balance": report})


# -- guessability with a real model (Kimi k1.5) ------------------------------------------------------

NO_COT_INSTRUCTION = "Give only the final answer in \\boxed{}, with no explanation."


@dataclass
class GuessWithoutCoT(CallsModel, Stage):
    """Drop prompts a model answers right without chain of thought within ``tries`` samples.

    Asks ``backend`` (through the generation layer and its request cache) for ``tries`` short
    answers with no reasoning, grades them in the verify pool (``curator.answers.verify``:
    worker processes with a time limit per answer, as model text is untrusted) and adds
    ``guess_hits``. An answer whose grading times out counts as not guessed (and is counted).
    """

    backend: Any = "embedded"  # a make_backend kind or a backend object (hashed by identity())
    tries: int = 8  # Kimi k1.5: "within 8 tries"
    temperature: float = 1.0  # high temperature, as Kimi k1.5 samples (exact value unconfirmed)
    max_tokens: int = 32  # an answer, not a chain of thought
    kind: str = "math"
    seed: int = 0
    instruction: str = NO_COT_INSTRUCTION
    workers: int = 2  # verify-pool processes (as Verify); 0 grades in process, for tests only
    timeout_s: float = 5.0  # per answer, as Verify (math_verify.parse's parsing_timeout)

    needs: ClassVar[tuple[str, ...]] = ("problem", "answer")
    adds: ClassVar[tuple[str, ...]] = ("guess_hits",)
    batch_size: ClassVar[int] = 256
    code_modules: ClassVar[tuple[Any, ...]] = (grading,)

    def __post_init__(self) -> None:
        self.backend = resolve_backend(self.backend)

    def setup(self, ctx: Any) -> None:
        from curator.answers.verify import VerifyPool

        super().setup(ctx)
        self._pool = VerifyPool(self.workers, self.timeout_s)

    def teardown(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()
            self._pool = None
        super().teardown()

    def apply(self, df: pl.DataFrame) -> StageOutput:
        from curator.answers.verify import VerifyPool
        from curator.generation import complete
        from curator.generation.prompts import prompt_columns, row_messages

        rows = df.select([c for c in prompt_columns() if c in df.columns]).to_dicts()
        convs = [[{"role": "user", "content": f"{row_messages(r, 'plain')[-1]['content']}\n\n{self.instruction}"}]
                 for r in rows]  # the problem with its options, if any
        answers = complete(self.backend, convs, n=self.tries, temperature=self.temperature,
                           max_tokens=self.max_tokens, seed=self.seed, cache=self.cache_path)
        pool = getattr(self, "_pool", None)
        if pool is None:  # used outside a pipeline: a pool for this call only
            with VerifyPool(self.workers, self.timeout_s) as tmp:
                return self._grade(df, answers, tmp)
        return self._grade(df, answers, pool)

    def _grade(self, df: pl.DataFrame, answers: list[list[dict[str, Any]]], pool: Any) -> StageOutput:
        from curator.answers.verify import grade_item, row_kinds

        items = [(s.get("text"), gold, kind, options)
                 for row, gold, (kind, options) in zip(answers, df["answer"].to_list(), row_kinds(df, self.kind),
                                                       strict=True) for s in row]
        outcomes = iter(pool.map(grade_item, items))
        hits, failed = [], 0
        for row in answers:
            graded = [next(outcomes) for _ in row]
            failed += sum(o.error is not None for o in graded)
            hits.append(sum(o.error is None and o.value[1] is True for o in graded))
        out = df.with_columns(pl.Series("guess_hits", hits, dtype=pl.Int64))
        reasons = out.select(pl.when(pl.col("guess_hits") > 0).then(pl.lit("guessable without CoT"))
                             .otherwise(None).alias("reason"))["reason"]
        kept, rejects = reject_frame(out, reasons)
        return StageOutput(kept, rejects, info={"prompts_guessed": int((out["guess_hits"] > 0).sum()),
                                                "answers_not_graded": failed})
