"""How cost grows with input: load -> quality -> language -> exact + near dedup -> decontaminate -> write.

Generated problems (templated arithmetic and word problems, 5% exact and 5% near duplicates
planted, 3% Chinese, 2% without an answer, a few copied from the sample benchmark). Each
(size, engine) runs in a fresh process; peak memory is the largest sampled RSS sum of that
process and every process under it (Ray's raylet and workers included).

    python benchmarks/scale.py                       # 100k, 300k, 1M locally and on Ray x1, x2
    python benchmarks/scale.py --sizes 20000 --ray-sizes 20000   # quick
"""

from __future__ import annotations

import argparse
import json
import random
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl

NAMES = ["Ava", "Ben", "Chen", "Dara", "Eli", "Fatima", "Goro", "Hana", "Ivan", "Jon", "Kemal", "Lena"]
ITEMS = ["apples", "marbles", "stamps", "books", "coins", "shells", "pencils", "cards", "stickers", "beads"]
VERBS = ["buys", "finds", "collects", "receives", "wins", "borrows"]
ZH = "小明有{a}个苹果，又买了{b}个，然后送给朋友{c}个。他现在有多少个苹果？"


def make_problems(n: int, seed: int = 0) -> pl.DataFrame:
    """``n`` problems with planted duplicates; deterministic for a seed."""
    rng = random.Random(seed)
    problems, answers = [], []
    for _ in range(n):
        r = rng.random()
        if problems and r < 0.05:  # exact duplicate (whitespace / case changed)
            j = rng.randrange(len(problems))
            problems.append("  " + problems[j].upper() if rng.random() < 0.5 else problems[j] + " ")
            answers.append(answers[j])
            continue
        if problems and r < 0.10:  # near duplicate: words changed, numbers kept
            j = rng.randrange(len(problems))
            problems.append(problems[j].replace("How many", "How many in total,").replace(" then ", " later "))
            answers.append(answers[j])
            continue
        a, b, c = rng.randint(10, 999), rng.randint(10, 999), rng.randint(1, 9)
        if r < 0.13:
            problems.append(ZH.format(a=a, b=b, c=c))
            answers.append(str(a + b - c))
            continue
        who, item, verb = rng.choice(NAMES), rng.choice(ITEMS), rng.choice(VERBS)
        problems.append(f"{who} has {a} {item}. {who} then {verb} {b} more {item} and gives {c} to a friend "
                        f"on each of {c} days. How many {item} does {who} have now? ({rng.randrange(10**9)})")
        answers.append(None if r > 0.98 else str(a + b - c * c))
    return pl.DataFrame({"problem": problems, "answer": answers, "source": "synthetic"})


def pipeline(path: str, benchmark: str):  # noqa: ANN201 - a curator Pipeline
    from curator import Pipeline, map_stage
    from curator.core.sources import ReadProblems
    from filters.decontaminate import Decontaminate
    from filters.dedup import Dedup
    from filters.language import script_language
    from filters.quality import ProblemQuality, QualityRules

    def detect_language(df: pl.DataFrame) -> pl.DataFrame:
        # script rules only: filters.language.detect_language builds a langdetect factory (loads
        # every profile) per row, about 5 ms a row, which would dominate every size here
        langs = [script_language(p or "") or "en" for p in df["problem"]]
        return df.with_columns(pl.Series("language", langs, dtype=pl.String))

    return Pipeline("scale", ReadProblems(path=path, split=None), [
        ProblemQuality(rules=QualityRules(unparseable_answer=False)),
        map_stage(detect_language, name="language", needs=("problem",), adds=("language",)),
        Dedup(),
        Decontaminate(benchmarks=(benchmark,)),
    ])


class PeakRSS:
    """Largest RSS sum of this process and its descendants, sampled every 0.2 s."""

    def __init__(self) -> None:
        import psutil

        self.proc, self.peak, self._stop = psutil.Process(), 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psutil

        while not self._stop.is_set():
            total = 0
            for p in [self.proc, *self.proc.children(recursive=True)]:
                try:
                    total += p.memory_info().rss
                except psutil.Error:
                    continue
            self.peak = max(self.peak, total)
            time.sleep(0.2)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def run_one(size: int, engine: str, workers: int, tmp: Path) -> dict:
    """One build in this process; returns its numbers."""
    from curator.core.sources import SAMPLE_PROBLEMS
    from curator.executors import RayExecutor

    data = tmp / f"problems-{size}.parquet"
    bench = str(SAMPLE_PROBLEMS.parent / "sample_benchmark.jsonl")
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        executor: object = "local"
        if engine == "ray":
            import ray

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            executor = RayExecutor(tasks=max(2, size // 50_000), workers=workers)
        t_start = time.perf_counter() - t0
        t1 = time.perf_counter()
        df = pipeline(str(data), bench).run(tmp / f"out-{engine}-{workers}-{size}", executor=executor,  # type: ignore[arg-type]
                                            quiet=True)
        seconds = time.perf_counter() - t1
    funnel = json.loads((tmp / f"out-{engine}-{workers}-{size}" / "funnel.json").read_text())["stages"]
    return {"size": size, "engine": engine, "workers": workers, "seconds": round(seconds, 1),
            "rows_per_s": round(size / seconds), "peak_rss_gb": round(mem.peak / 2**30, 2),
            "ray_start_s": round(t_start, 1), "rows_out": df.height,
            "stage_seconds": {s["stage"]: round(s["seconds"], 1) for s in funnel}}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="100000,300000,1000000")
    ap.add_argument("--ray-sizes", default="100000,300000,1000000")
    ap.add_argument("--one", default="")  # internal: size,engine,workers,tmp
    args = ap.parse_args()
    if args.one:
        size, engine, workers, tmp = args.one.split(",")
        print(json.dumps(run_one(int(size), engine, int(workers), Path(tmp))))
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    ray_sizes = [int(s) for s in args.ray_sizes.split(",") if s]
    with tempfile.TemporaryDirectory() as tmp:
        for n in sorted(set(sizes) | set(ray_sizes)):
            make_problems(n).write_parquet(Path(tmp) / f"problems-{n}.parquet")
        jobs = [(n, "local", 1) for n in sizes] + [(n, "ray", w) for n in ray_sizes for w in (1, 2)]
        rows = []
        for n, engine, workers in jobs:
            res = subprocess.run([sys.executable, __file__, "--one", f"{n},{engine},{workers},{tmp}"],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                print(f"{n} {engine} x{workers} failed:\n{res.stderr[-2000:]}", file=sys.stderr)
                continue
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            r = rows[-1]
            print(f"{r['size']:>9,} {r['engine']:>5} x{r['workers']}  {r['seconds']:>7.1f} s  "
                  f"{r['rows_per_s']:>7,} rows/s  peak {r['peak_rss_gb']:>5.2f} GiB  {r['stage_seconds']}", flush=True)
    base = {r["size"]: r for r in rows if r["engine"] == "local"}
    print("\n| problems | engine | seconds | rows/s | peak RSS (GiB) | x time vs 100k |")
    print("|---:|---|---:|---:|---:|---:|")
    first = min(base) if base else None
    for r in rows:
        rel = f"{r['seconds'] / base[first]['seconds']:.1f}" if first and r["engine"] == "local" else ""
        label = "local" if r["engine"] == "local" else f"ray, {r['workers']} worker(s)"
        print(f"| {r['size']:,} | {label} | {r['seconds']} | {r['rows_per_s']:,} | {r['peak_rss_gb']} | {rel} |")


if __name__ == "__main__":
    main()
