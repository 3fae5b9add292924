"""pass@k and maj@k for N problems x K samples: vectorised curves vs a per-problem Python loop.

The outcomes are drawn the way real k-sample builds look: each problem has a solve rate from
a Beta(0.5, 0.5) mix (many near 0 or 1, as DAPO / Skywork-OR1 report), a correct sample answers
group 0, a wrong one one of a few distractor answers (Zipf-weighted, as wrong answers cluster),
and 3% of samples have no answer. Both contenders compute pass@k for k = 1, 2, 4, ..., K and
maj@k with 8 random vote orders per problem; the loop is the straightforward version (the
Codex product per problem and k, a Counter vote per draw) on a subset of problems, timed and
scaled per problem, since at 100,000 x 256 it would run for hours. Both run in a fresh process
each (alternating order, twice) so peak memory is each one's own ``ru_maxrss``.

Usage: ``python benchmarks/boundary.py --problems 100000 --samples 256 --loop-problems 500``
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from collections import Counter

import numpy as np


def make_outcomes(problems: int, samples: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    rate = rng.beta(0.5, 0.5, size=problems)
    correct = rng.random((problems, samples)) < rate[:, None]
    distractors = 1 + rng.zipf(1.6, size=(problems, samples)).clip(max=12)  # groups 1..12
    groups = np.where(correct, 0, distractors).astype(np.int64)
    groups[rng.random((problems, samples)) < 0.03] = -1
    correct &= groups == 0
    return groups, correct, np.zeros(problems, dtype=np.int64)


def ks_for(samples: int) -> list[int]:
    from curator.analysis.curves import powers_of_two

    return powers_of_two(samples)


def run_vectorised(problems: int, samples: int) -> dict[str, float]:
    from curator.analysis.curves import bootstrap_mean, maj_at_k, pass_at_k

    groups, correct, right = make_outcomes(problems, samples)
    n = np.full(problems, samples)
    ks = ks_for(samples)
    t0 = time.perf_counter()
    pk = pass_at_k(n, correct.sum(axis=1), ks)
    t1 = time.perf_counter()
    mk = maj_at_k(groups, right, n, ks, draws=8)
    t2 = time.perf_counter()
    bootstrap_mean(pk, resamples=1000)
    bootstrap_mean(mk, resamples=1000)
    t3 = time.perf_counter()
    return {"pass_s": t1 - t0, "maj_s": t2 - t1, "bootstrap_s": t3 - t2, "total_s": t3 - t0,
            "problems_timed": problems, "pass_at_max_k": float(np.nanmean(pk[:, -1])),
            "maj_at_max_k": float(np.nanmean(mk[:, -1]))}


def loop_pass(n: int, c: int, k: int) -> float:
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def run_loop(problems: int, samples: int) -> dict[str, float]:
    groups, correct, right = make_outcomes(problems, samples)
    ks = ks_for(samples)
    rng = np.random.default_rng(0)
    t0 = time.perf_counter()
    for p in range(problems):
        c = int(correct[p].sum())
        for k in ks:
            loop_pass(samples, c, k)
    t1 = time.perf_counter()
    for p in range(problems):
        row = groups[p].tolist()
        for _ in range(8):
            order = rng.permutation(samples)
            for k in ks:
                votes = Counter(row[j] for j in order[:k] if row[j] >= 0)
                if votes:
                    top = max(votes.values())
                    winners = [g for g, v in votes.items() if v == top]
                    _ = (1.0 / len(winners)) if right[p] in winners else 0.0
    t2 = time.perf_counter()
    return {"pass_s": t1 - t0, "maj_s": t2 - t1, "bootstrap_s": 0.0, "total_s": t2 - t0,
            "problems_timed": problems}


def child(which: str, problems: int, samples: int) -> None:
    import resource

    result = (run_vectorised if which == "vectorised" else run_loop)(problems, samples)
    result["peak_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(result))


def spawn(which: str, problems: int, samples: int) -> dict[str, float]:
    out = subprocess.run([sys.executable, __file__, "--child", which, "--problems", str(problems),
                          "--samples", str(samples)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", type=int, default=100_000)
    ap.add_argument("--samples", type=int, default=256)
    ap.add_argument("--loop-problems", type=int, default=500, help="problems the Python loop is timed on")
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--child", choices=("vectorised", "loop"))
    args = ap.parse_args()
    if args.child:
        child(args.child, args.problems, args.samples)
        return
    print(f"load average at start: {os.getloadavg()}")
    rows = []
    for r in range(args.repeats):
        order = ("vectorised", "loop") if r % 2 == 0 else ("loop", "vectorised")
        for which in order:
            n = args.problems if which == "vectorised" else args.loop_problems
            res = spawn(which, n, args.samples)
            per = (res["pass_s"] + res["maj_s"]) / res["problems_timed"]  # bootstrap: only the vectorised side has one
            rows.append((which, r, res, per))
    print(f"{args.problems:,} problems x {args.samples} samples, k = {ks_for(args.samples)}")
    print(f"{'contender':<11} {'run':>3} {'problems timed':>14} {'pass@k s':>9} {'maj@k s':>9} {'bootstrap s':>11} "
          f"{'total s':>9} {'pass+maj s for N (scaled)':>25} {'peak MiB':>9}")
    for which, r, res, per in rows:
        print(f"{which:<11} {r:>3} {res['problems_timed']:>14,} {res['pass_s']:>9.2f} {res['maj_s']:>9.2f} "
              f"{res['bootstrap_s']:>11.2f} {res['total_s']:>9.2f} {per * args.problems:>25.1f} {res['peak_mib']:>9.0f}")
    vec = np.median([per for w, _, _, per in rows if w == "vectorised"])
    loop = np.median([per for w, _, _, per in rows if w == "loop"])
    print(f"median per problem (pass@k + maj@k): vectorised {vec * 1e6:.1f} us, loop {loop * 1e6:.1f} us "
          f"-> {loop / vec:.0f}x")
    print(f"load average at end: {os.getloadavg()}")


if __name__ == "__main__":
    main()
