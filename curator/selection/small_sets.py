"""Small, high-value SFT sets: s1K's diversity-and-length draw and LIMO's reasoning-quality pick.

``select_s1`` (s1K, 1,000 of 59,029): drop what the probe models solve, then repeatedly choose a
domain uniformly among those with problems left, and within it a problem with probability
proportional to ``2^-rank`` (rank by reasoning length, longest first), until N; optional seed
items go in first. Weighted draws without replacement are done all at once with
Efraimidis-Spirakis keys, so nothing loops over rows in Python.

``select_limo`` (LIMO, 817 / 800): keep problems a strong reasoner solves only 1-3 times in 32,
score every correct chain by rule-based reasoning features, keep the best chain per problem and
the top N problems.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import ClassVar

import numpy as np
import polars as pl

from curator.core.samples import explode_samples, implode_samples
from curator.core.stage import Stage, StageOutput, reject_frame

NOT_SELECTED = "not selected"
SOLVED_BY_PROBE = "solved by probe model"
OUTSIDE_WINDOW = "outside difficulty window"
NO_CORRECT_CHAIN = "no correct chain"
NOT_BEST_CHAIN = "not the best chain"


def _uniform(df: pl.DataFrame, seed: int) -> np.ndarray:
    """Uniform(0,1] per row, fixed by seed and ``id`` (independent of row order)."""
    order = df.select(pl.col("id").rank("ordinal") - 1).to_series().to_numpy()
    return np.clip(np.random.default_rng(seed).random(df.height)[order], 1e-300, 1.0)


def trace_length(df: pl.DataFrame) -> pl.Series:
    """Length of each row's longest reasoning trace: ``completion_tokens``, else characters."""
    if "samples" not in df.columns:
        raise ValueError("no samples to measure; pass length_column= or generate first")
    s = pl.element().struct
    present = {f.name for f in getattr(df.schema["samples"].inner, "fields", [])}
    parts = [s.field("completion_tokens").cast(pl.Int64)] if "completion_tokens" in present else []
    parts += [s.field(f).str.len_chars().cast(pl.Int64) for f in ("reasoning", "text") if f in present]
    if not parts:
        raise ValueError("samples have neither completion_tokens nor reasoning/text to measure")
    per_sample = pl.coalesce(parts)
    return df.select(pl.col("samples").list.eval(per_sample).list.max().fill_null(0)
                     .alias("trace_length"))["trace_length"]


def domain_draw_counts(capacity: dict[str, int], n: int, rng: np.random.Generator) -> list[str]:
    """The sequence of domains drawn uniformly among those not yet exhausted, n draws at most."""
    left = {d: c for d, c in capacity.items() if c > 0}
    active = sorted(left)
    draws: list[str] = []
    while len(draws) < n and active:
        d = active[int(rng.integers(len(active)))]
        draws.append(d)
        left[d] -= 1
        if left[d] == 0:
            active.remove(d)
    return draws


def s1_order(df: pl.DataFrame, n: int = 1000, seed: int = 0, domain_column: str = "domain",
             length: pl.Series | None = None, seeds: pl.Series | None = None) -> pl.Series:
    """Pick position (0..n-1) of each selected row, null for the rest; see the module docstring.

    ``seeds`` (bool per row) marks items taken first, in random order; they count toward ``n``.
    """
    length = trace_length(df) if length is None else length
    seeds = pl.Series([False] * df.height) if seeds is None else seeds.fill_null(False)
    u = _uniform(df, seed)
    frame = pl.DataFrame({
        "_i": np.arange(df.height), "_dom": df[domain_column].cast(pl.String).fill_null("unknown"),
        "_len": length.cast(pl.Float64).fill_null(0.0), "_seed": seeds.cast(pl.Boolean),
        "_u": u, "_id": df["id"],
    })
    seed_rows = frame.filter(pl.col("_seed")).sort("_u").head(n).with_columns(
        pl.int_range(pl.len()).alias("_pos"))
    rest = frame.filter(~pl.col("_seed"))
    # rank 0 = longest trace in its domain (ties by id); key log(-log u) + rank * ln 2, smallest
    # first, orders a domain as successive draws with probability proportional to 2^-rank
    rest = rest.with_columns(
        pl.struct(-pl.col("_len"), pl.col("_id")).rank("ordinal").over("_dom").sub(1).alias("_rank"))
    rest = rest.with_columns((pl.col("_u").log().neg().log() + pl.col("_rank") * math.log(2)).alias("_key"))
    rest = rest.with_columns(pl.col("_key").rank("ordinal").over("_dom").sub(1).cast(pl.Int64).alias("_j"))
    capacity = dict(rest.group_by("_dom").len().iter_rows())
    draws = domain_draw_counts(capacity, n - seed_rows.height, np.random.default_rng([seed, 1]))
    steps = pl.DataFrame({"_dom": draws}, schema={"_dom": pl.String}).with_columns(
        pl.int_range(pl.len()).over("_dom").cast(pl.Int64).alias("_j"),
        (pl.int_range(pl.len()) + seed_rows.height).alias("_pos"))
    picked = rest.join(steps, on=["_dom", "_j"], how="inner")
    both = pl.concat([seed_rows.select("_i", "_pos"), picked.select("_i", pl.col("_pos").cast(pl.Int64))],
                     how="vertical_relaxed")
    pos = np.full(df.height, -1, dtype=np.int64)
    pos[both["_i"].to_numpy()] = both["_pos"].to_numpy()
    return pl.Series("s1_order", pos).set(pl.Series(pos < 0), None)


def select_s1(df: pl.DataFrame, n: int = 1000, seed: int = 0, max_pass_rate: float | None = 0.0,
              domain_column: str = "domain", length_column: str | None = None,
              seed_column: str | None = None) -> tuple[pl.DataFrame, pl.Series]:
    """Add ``s1_order``; return the table and drop reasons (null keeps), see :class:`SelectS1`."""
    reasons = pl.Series("reason", [None] * df.height, dtype=pl.String)
    if max_pass_rate is not None:
        if "pass_rate" not in df.columns:
            raise ValueError("select_s1 drops what the probe models solve, which needs pass_rate; run "
                             "generation + verify with the probe models first or pass max_pass_rate=None")
        solved = df["pass_rate"].fill_null(0.0) > max_pass_rate
        reasons = pl.select(pl.when(solved).then(pl.lit(SOLVED_BY_PROBE)).otherwise(reasons)).to_series()
    eligible = reasons.is_null()
    pool = df.filter(eligible)
    length = pool[length_column] if length_column else None
    seeds = pool[seed_column].cast(pl.Boolean) if seed_column else None
    order = s1_order(pool, n, seed, domain_column, length, seeds)
    full = pl.Series("s1_order", [None] * df.height, dtype=pl.Int64).scatter(
        np.flatnonzero(eligible.to_numpy()), order) if pool.height else pl.Series(
        "s1_order", [None] * df.height, dtype=pl.Int64)
    reasons = pl.select(pl.when(eligible & full.is_null()).then(pl.lit(NOT_SELECTED)).otherwise(reasons)
                        ).to_series().alias("reason")
    return df.with_columns(full), reasons


@dataclass
class SelectS1(Stage):
    """s1K selection: difficulty drop, uniform domain draw, 2^-rank length preference, N rows."""

    n: int = 1000  # s1K
    seed: int = 0
    max_pass_rate: float | None = 0.0  # s1: drop anything a probe model solves
    domain_column: str = "domain"  # s1: 61 two-digit MSC codes (see curator.selection.domains)
    length_column: str | None = None  # None: longest sample's completion_tokens (else characters)
    seed_column: str | None = None  # bool column: items taken first (s1: benchmark-grade sources)

    needs: ClassVar[tuple[str, ...]] = ("id", "domain")
    adds: ClassVar[tuple[str, ...]] = ("s1_order",)
    scope: ClassVar = "global"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        out, reasons = select_s1(df, self.n, self.seed, self.max_pass_rate, self.domain_column,
                                 self.length_column, self.seed_column)
        kept, rejects = reject_frame(out, reasons)
        by_domain = dict(kept.group_by(self.domain_column).len().sort(self.domain_column).iter_rows())
        return StageOutput(kept.sort("s1_order"), rejects,
                           info={"selected": kept.height, "target": self.n, "per_domain": by_domain})


# -- LIMO ----------------------------------------------------------------------------------------

@dataclass
class LimoScoring:
    """Rule-based reasoning-quality features and their weights (LIMO; weights unconfirmed)."""

    w_elaboration: float = 0.30  # LIMO, about 30% (unconfirmed)
    w_verification: float = 0.20  # about 20% (unconfirmed)
    w_exploration: float = 0.25  # about 25% (unconfirmed)
    w_connectives: float = 0.25  # about 25% (unconfirmed)
    verification: tuple[str, ...] = ("check", "verify", "verif", "confirm", "double-check", "let me re",
                                     "plug", "substitut", "sanity")
    exploration: tuple[str, ...] = ("perhaps", "might", "maybe", "alternatively", "what if", "suppose",
                                    "another approach", "let's try", "let me try", "could")
    connectives: tuple[str, ...] = ("therefore", "since", "thus", "hence", "because", "so that",
                                    "consequently", "which means", "it follows")


def _marker_rate(text: pl.Expr, words: pl.Expr, markers: Sequence[str]) -> pl.Expr:
    import re

    pattern = "(?i)" + "|".join(r"\b" + re.escape(m) for m in markers)
    return text.str.count_matches(pattern).cast(pl.Float64) * 1000.0 / words  # per 1,000 words


def quality_scores(flat: pl.DataFrame, scoring: LimoScoring | None = None) -> pl.Series:
    """``quality_score`` in [0, 1] per correct sample of an exploded frame (null if not correct).

    Each feature is length-normalized (markers per 1,000 words; elaboration = log word count),
    divided by its maximum over the correct chains given, then weighted.
    """
    sc = scoring or LimoScoring()
    text = pl.coalesce(pl.col("reasoning"), pl.col("text")).fill_null("")
    words = text.str.count_matches(r"\S+").cast(pl.Float64).clip(1.0, None)
    ok = pl.col("correct").fill_null(False)
    feats = flat.select(
        ok.alias("ok"),
        words.log1p().alias("elaboration"),
        _marker_rate(text, words, sc.verification).alias("verification"),
        _marker_rate(text, words, sc.exploration).alias("exploration"),
        _marker_rate(text, words, sc.connectives).alias("connectives"),
    )
    names = ("elaboration", "verification", "exploration", "connectives")
    weights = (sc.w_elaboration, sc.w_verification, sc.w_exploration, sc.w_connectives)
    wsum = sum(weights) or 1.0
    scaled = [(pl.col(f) / pl.col(f).filter(pl.col("ok")).max()).fill_nan(0.0).fill_null(0.0) * w
              for f, w in zip(names, weights, strict=True)]
    score = pl.when(pl.col("ok")).then(pl.sum_horizontal(scaled) / wsum).otherwise(None)
    return feats.select(score.alias("quality_score"))["quality_score"]


def limo_window_reasons(df: pl.DataFrame, min_correct: int = 1, max_correct: int = 3,
                        per_k: int = 32) -> pl.Series:
    """``outside difficulty window`` unless min/k <= pass_rate <= max/k (LIMO: 1-3 of 32)."""
    lo, hi = min_correct / per_k, max_correct / per_k
    inside = pl.col("pass_rate").is_between(lo, hi, closed="both").fill_null(False)
    return df.select(pl.when(inside).then(None).otherwise(pl.lit(OUTSIDE_WINDOW)).alias("r"))["r"]


def select_limo(df: pl.DataFrame, n: int = 800, min_correct: int = 1, max_correct: int = 3, per_k: int = 32,
                scoring: LimoScoring | None = None, keep_all_chains: bool = False,
                ) -> tuple[pl.DataFrame, pl.Series, pl.DataFrame]:
    """Score chains, keep the best per problem, pick the top ``n`` in the window.

    Returns the table (samples carry ``quality_score``; only the best chain unless
    ``keep_all_chains``), the drop reason per row, and the sample rejects.
    """
    if "pass_rate" not in df.columns:
        raise ValueError("select_limo needs pass_rate from k samples of a strong reasoner (verify stage)")
    reasons = limo_window_reasons(df, min_correct, max_correct, per_k)
    flat = explode_samples(df, ("id",))
    flat = flat.with_columns(quality_scores(flat, scoring))
    first = pl.struct(pl.col("quality_score").fill_null(-1.0), -pl.col("sample_idx")).rank(
        "ordinal", descending=True).over("_row") == 1
    flat = flat.with_columns((first & pl.col("quality_score").is_not_null()).alias("_best"))
    best = flat.filter(pl.col("_best")).select("_row", pl.col("quality_score").alias("_score"))
    scored = df.select("id").with_row_index("_row").join(best, on="_row", how="left")
    reasons = pl.select(pl.when(reasons.is_null() & scored["_score"].is_null())
                        .then(pl.lit(NO_CORRECT_CHAIN)).otherwise(reasons)).to_series()
    eligible = reasons.is_null()
    rank = scored.with_columns(eligible.alias("_ok")).select(
        pl.when(pl.col("_ok")).then(pl.struct(pl.col("_score"), pl.col("id")))
        .rank("ordinal", descending=True).alias("_rank"))["_rank"]
    chosen = eligible & (rank <= n).fill_null(False)
    reasons = pl.select(pl.when(eligible & ~chosen).then(pl.lit(NOT_SELECTED)).otherwise(reasons)
                        ).to_series().alias("reason")
    chosen_rows = pl.Series(np.flatnonzero(chosen.to_numpy()), dtype=pl.UInt32)
    keep = pl.col("_best") | ~pl.col("_row").is_in(chosen_rows.implode()) | pl.lit(keep_all_chains)
    kept_flat = flat.filter(keep).drop("_best")
    srej = flat.filter(~keep).drop("_best").with_columns(pl.lit(NOT_BEST_CHAIN).alias("reason"))
    out = implode_samples(df, kept_flat, context=tuple(c for c in df.columns if c != "samples"))
    return out, reasons, srej


@dataclass
class SelectLimo(Stage):
    """LIMO selection: 1-3 of 32 window, reasoning-quality score, best chain, top N problems."""

    n: int = 800  # LIMO v2 (817 in v1)
    min_correct: int = 1  # LIMO: solved 1-3 times in 32
    max_correct: int = 3
    per_k: int = 32
    scoring: LimoScoring = field(default_factory=LimoScoring)
    keep_all_chains: bool = False

    needs: ClassVar[tuple[str, ...]] = ("id", "pass_rate", "samples.correct")
    adds: ClassVar[tuple[str, ...]] = ("samples.quality_score",)
    scope: ClassVar = "global"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        out, reasons, srej = select_limo(df, self.n, self.min_correct, self.max_correct, self.per_k,
                                         self.scoring, self.keep_all_chains)
        kept, rejects = reject_frame(out, reasons)  # dropped rows keep all their samples
        return StageOutput(kept, rejects, sample_rejects=srej if srej.height else None,
                           info={"selected": kept.height, "target": self.n,
                                 "window": [self.min_correct, self.max_correct, self.per_k]})
