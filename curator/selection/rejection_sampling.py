"""Rejection sampling: keep correct samples only, chosen per problem by a policy.

R1 stage 2.5 keeps every correct sample; Kimi k1.5's long2short keeps the shortest correct
one; ``max_per_problem`` caps how many a problem contributes. A problem left with no correct
sample is dropped with a reason; every dropped sample carries its own reason too.
"""

from __future__ import annotations

import hashlib
import random
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import polars as pl

from curator.core.samples import explode_samples, implode_samples
from curator.core.stage import SAMPLE_CONTEXT, Stage, StageOutput

Policy = Literal["all", "first", "shortest", "longest", "random"]
POLICIES: tuple[str, ...] = ("all", "first", "shortest", "longest", "random")


def sample_length(sample: dict[str, Any]) -> int:
    """Completion tokens when the backend reported them, else characters of the text."""
    tokens = sample.get("completion_tokens")
    return int(tokens) if tokens is not None else len(sample.get("text") or "")


def rejection_reason(sample: dict[str, Any]) -> str | None:
    """Why a sample is not a candidate at all (None: it is correct)."""
    status = sample.get("status")
    if status in ("failed", "truncated"):
        return f"{status} sample"
    correct = sample.get("correct")
    if correct is None:
        return "ungradable sample"
    return None if correct else "incorrect sample"


def select(samples: list[dict[str, Any]], policy: str = "all", max_per_problem: int | None = None,
           rng: random.Random | None = None) -> list[int]:
    """Indices of the candidates to keep, in their original order.

    >>> s = [{"text": "aaaa", "correct": True}, {"text": "a", "correct": True}, {"text": "aa", "correct": False}]
    >>> select(s, "shortest"), select(s, "all"), select(s, "longest")
    ([1], [0, 1], [0])
    """
    if policy not in POLICIES:
        raise ValueError(f"unknown selection policy {policy!r}; use one of {POLICIES}")
    cand = [i for i, s in enumerate(samples) if rejection_reason(s) is None]
    m = max_per_problem if max_per_problem is not None else (None if policy in ("all", "random") else 1)
    if policy in ("shortest", "longest"):
        sign = 1 if policy == "shortest" else -1  # ties: the earliest sample
        cand.sort(key=lambda i: (sign * sample_length(samples[i]), i))
    elif policy == "random":
        (rng or random.Random(0)).shuffle(cand)
    chosen = cand if m is None else cand[:m]
    return sorted(chosen)


def _row_rng(seed: int, row_id: str | None, row: int) -> random.Random:
    """A per-problem generator: the choice for a problem doesn't depend on batching or order."""
    key = f"{seed}\x1f{row_id if row_id is not None else row}".encode()
    return random.Random(int.from_bytes(hashlib.sha256(key).digest()[:8], "big"))


@dataclass
class RejectionSample(Stage):
    """Keep correct samples per ``policy``; rows without a correct sample go to the rejects."""

    policy: Policy = "all"  # R1 stage 2.5 keeps all correct; "shortest" = Kimi k1.5 long2short
    max_per_problem: int | None = None  # None: all for "all"/"random", one for the others
    seed: int = 0

    needs: ClassVar[tuple[str, ...]] = ("samples.correct",)
    adds: ClassVar[tuple[str, ...]] = ()

    def __post_init__(self) -> None:
        if self.policy not in POLICIES:
            raise ValueError(f"RejectionSample: unknown policy {self.policy!r}; use one of {POLICIES}")
        if self.max_per_problem is not None and self.max_per_problem < 1:
            raise ValueError(f"RejectionSample: max_per_problem must be >= 1 or None, got {self.max_per_problem}")

    def apply(self, df: pl.DataFrame) -> StageOutput:
        rows = df["samples"].to_list()
        ids = df["id"].to_list() if "id" in df.columns else [None] * df.height
        keep_rows: list[bool] = []
        row_reasons: list[str | None] = []
        sample_reasons: list[str | None] = []  # aligned with the exploded frame (row, sample order)
        for r, samples in enumerate(rows):
            samples = samples or []
            chosen = set(select(samples, self.policy, self.max_per_problem, _row_rng(self.seed, ids[r], r)))
            if not chosen:
                keep_rows.append(False)
                row_reasons.append("no correct sample" if samples else "no samples")
                sample_reasons.extend([None] * len(samples))  # they leave with their row
                continue
            keep_rows.append(True)
            row_reasons.append(None)
            for i, s in enumerate(samples):
                if i in chosen:
                    sample_reasons.append(None)
                else:
                    sample_reasons.append(rejection_reason(s) or f"not selected ({self.policy})")
        keep = pl.Series(keep_rows, dtype=pl.Boolean)
        rejects = df.filter(~keep).with_columns(
            pl.Series("reason", [x for x in row_reasons if x is not None], dtype=pl.String))
        flat = explode_samples(df, SAMPLE_CONTEXT).with_columns(pl.Series("reason", sample_reasons, pl.String))
        row_kept = pl.Series(keep_rows)[flat["_row"]].alias("_row_kept")
        flat = flat.with_columns(row_kept)
        kept_samples = flat.filter(pl.col("_row_kept") & pl.col("reason").is_null()).drop("reason", "_row_kept")
        srej = flat.filter(pl.col("_row_kept") & pl.col("reason").is_not_null()).drop("_row_kept")
        kept_rows = df.filter(keep)
        kept_flat = kept_samples.with_columns(
            (pl.col("_row").rank("dense") - 1).cast(pl.UInt32).alias("_row"))
        out = implode_samples(kept_rows, kept_flat)
        info = {"policy": self.policy, "samples_kept": int(kept_samples.height)}
        return StageOutput(out, rejects if rejects.height else None,
                           sample_rejects=srej if srej.height else None, info=info)
