"""pass@k and maj@k over many problems at once, vectorised, with bootstrap intervals.

Every function takes per-problem arrays (one row per problem, one column per sample, padded
with ``-1`` / ``False`` where a problem has fewer samples) and returns one value per problem
and k, so a 100,000 x 256 build is a handful of numpy operations, not a Python loop.

- pass@k is the Codex paper's unbiased estimator, 1 - C(n-c, k) / C(n, k), computed from
  cumulative log terms so that every (problem, k) pair costs two lookups.
- maj@k (DeepSeek-Math; R1's cons@64) is the chance that a vote over k samples drawn from the
  n available picks a correct answer. Answers are grouped by equivalence beforehand (group
  ids); a sample with no answer counts in k but never wins; a tie among t groups that
  includes the correct one scores 1/t. It is averaged over ``draws`` random orders of the n
  samples (each order's prefixes are nested draws of k), which is unbiased for every k.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

#: bootstrap resamples per interval; 1,000 is the usual default (Efron & Tibshirani)
BOOTSTRAP_RESAMPLES = 1000


def powers_of_two(n_max: int) -> list[int]:
    """k = 1, 2, 4, ... up to ``n_max``, and ``n_max`` itself when it is not a power of two.

    >>> powers_of_two(12), powers_of_two(1), powers_of_two(0)
    ([1, 2, 4, 8, 12], [1], [])
    """
    ks: list[int] = []
    k = 1
    while k <= n_max:
        ks.append(k)
        k *= 2
    if n_max >= 1 and ks[-1] != n_max:
        ks.append(n_max)
    return ks


def pass_at_k(n: np.ndarray, c: np.ndarray, ks: Sequence[int]) -> np.ndarray:
    """Unbiased pass@k for every problem (rows) and k (columns); NaN where n < k.

    ``1 - C(n-c, k)/C(n, k) = 1 - prod_{i=n-c+1}^{n} (1 - k/i)``; with ``L_k[m]`` the
    cumulative sum of ``log(1 - k/i)`` over ``i = k+1..m``, the product is
    ``exp(L_k[n] - L_k[n-c])`` whenever ``n - c >= k`` (and pass@k is 1 otherwise).

    >>> pass_at_k(np.array([10, 10, 4]), np.array([3, 0, 4]), [1, 5]).round(3).tolist()
    [[0.3, 0.917], [0.0, 0.0], [1.0, nan]]
    """
    n = np.asarray(n, dtype=np.int64)
    c = np.asarray(c, dtype=np.int64)
    if n.shape != c.shape or n.ndim != 1:
        raise ValueError("pass_at_k: n and c must be 1-d arrays of the same length")
    if np.any(c < 0) or np.any(c > n):
        raise ValueError("pass_at_k: every count must satisfy 0 <= c <= n")
    n_max = int(n.max()) if n.size else 0
    out = np.full((n.size, len(ks)), np.nan)
    i = np.arange(1, n_max + 1, dtype=np.float64)
    for col, k in enumerate(ks):
        if k < 1:
            raise ValueError(f"pass_at_k: k must be >= 1, got {k}")
        terms = np.zeros(n_max + 1)
        with np.errstate(divide="ignore", invalid="ignore"):
            terms[1:] = np.where(i > k, np.log1p(-k / i), 0.0)
        cum = np.cumsum(terms)
        ok = n >= k
        fail = n - c
        solvable = ok & (fail >= k)
        val = np.ones(n.size)
        val[solvable] = 1.0 - np.exp(cum[n[solvable]] - cum[fail[solvable]])
        out[ok, col] = val[ok]
    return out


def maj_at_k(groups: np.ndarray, correct_group: np.ndarray, n: np.ndarray, ks: Sequence[int], *,
             draws: int = 8, seed: int = 0, chunk_rows: int = 16384) -> np.ndarray:
    """maj@k for every problem and k: the expected vote score over random draws of k samples.

    ``groups[p, j]`` is the answer group of sample j (``-1``: no answer, or padding past
    ``n[p]``); ``correct_group[p]`` the group that is correct (``-1``: none is). Returns NaN
    where ``n < k``. Problems are processed ``chunk_rows`` at a time to bound memory.

    >>> g = np.array([[0, 0, 1, -1], [1, 0, 2, 3]])
    >>> maj_at_k(g, np.array([0, 0]), np.array([4, 4]), [4]).tolist()
    [[1.0], [0.25]]
    """
    groups = np.asarray(groups, dtype=np.int64)
    n = np.asarray(n, dtype=np.int64)
    correct_group = np.asarray(correct_group, dtype=np.int64)
    out = np.full((groups.shape[0], len(ks)), np.nan)
    rng = np.random.default_rng(seed)
    for start in range(0, groups.shape[0], chunk_rows):
        rows = slice(start, start + chunk_rows)
        out[rows] = _maj_chunk(groups[rows], correct_group[rows], n[rows], ks, draws, rng)
    return out


def _maj_chunk(groups: np.ndarray, correct_group: np.ndarray, n: np.ndarray, ks: Sequence[int], draws: int,
               rng: np.random.Generator) -> np.ndarray:
    """Per draw: one random order of each problem's samples; the counts of every answer group in
    each prefix of length k come from one ``bincount`` per k (over the samples since the last k)."""
    p, width = groups.shape
    top_id = max(int(groups.max()) if groups.size else -1, int(correct_group.max()) if correct_group.size else -1)
    n_groups = top_id + 2  # slot 0 = "no answer"
    want = [k for k in sorted(set(int(k) for k in ks)) if k <= width]
    sums = {k: np.zeros(p) for k in want}
    base = (np.arange(p, dtype=np.int64) * n_groups)[:, None]
    target = correct_group + 1  # shifted like the counts; 0 = no correct group
    rows = np.arange(p)
    for _ in range(draws):
        keys = rng.random((p, width), dtype=np.float32)
        keys[np.arange(width)[None, :] >= n[:, None]] = np.inf  # padding goes last
        drawn = np.take_along_axis(groups, np.argsort(keys, axis=1), axis=1) + 1
        counts = np.zeros(p * n_groups, dtype=np.int32)
        done = 0
        for k in want:
            counts += np.bincount((base + drawn[:, done:k]).ravel(), minlength=p * n_groups).astype(np.int32)
            done = k
            table = counts.reshape(p, n_groups)
            answers = table[:, 1:]  # slot 0 (no answer) never wins
            top = answers.max(axis=1) if n_groups > 1 else np.zeros(p, dtype=np.int32)
            at_top = (answers == top[:, None]).sum(axis=1)
            hit = (target > 0) & (top > 0) & (table[rows, target] == top)
            sums[k] += np.where(hit, 1.0 / np.maximum(at_top, 1), 0.0)
    out = np.full((p, len(ks)), np.nan)
    for col, k in enumerate(ks):
        ok = n >= k
        if int(k) in sums:
            out[ok, col] = sums[int(k)][ok] / draws
    return out


def bootstrap_mean(values: np.ndarray, *, resamples: int = BOOTSTRAP_RESAMPLES, level: float = 0.95,
                   seed: int = 0, cells: int = 10_000_000) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean over problems per column and its percentile bootstrap interval (resampling problems).

    NaNs (problems with fewer samples than k) are left out of each column's mean. Each
    resample is a vector of draw counts per problem (one ``bincount``), so every column's
    resampled mean is one matrix product; ``cells`` bounds the count matrix held at once.

    >>> m, lo, hi = bootstrap_mean(np.array([[0.0], [1.0], [1.0], [0.0]]), resamples=200)
    >>> float(m[0]), bool(lo[0] < 0.5 < hi[0])
    (0.5, True)
    """
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 2:
        raise ValueError("bootstrap_mean: values must be a 2-d array (problems x k)")
    p, cols = values.shape
    lo, hi = np.full(cols, np.nan), np.full(cols, np.nan)
    if p == 0:
        return np.full(cols, np.nan), lo, hi
    with np.errstate(invalid="ignore"):
        mean = np.nanmean(values, axis=0)
    present = ~np.isnan(values)
    filled = np.where(present, values, 0.0)
    rng = np.random.default_rng(seed)
    stats = np.empty((resamples, cols))
    chunk = max(1, cells // p)
    weights_of_present = present.astype(np.float64)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        counts = np.empty((size, p))
        for r in range(size):
            counts[r] = np.bincount(rng.integers(0, p, size=p), minlength=p)
        with np.errstate(invalid="ignore", divide="ignore"):
            stats[start:start + size] = (counts @ filled) / (counts @ weights_of_present)
    alpha = (1.0 - level) / 2
    with np.errstate(invalid="ignore"):
        for col in range(cols):
            if present[:, col].any():
                column = stats[:, col]
                column = column[~np.isnan(column)]
                lo[col], hi[col] = np.quantile(column, [alpha, 1 - alpha])
    return mean, lo, hi
