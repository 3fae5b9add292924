"""Per-model sample outcomes as arrays: who answered what, grouped by equivalence.

A build's samples are rows of structs; the curves want matrices. ``Outcomes`` holds, for one
model over the problems of a build, the samples that count (failed requests are not
attempts, as in ``Verify``), whether each was correct, and the equivalence group of its
answer, so pass@k and maj@k (``curator.analysis.curves``) are array operations.

Grouping compares model-written answers, so it runs in the verify pool's worker processes
under its time limit (``group_item``), never in the caller's process.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import polars as pl

from curator.answers import grading
from curator.answers.verify import VerifyPool, counted, row_kinds

#: the model name used for a build whose samples carry none
UNNAMED = "model"
#: the sample field naming which model (label) drew a sample in a build of several models
TAG_FIELD = "source_model"


def model_slug(name: str) -> str:
    """A column-safe name for a model label.

    >>> model_slug("Qwen/Qwen2.5-7B-Instruct @T=1.0")
    'qwen_qwen2_5_7b_instruct_t_1_0'
    """
    slug = re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")
    return slug or UNNAMED


def answer_groups(extracted: Sequence[str | None], kind: str = "math", options: Any = None) -> list[int]:
    """Group ids of answers by equivalence, in order of first appearance; -1 for no answer.

    The same answer in another form votes with its group (as ``majority_answer`` counts them).

    >>> answer_groups(["1/2", "0.5", None, "3", "\\\\frac{1}{2}"])
    [0, 0, -1, 1, 0]
    """
    reps: list[str] = []
    by_text: dict[str, int] = {}
    out: list[int] = []
    for ans in extracted:
        if ans is None or not str(ans).strip():
            out.append(-1)
            continue
        key = " ".join(str(ans).split())
        gid = by_text.get(key)
        if gid is None:
            gid = next((i for i, rep in enumerate(reps)
                        if grading.is_equivalent(rep, ans, kind, options=options, timeout_s=None)), None)
            if gid is None:
                reps.append(ans)
                gid = len(reps) - 1
            by_text[key] = gid
        out.append(gid)
    return out


def group_item(extracted: Sequence[str | None], kind: str, options: Any) -> list[int]:
    """``answer_groups`` for one problem, run by a verify-pool worker."""
    return answer_groups(list(extracted), kind, options)


def correct_group(groups: Sequence[int], correct: Sequence[bool | None]) -> int:
    """The group holding the most correct samples (-1 when none is correct).

    >>> correct_group([0, 1, 1, -1], [False, True, True, False])
    1
    """
    votes: dict[int, int] = {}
    for g, ok in zip(groups, correct, strict=True):
        if ok and g >= 0:
            votes[g] = votes.get(g, 0) + 1
    return max(votes, key=lambda g: (votes[g], -g)) if votes else -1


@dataclass
class Outcomes:
    """One model's graded samples over the problems of a build, padded to ``width`` columns.

    ``n`` and ``c`` count what the verifier graded; ``groups`` hold the answers still in the
    table. A build that later dropped samples (rejection sampling keeps correct ones) still
    has exact pass@k from ``n`` / ``c``, but its vote can only be replayed where every graded
    sample is still there: ``complete`` marks those rows, maj@k is left out elsewhere.
    """

    model: str
    ids: list[str]
    n: np.ndarray  # samples that count per problem (0: no gradable sample, e.g. an unreadable gold)
    c: np.ndarray  # correct samples per problem
    groups: np.ndarray  # int, problems x width; -1 = no answer or padding
    correct_group: np.ndarray  # int per problem; -1 = no group is correct
    complete: np.ndarray  # bool per problem: groups cover all n samples

    @property
    def width(self) -> int:
        return int(self.groups.shape[1])

    def subset(self, rows: np.ndarray) -> Outcomes:
        """The same model on a subset of problems (a boolean mask or indices)."""
        idx = np.flatnonzero(rows) if rows.dtype == bool else rows
        return Outcomes(self.model, [self.ids[i] for i in idx], self.n[idx], self.c[idx], self.groups[idx],
                        self.correct_group[idx], self.complete[idx])

    def vote_groups(self) -> np.ndarray:
        """``groups`` with incomplete rows blanked, for maj@k (NaN there, as n < k)."""
        return np.where(self.complete[:, None], self.groups, -1)


def graded_samples(samples: Sequence[dict[str, Any]] | None) -> list[dict[str, Any]]:
    """The samples that count: not failed, and graded (``correct`` is not null)."""
    return [s for s in samples or [] if counted(s) and s.get("correct") is not None]


def outcomes_from_rows(model: str, ids: Sequence[str], samples: Sequence[Sequence[dict[str, Any]] | None],
                       groups: Sequence[Sequence[int] | None], *, n_graded: Sequence[int | None] | None = None,
                       n_correct: Sequence[int | None] | None = None) -> Outcomes:
    """Arrays from per-row samples and their answer groups (one group per graded sample).

    ``n_graded`` / ``n_correct`` (a build's ``n_samples`` / ``n_correct`` columns) give the
    counts when later stages dropped samples; by default they are counted from ``samples``.
    """
    kept = [graded_samples(s) for s in samples]
    width = max((len(s) for s in kept), default=0)
    p = len(kept)
    grp = np.full((p, width), -1, dtype=np.int64)
    right = np.full(p, -1, dtype=np.int64)
    n = np.zeros(p, dtype=np.int64)
    c = np.zeros(p, dtype=np.int64)
    complete = np.zeros(p, dtype=bool)
    for r, (row, g) in enumerate(zip(kept, groups, strict=True)):
        flags = [bool(s["correct"]) for s in row]
        gl = list(g or [])
        if len(gl) != len(row):
            raise ValueError(f"row {ids[r]}: {len(gl)} answer groups for {len(row)} graded samples")
        grp[r, :len(row)] = gl
        right[r] = correct_group(gl, flags)
        given_n = n_graded[r] if n_graded is not None else None
        given_c = n_correct[r] if n_correct is not None else None
        n[r] = len(row) if given_n is None else int(given_n)
        c[r] = sum(flags) if given_c is None or given_n is None else int(given_c)
        complete[r] = len(row) == n[r]
    return Outcomes(model, list(ids), n, c, grp, right, complete)


def group_rows(df: pl.DataFrame, samples_column: str, pool: VerifyPool, kind: str = "math") -> list[list[int]]:
    """Answer groups of every row's graded samples, computed in the verify pool.

    A row the pool could not finish (timeout) gets every answer in a group of its own, so it
    still counts for pass@k and can only lose maj@k votes; that is the conservative side.
    """
    kinds = row_kinds(df, kind)
    rows = df[samples_column].to_list()
    items = [([s.get("extracted") for s in graded_samples(row)], *kinds[r]) for r, row in enumerate(rows)]
    results = pool.map(group_item, items)
    out: list[list[int]] = []
    for item, res in zip(items, results, strict=True):
        if res.error is None:
            out.append(list(res.value))
        else:
            out.append([i if a is not None else -1 for i, a in enumerate(item[0])])
    return out


def sample_model_name(samples: Sequence[Sequence[dict[str, Any]] | None]) -> str:
    """The model that wrote a build's samples (the most frequent ``model`` field)."""
    names: dict[str, int] = {}
    for row in samples:
        for s in row or []:
            if s.get("model"):
                names[s["model"]] = names.get(s["model"], 0) + 1
    return max(names, key=lambda m: names[m]) if names else UNNAMED


def table_outcomes(df: pl.DataFrame, pool: VerifyPool, *, kind: str = "math", model: str | None = None,
                   ) -> list[Outcomes]:
    """Every model's outcomes in a build's table.

    A boundary build tags each sample with the label of the model that drew it
    (``source_model``, see ``TagSamples``) and keeps every sample, so each label's
    outcomes are counted from the samples. Any other build has one model's ``samples``,
    whose ``n_samples`` / ``n_correct`` (from ``Verify``) are the counts, so pass@k stays
    exact after later stages dropped samples.
    """
    if "samples" not in df.columns:
        raise ValueError("the table has no samples to analyse: build with a Generate and a Verify stage first")
    ids = df["id"].to_list()
    rows = df["samples"].to_list()
    labels: list[str] = []
    for row in rows:
        for s in row or []:
            tag = s.get(TAG_FIELD)
            if tag is not None and tag not in labels:
                labels.append(tag)
    if labels:
        out = []
        for label in labels:
            mine = [[s for s in row or [] if s.get(TAG_FIELD) == label] for row in rows]
            part = df.with_columns(pl.Series("samples", mine, dtype=df.schema["samples"]))
            out.append(outcomes_from_rows(label, ids, mine, group_rows(part, "samples", pool, kind)))
        return out
    name = model or sample_model_name(rows)
    n_graded = n_correct = None
    if {"n_samples", "n_correct"} <= set(df.columns):
        n_correct = df["n_correct"].to_list()
        n_graded = [0 if c is None else n for n, c in zip(df["n_samples"].to_list(), n_correct, strict=True)]
    return [outcomes_from_rows(name, ids, rows, group_rows(df, "samples", pool, kind),
                               n_graded=n_graded, n_correct=n_correct)]
