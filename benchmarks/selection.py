"""Time to bin, balance and select on N problems x k samples (pass rates and lengths only).

Each step runs on polars columns; where a straightforward baseline exists it runs in the same
process on the same table, side by side:

- balance: pandas ``groupby(bin, domain).sample(quota)`` (no refill of short cells);
- s1 selection: the recipe as written, a loop that picks a domain, recomputes 2^-rank weights
  over what is left there and draws with ``numpy.random.choice``.

Usage: ``python benchmarks/selection.py --n 1000000 --k 16`` (POLARS_MAX_THREADS=2 by default).
Peak memory is the process's maximum resident set size (``ru_maxrss``).
"""

from __future__ import annotations

import argparse
import os
import resource
import time

os.environ.setdefault("POLARS_MAX_THREADS", "2")

import numpy as np  # noqa: E402
import polars as pl  # noqa: E402

from curator.selection.curriculum import assign_splits  # noqa: E402
from curator.selection.difficulty import Difficulty, pass_rate_columns  # noqa: E402
from curator.selection.rl_pool import balanced_sample, largest_remainder, mirrored_j  # noqa: E402
from curator.selection.small_sets import select_s1, trace_length  # noqa: E402

DOMAINS = [f"d{i:02d}" for i in range(50)]


def rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def make_table(n: int, k: int, seed: int = 0) -> pl.DataFrame:
    """n problems, each with k samples holding only ``correct`` and ``completion_tokens``."""
    rng = np.random.default_rng(seed)
    p = rng.beta(0.6, 0.6, n)
    correct = rng.random((n, k)) < p[:, None]
    tokens = rng.lognormal(8.0, 0.6, (n, k)).astype(np.int64)
    samples = pl.DataFrame({"correct": correct.ravel(), "completion_tokens": tokens.ravel()}).select(
        pl.struct("correct", "completion_tokens").alias("s"))["s"]
    lists = pl.Series("samples", samples).reshape((n, k)).cast(pl.List(samples.dtype))
    return pl.DataFrame({"id": [f"{i:08d}" for i in range(n)],
                         "domain": rng.choice(DOMAINS, n).tolist(), "samples": lists})


def timed(label: str, fn, rows: list) -> object:
    t0 = time.perf_counter()
    out = fn()
    rows.append((label, time.perf_counter() - t0, rss_mib()))
    return out


def pandas_balance(df: pl.DataFrame, size: int, seed: int) -> int:
    pdf = df.select("id", "bin", "domain").to_pandas()
    bins = sorted(pdf["bin"].unique())
    quota = largest_remainder(size, {b: 1.0 for b in bins})
    parts = []
    for b, g in pdf.groupby("bin"):
        doms = sorted(g["domain"].unique())
        dq = largest_remainder(quota[b], {d: 1.0 for d in doms})
        for d, gg in g.groupby("domain"):
            parts.append(gg.sample(n=min(dq[d], len(gg)), random_state=seed))
    return sum(len(p) for p in parts)


def loop_s1(df: pl.DataFrame, n: int, seed: int) -> int:
    """s1's draw as a loop: domain uniformly, then 2^-rank over the remaining items of it."""
    rng = np.random.default_rng(seed)
    pools = {}
    for (d,), g in df.select("domain", "trace_length").with_row_index("i").group_by("domain"):
        g = g.sort("trace_length", descending=True)
        pools[d] = list(g["i"].to_numpy())
    picked = []
    while len(picked) < n and pools:
        d = sorted(pools)[int(rng.integers(len(pools)))]
        items = pools[d]
        w = 2.0 ** -np.arange(len(items), dtype=np.float64)
        j = int(rng.choice(len(items), p=w / w.sum()))
        picked.append(items.pop(j))
        if not items:
            del pools[d]
    return len(picked)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--n", type=int, default=1_000_000)
    ap.add_argument("--k", type=int, default=16)
    ap.add_argument("--pool", type=int, default=100_000, help="RL pool target size")
    ap.add_argument("--s1", type=int, default=1000)
    args = ap.parse_args()
    rows: list = []
    df = timed("make table (not counted)", lambda: make_table(args.n, args.k), rows)
    t_start = time.perf_counter()
    df = timed("pass rate from samples", lambda: pass_rate_columns(df), rows)
    out = timed("difficulty: fixed bins, drop 0/k k/k", lambda: Difficulty(drop_unsolved=True,
                                                                          drop_saturated=True).apply(df), rows)
    kept = out.kept
    timed("difficulty: quartile bins", lambda: Difficulty(method="quantile").apply(df), rows)
    timed("curriculum: 5 disjoint stages", lambda: assign_splits(kept, 5), rows)
    mask, rep = timed(f"balance {args.pool:,}: bins x domains, uniform",
                      lambda: balanced_sample(kept, args.pool, seed=0), rows)
    bins = [b["bin"] for b in out.info["bins"] if b["bin"] not in ("unsolved", "saturated")]
    timed(f"balance {args.pool:,}: mirrored-J histogram",
          lambda: balanced_sample(kept, args.pool, distribution=mirrored_j(bins[::-1]), seed=0), rows)
    timed(f"  baseline: pandas groupby.sample {args.pool:,}", lambda: pandas_balance(kept, args.pool, 0), rows)
    lengths = timed("trace length from samples", lambda: trace_length(kept), rows)
    kept = kept.with_columns(lengths)
    s1in = kept.with_columns(pl.lit(0.0).alias("pass_rate"))
    timed(f"select_s1 {args.s1:,}", lambda: select_s1(s1in, args.s1, seed=0, length_column="trace_length"), rows)
    timed(f"  baseline: s1 loop {args.s1:,}", lambda: loop_s1(s1in, args.s1, 0), rows)
    total = time.perf_counter() - t_start
    print(f"\n{args.n:,} problems x {args.k} samples, POLARS_MAX_THREADS={os.environ['POLARS_MAX_THREADS']}, "
          f"{len(os.sched_getaffinity(0))} cores visible; kept after 0/k,k/k drop: {kept.height:,}; "
          f"pool selected {rep['selected']:,}\n")
    print("| step | seconds | peak RSS MiB |\n|---|---:|---:|")
    for label, sec, mem in rows:
        print(f"| {label} | {sec:.2f} | {mem:,.0f} |")
    print(f"| total after table build (incl. baselines) | {total:.2f} | {rss_mib():,.0f} |")


if __name__ == "__main__":
    main()
