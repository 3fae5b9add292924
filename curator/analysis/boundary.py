"""Reasoning boundaries: pass@k and maj@k curves of several models on the same problems.

DeepSeek-Math found that RL raises maj@k but not pass@k; "Does Reinforcement Learning Really
Incentivize Reasoning Capacity in LLMs Beyond the Base Model?" found that at large k the base
model solves problems the RL model no longer solves. Both are read off the same numbers:
per model, curves over k = 1, 2, 4, ... with bootstrap intervals over problems; per pair of
models, the crossover k where the one behind at k = 1 catches up, and the problems one model
solves at some k and the other never does (the "outside the boundary" set a distillation
set should target).

``compare`` is pure: ``Outcomes`` in, a ``BoundaryReport`` out. Writing files and plots is
``curator.publish.boundary_report``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import polars as pl

from curator.analysis.curves import BOOTSTRAP_RESAMPLES, bootstrap_mean, maj_at_k, pass_at_k, powers_of_two
from curator.analysis.outcomes import Outcomes

#: problem columns a breakdown may group by, when the build has them
BREAKDOWN_COLUMNS = ("domain", "source", "bin")


@dataclass
class Curve:
    """One model's mean pass@k and maj@k over the shared problems, with bootstrap intervals."""

    model: str
    ks: list[int]
    pass_at_k: list[float | None]
    pass_lo: list[float | None]
    pass_hi: list[float | None]
    maj_at_k: list[float | None]
    maj_lo: list[float | None]
    maj_hi: list[float | None]
    problems: int
    samples_per_problem: int  # the most samples any problem has (k goes up to it)


@dataclass
class Boundary:
    """Problems model ``a`` solves with some sample and model ``b`` never does, and the rest."""

    a: str
    b: str
    a_only: list[str]  # solved by a at some k <= its samples, never by b
    b_only: list[str]
    both: int
    neither: int

    @property
    def total(self) -> int:
        return len(self.a_only) + len(self.b_only) + self.both + self.neither


@dataclass
class BoundaryReport:
    """Everything ``curator compare`` writes: curves, crossovers, boundary sets, breakdowns."""

    models: list[str]
    ks: list[int]
    problems: int
    curves: dict[str, Curve]
    crossovers: list[dict[str, Any]]
    boundaries: list[Boundary]
    per_problem: pl.DataFrame  # id (+ problem columns) and per model n_<m>, c_<m>, pass@k and maj@k
    breakdown: pl.DataFrame  # model, by, value, k, pass_at_k, maj_at_k, problems
    dropped: dict[str, int] = field(default_factory=dict)  # model -> problems without gradable samples

    def summary(self) -> dict[str, Any]:
        """JSON-ready numbers (no tables of problems)."""
        return {
            "models": self.models, "ks": self.ks, "problems": self.problems,
            "curves": {m: vars(c) for m, c in self.curves.items()},
            "crossovers": self.crossovers,
            "boundaries": [{"a": b.a, "b": b.b, "a_only": len(b.a_only), "b_only": len(b.b_only),
                            "both": b.both, "neither": b.neither} for b in self.boundaries],
            "problems_without_gradable_samples": self.dropped,
        }


def _clean(values: np.ndarray) -> list[float | None]:
    return [None if np.isnan(v) else round(float(v), 6) for v in values]


def shared_problems(outcomes: Sequence[Outcomes]) -> tuple[list[str], dict[str, int]]:
    """Ids every model has at least one graded sample for (curves on shared axes need them)."""
    dropped: dict[str, int] = {}
    shared: set[str] | None = None
    for o in outcomes:
        have = {i for i, n in zip(o.ids, o.n, strict=True) if n > 0}
        dropped[o.model] = len(o.ids) - len(have)
        shared = have if shared is None else shared & have
    order = [i for i in outcomes[0].ids if i in (shared or set())] if outcomes else []
    return order, dropped


def align(o: Outcomes, ids: Sequence[str]) -> Outcomes:
    """``o`` restricted to ``ids``, in that order."""
    pos = {i: r for r, i in enumerate(o.ids)}
    return o.subset(np.array([pos[i] for i in ids], dtype=np.int64))


def crossover(ks: Sequence[int], ahead: Sequence[float | None], behind: Sequence[float | None]) -> int | None:
    """The first k at which ``behind`` reaches ``ahead`` (None if it never does within ks).

    >>> crossover([1, 2, 4, 8], [0.5, 0.6, 0.65, 0.7], [0.3, 0.5, 0.66, 0.8])
    4
    """
    for k, a, b in zip(ks, ahead, behind, strict=True):
        if a is not None and b is not None and b >= a:
            return int(k)
    return None


def boundary(a: Outcomes, b: Outcomes) -> Boundary:
    """Solved-by-one-never-by-the-other sets of two aligned models."""
    sa, sb = a.c > 0, b.c > 0
    ids = np.array(a.ids, dtype=object)
    return Boundary(a.model, b.model, ids[sa & ~sb].tolist(), ids[sb & ~sa].tolist(),
                    int((sa & sb).sum()), int((~sa & ~sb).sum()))


def compare(outcomes: Sequence[Outcomes], problems: pl.DataFrame | None = None, *,
            ks: Sequence[int] | None = None, draws: int = 8, resamples: int = BOOTSTRAP_RESAMPLES,
            seed: int = 0) -> BoundaryReport:
    """Curves, crossovers, boundary sets and breakdowns of ``outcomes`` on their shared problems.

    ``problems`` (optional) holds per-problem columns by ``id`` (``problem``, ``answer``,
    ``domain``, ``source``, ``bin``) for the tables and the breakdowns.
    """
    if not outcomes:
        raise ValueError("compare needs at least one model's outcomes")
    names = [o.model for o in outcomes]
    if len(set(names)) != len(names):
        raise ValueError(f"compare: model names must be distinct, got {names}; label the builds")
    ids, dropped = shared_problems(outcomes)
    aligned = [align(o, ids) for o in outcomes]
    n_max = max((int(o.n.max()) for o in aligned if o.n.size), default=0)
    ks = sorted(set(int(k) for k in ks)) if ks else powers_of_two(n_max)
    per_problem = pl.DataFrame({"id": ids})
    curves: dict[str, Curve] = {}
    matrices: dict[str, tuple[np.ndarray, np.ndarray]] = {}
    for o in aligned:
        pk = pass_at_k(o.n, o.c, ks)
        mk = maj_at_k(o.vote_groups(), o.correct_group, np.where(o.complete, o.n, 0), ks, draws=draws, seed=seed)
        matrices[o.model] = (pk, mk)
        pm, plo, phi = bootstrap_mean(pk, resamples=resamples, seed=seed)
        mm, mlo, mhi = bootstrap_mean(mk, resamples=resamples, seed=seed)
        curves[o.model] = Curve(o.model, list(ks), _clean(pm), _clean(plo), _clean(phi), _clean(mm),
                                _clean(mlo), _clean(mhi), len(ids), int(o.n.max()) if o.n.size else 0)
        per_problem = per_problem.with_columns(
            pl.Series(f"n__{o.model}", o.n), pl.Series(f"c__{o.model}", o.c),
            *[pl.Series(f"pass_at_{k}__{o.model}", pk[:, j]) for j, k in enumerate(ks)],
            *[pl.Series(f"maj_at_{k}__{o.model}", mk[:, j]) for j, k in enumerate(ks)])
    crossings: list[dict[str, Any]] = []
    bounds: list[Boundary] = []
    for i, a in enumerate(aligned):
        for b in aligned[i + 1:]:
            bounds.append(boundary(a, b))
            ca, cb = curves[a.model], curves[b.model]
            first_a, first_b = ca.pass_at_k[0], cb.pass_at_k[0]
            if first_a is None or first_b is None or first_a == first_b:
                continue
            ahead, behind = (ca, cb) if first_a > first_b else (cb, ca)
            crossings.append({"ahead_at_1": ahead.model, "behind_at_1": behind.model,
                              "pass_crossover_k": crossover(ks, ahead.pass_at_k, behind.pass_at_k),
                              "maj_crossover_k": crossover(ks, ahead.maj_at_k, behind.maj_at_k)})
    if problems is not None and problems.height:
        keep = [c for c in problems.columns if c not in per_problem.columns or c == "id"]
        per_problem = per_problem.join(problems.select(keep).unique("id", keep="first"), on="id", how="left")
    breakdown = _breakdown(per_problem, matrices, ks)
    return BoundaryReport(names, list(ks), len(ids), curves, crossings, bounds, per_problem, breakdown, dropped)


def _breakdown(per_problem: pl.DataFrame, matrices: dict[str, tuple[np.ndarray, np.ndarray]],
               ks: Sequence[int]) -> pl.DataFrame:
    """Mean pass@k and maj@k per model, k and value of each breakdown column present."""
    frames = []
    for by in BREAKDOWN_COLUMNS:
        if by not in per_problem.columns:
            continue
        values = per_problem[by].cast(pl.String).fill_null("(none)")
        for model, (pk, mk) in matrices.items():
            for j, k in enumerate(ks):
                frame = pl.DataFrame({"value": values, "p": pk[:, j], "m": mk[:, j]})
                agg = (frame.group_by("value", maintain_order=True)
                       .agg(pl.col("p").fill_nan(None).mean().alias("pass_at_k"),
                            pl.col("m").fill_nan(None).mean().alias("maj_at_k"),
                            pl.len().alias("problems"))
                       .with_columns(pl.lit(model).alias("model"), pl.lit(by).alias("by"),
                                     pl.lit(int(k)).alias("k")))
                frames.append(agg)
    if not frames:
        return pl.DataFrame(schema={"model": pl.String, "by": pl.String, "value": pl.String, "k": pl.Int64,
                                    "pass_at_k": pl.Float64, "maj_at_k": pl.Float64, "problems": pl.UInt32})
    out = pl.concat(frames, how="vertical_relaxed")
    return out.select("model", "by", "value", pl.col("k").cast(pl.Int64), "pass_at_k", "maj_at_k", "problems")
