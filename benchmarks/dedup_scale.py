"""Dedup alone at scale: ``filters.dedup.dedup_groups`` against the per-row grouping it replaced.

The problems are ``scale_data.make_problems`` (English and Chinese from shared templates and
numbers, real-length statements, planted exact and near duplicates) with the ids the loader
gives them. The baseline is the grouping as it was (``benchmarks/dedup_frozen.py``). Each
(size, method) runs in a fresh process; methods alternate order between rounds; the load
average is printed at the start and end of every round. Peak RSS is the process's during
dedup, sampled every 50 ms, data included (``rss before``: after loading, before dedup). Every run's ``dup_group`` and
``dup_reason`` are compared with the baseline's for that size.

    python benchmarks/dedup_scale.py --sizes 100000,300000,1000000 --rounds 2
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))
sys.path.insert(0, str(HERE))

METHODS = ("frozen", "current")


def _child(method: str, data: str, out: str, queue) -> None:  # noqa: ANN001 - a multiprocessing queue
    import psutil

    if method == "frozen":
        from dedup_frozen import dedup_groups
    else:
        from filters.dedup import dedup_groups
    df = pl.read_parquet(data)
    proc = psutil.Process()
    before = peak = proc.memory_info().rss
    done = threading.Event()

    def sample() -> None:  # ru_maxrss would include the parent's peak: spawn forks before it executes
        nonlocal peak
        while not done.is_set():
            peak = max(peak, proc.memory_info().rss)
            time.sleep(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    t0, c0 = time.perf_counter(), time.process_time()
    marks, info = dedup_groups(df)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    done.set()
    sampler.join()
    marks.write_parquet(out)
    queue.put((seconds, cpu, before / 2**20, peak / 2**20, info))


def measure(method: str, data: Path, out: Path) -> tuple[float, float, float, float, dict]:
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(method, str(data), str(out), queue))
    proc.start()
    result = queue.get()
    proc.join()
    return result


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="100000,300000", help="problem counts, comma-separated")
    ap.add_argument("--rounds", type=int, default=2, help="rounds; even rounds run the methods in reverse")
    args = ap.parse_args()
    from scale_data import make_problems

    from curator.core.table import conform

    sizes = [int(x) for x in args.sizes.split(",")]
    print(f"{'size':>9} {'method':<8}{'seconds':>9}{'CPU s':>8}{'rss before MiB':>15}{'peak MiB':>10}")
    best: dict[tuple[int, str], float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        data = {}
        for n in sizes:
            data[n] = Path(tmp) / f"p{n}.parquet"
            conform(make_problems(n)).select("id", "problem", "answer", "source").write_parquet(data[n])
        for k in range(args.rounds):
            order = METHODS if k % 2 == 0 else METHODS[::-1]
            print(f"-- round {k + 1} ({', '.join(order)}); {_load()}", flush=True)
            for n in sizes:
                outs = {}
                for method in order:
                    outs[method] = Path(tmp) / f"{method}{n}.parquet"
                    seconds, cpu, before, peak, info = measure(method, data[n], outs[method])
                    best[(n, method)] = min(best.get((n, method), float("inf")), seconds)
                    print(f"{n:>9} {method:<8}{seconds:>9.2f}{cpu:>8.2f}{before:>15.0f}{peak:>10.0f}"
                          f"  exact {info['exact_duplicates']}, near {info['near_duplicates']}", flush=True)
                same = pl.read_parquet(outs["current"]).equals(pl.read_parquet(outs["frozen"]))
                print(f"{n:>9} dup_group and dup_reason identical: {same}", flush=True)
                for p in outs.values():
                    p.unlink(missing_ok=True)
            print(f"-- end of round {k + 1}; {_load()}", flush=True)
    print("best of rounds (seconds):")
    for method in METHODS:
        times = [best[(n, method)] for n in sizes]
        growth = f"; growth {sizes[0] // 1000}k -> {sizes[-1] // 1000}k: {times[-1] / times[0]:.1f}x" \
            if len(sizes) > 1 else ""
        print(f"  {method:<8}" + "  ".join(f"{n // 1000}k {t:.2f}" for n, t in zip(sizes, times, strict=True))
              + growth)


if __name__ == "__main__":
    main()
