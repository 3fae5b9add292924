"""How fast a fresh verify worker grades its first item (the pool starts one after every time-out).

Before: the process-wide forkserver, preloading ``curator.answers.verify`` only (which imports
neither math-verify nor sympy), so each new worker imports them on its first item. After: the
verify pool's own forkserver (``curator.answers.process_context``), preloading math-verify and
sympy. Each variant runs in a fresh interpreter; the variants alternate; the load average is printed.

    python benchmarks/verify_restart.py --rounds 3 --workers 6
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from multiprocessing.connection import Connection
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
#: needs math-verify (and so sympy): no exact rule decides it
ITEM = ("<think>expand it</think> The answer is \\boxed{(x+1)^2}", "x^2+2x+1", "math", None)


def grade_once(conn: Connection) -> None:
    """In the worker: grade one item, send the verdict."""
    from curator.answers.verify import grade_item

    conn.send(grade_item(*ITEM))
    conn.close()


def run_variant(variant: str, workers: int) -> list[float]:
    """Seconds from starting each worker to its first verdict; the first includes the server's start."""
    import multiprocessing as mp

    if variant == "before":
        ctx = mp.get_context("forkserver")
        ctx.set_forkserver_preload(["curator.answers.verify"])
    else:
        from curator.answers.process_context import verify_context

        ctx = verify_context()
    times = []
    for _ in range(workers):
        parent, child = ctx.Pipe()
        t0 = time.perf_counter()
        proc = ctx.Process(target=grade_once, args=(child,), daemon=True)
        proc.start()
        child.close()
        assert parent.recv() == ("(x+1)^2", True)
        times.append(time.perf_counter() - t0)
        proc.join()
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--workers", type=int, default=6)
    ap.add_argument("--variant", choices=["before", "after"], help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.variant:  # one measurement, in this fresh interpreter
        print(json.dumps(run_variant(args.variant, args.workers)))
        return
    print(f"load average before: {os.getloadavg()}")
    results: dict[str, list[list[float]]] = {"before": [], "after": []}
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    for r in range(args.rounds):
        order = ("before", "after") if r % 2 == 0 else ("after", "before")
        for variant in order:
            out = subprocess.run([sys.executable, __file__, "--variant", variant, "--workers", str(args.workers)],
                                 capture_output=True, text=True, env=env, cwd=ROOT, check=True)
            results[variant].append(json.loads(out.stdout.strip().splitlines()[-1]))
    print(f"load average after: {os.getloadavg()}")
    print(f"{'variant':<8}{'first worker (s)':>18}{'each later worker, median (s)':>32}")
    for variant, runs in results.items():
        first = statistics.median(run[0] for run in runs)
        later = statistics.median(t for run in runs for t in run[1:])
        print(f"{variant:<8}{first:>18.2f}{later:>32.3f}")


if __name__ == "__main__":
    main()
