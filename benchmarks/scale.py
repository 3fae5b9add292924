"""How cost grows with input, for problems and for long chains of thought, against plain loops.

Problems: the cold-start recipe's CPU stages before generation, taken from
``pipelines/cold_start.py`` itself (quality rules, exact + near dedup, decontamination,
keyword domains), then problem-language detection (``filters.language.ProblemLanguage``, the
default detector), on generated problems (``benchmarks/scale_data.py``: English and Chinese
from shared templates and numbers, real-length statements). The plain loop applies the same
rules per row in Python: ``quality_reason``, seeded langdetect, exact dedup on normalized
text, datasketch MinHash LSH for near duplicates, word 8-gram decontamination.

Samples: generated long chains (~4k tokens; correct, wrong, truncated, mixed-language and
repetitive) through Verify -> Readability -> LanguageConsistency -> RejectionSample as the
recipe configures them, streamed in bounded memory (``curator.core.streaming``). The plain
loop: math-verify parse + verify of every whole chain and langdetect on it.

Every (size, contender) runs in a fresh process; peak memory is the largest sampled RSS sum
of that process and its children (workers included). Contenders alternate order per repeat.

    python benchmarks/scale.py problems --sizes 100000,300000,1000000 --plain-sizes 100000
    python benchmarks/scale.py samples --sizes 100000 --plain 1000
    python benchmarks/scale.py rules --sizes 100000                  # quality rules and domains vs references
    python benchmarks/scale.py problems --sizes 100000 --ray 1,2     # the Ray executor, 1 and 2 workers
    python benchmarks/scale.py samples --sizes 20000 --ray 1,2 --one-worker --plain 0 --repeat 2
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import polars as pl

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(ROOT / "pipelines"))  # the recipe files are scripts, not a package


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


# -- problems ------------------------------------------------------------------------------------
def problem_stages() -> list:
    """The recipe's stages before ``Generate``, exactly as ``pipelines/cold_start.py`` builds them,
    then problem-language detection. The loader already fills ``language`` for every row without
    one (the same default detector), so detection is timed inside ``load``; ``ProblemLanguage``
    finds nothing left to detect."""
    from cold_start import Params, build

    from curator.generation import Generate
    from filters.language import ProblemLanguage

    stages = list(build(Params()).stages)
    cut = next(i for i, s in enumerate(stages) if isinstance(s, Generate))
    return [*stages[:cut], ProblemLanguage()]


def run_problems(path: Path, out: Path, executor: object = "local") -> dict:
    from curator import Pipeline
    from curator.core.sources import ReadProblems

    df = Pipeline("scale", ReadProblems(path=str(path), split=None), problem_stages(), finishers=()).run(
        out, executor=executor, quiet=True)  # type: ignore[arg-type]
    funnel = json.loads((out / "funnel.json").read_text())["stages"]
    return {"kept": df.height, "stage_s": {s["stage"]: round(s["seconds"], 1) for s in funnel}, "table": df}


def table_digest(df: pl.DataFrame) -> str:
    """What a problem run decided (every kept row and column, in id order): local and Ray must agree."""
    import hashlib

    ordered = df.select(sorted(df.columns)).sort("id", maintain_order=True)
    return hashlib.sha256(ordered.write_ndjson().encode()).hexdigest()[:16]


def plain_problems(path: Path) -> int:
    """The same rules, one row at a time, with the usual per-row tools."""
    from datasketch import MinHash, MinHashLSH
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    from curator.core.sources import SAMPLE_PROBLEMS
    from filters.dedup import normalize_text
    from filters.quality import QualityRules, quality_reason

    rules = QualityRules(multiple_choice=False, true_false=False, yes_no=False)
    factory = DetectorFactory()
    factory.load_profile(PROFILES_DIRECTORY)
    factory.seed = 0
    bench = [json.loads(x)["problem"] for x in (SAMPLE_PROBLEMS.parent / "sample_benchmark.jsonl").read_text().splitlines()]
    grams = {tuple(w[i:i + 8]) for t in bench for w in [t.lower().split()] for i in range(len(w) - 7)}
    lsh = MinHashLSH(threshold=0.8, num_perm=64)
    seen: set[str] = set()
    numbers_of: dict[str, list[str]] = {}
    kept = 0
    df = pl.read_parquet(path)
    for i, (problem, answer, source) in enumerate(df.select("problem", "answer", "source").iter_rows()):
        if quality_reason(problem, answer, source, rules):
            continue
        key = normalize_text(problem)
        if key in seen:
            continue
        seen.add(key)
        words = key.split()
        m = MinHash(num_perm=64)
        m.update_batch([" ".join(words[j:j + 3]).encode() for j in range(max(1, len(words) - 2))])
        numbers = re.findall(r"\d+", key)  # as filters.dedup: other numbers, other problem
        if any(numbers_of[c] == numbers for c in lsh.query(m)):
            continue
        lsh.insert(str(i), m)
        numbers_of[str(i)] = numbers
        if any(tuple(words[j:j + 8]) in grams for j in range(len(words) - 7)):
            continue
        d = factory.create()
        d.append(problem)
        try:
            d.detect()
        except Exception:  # noqa: BLE001 - no letters: the loop's default language
            pass
        kept += 1
    return kept


# -- samples -------------------------------------------------------------------------------------
def sample_stages() -> list:
    """Verify -> Readability -> LanguageConsistency -> RejectionSample, configured as the recipe does."""
    from cold_start import Params, build

    from curator.answers.verify import Verify
    from curator.selection.rejection_sampling import RejectionSample
    from filters.language import LanguageConsistency
    from filters.readability import Readability

    kinds = (Verify, Readability, LanguageConsistency, RejectionSample)
    return [s for s in build(Params()).stages if isinstance(s, kinds)]


def run_samples(path: Path, out: Path, batch_rows: int, workers: int = 2, ray_workers: int = 0) -> dict:
    """The sample stages streamed over ``workers`` processes (or ``ray_workers`` Ray actors); the
    digest of the decisions (``parts_digest``) must be the same for every contender."""
    from curator.core.streaming import parts_digest, stream_stages, stream_stages_ray

    if ray_workers:
        res = stream_stages_ray(sample_stages(), path, out, batch_rows=batch_rows, workers=ray_workers)
    else:
        res = stream_stages(sample_stages(), path, out, batch_rows=batch_rows, workers=workers)
    return {"kept": res.stats[-1].samples_out, "digest": parts_digest(out)[:16],
            "stage_s": {s.stage: round(s.seconds, 1) for s in res.stats}}  # summed over workers


def plain_samples(path: Path, limit: int) -> int:
    """math-verify parse + verify of each whole chain against its gold, and langdetect on it."""
    from langdetect import DetectorFactory, detect
    from math_verify import parse, verify

    from curator.core.streaming import parquet_batches

    DetectorFactory.seed = 0
    done = correct = 0
    for df in parquet_batches(path, 256):
        for answer, samples in df.select("answer", "samples").iter_rows():
            gold = parse(f"${answer}$")
            for s in samples:
                if done >= limit:
                    return correct
                text = s["text"] or ""
                correct += bool(verify(gold, parse(text)))
                detect(text)
                done += 1
    return correct


def compare_rules(n: int, repeat: int = 2) -> None:
    """Quality rules and keyword domains, vectorised against their per-row / Unicode-boundary
    references, in this process, alternating order (the same decisions, checked)."""
    from scale_data import make_problems

    from curator.selection.domains import classify_domains, keyword_pattern, load_keyword_rules
    from filters.quality import QualityRules, quality_reasons, quality_reasons_rowwise

    df = make_problems(n)
    rules = QualityRules(multiple_choice=False, true_false=False, yes_no=False)  # as pipelines/cold_start.py
    kw, fallback = load_keyword_rules()

    def unicode_domains(problems: pl.Series) -> pl.DataFrame:
        return pl.DataFrame({"p": problems}).select(
            [pl.col("p").fill_null("").str.count_matches(keyword_pattern(kw[d])).alias(d) for d in kw])

    pairs = {"quality: polars expressions": lambda: quality_reasons(df, rules),
             "quality: per-row loop (quality_reason)": lambda: quality_reasons_rowwise(df, rules),
             "domains: ASCII boundaries after joining": lambda: classify_domains(df["problem"], kw, fallback),
             "domains: Unicode \\b (previous)": lambda: unicode_domains(df["problem"])}
    times: dict[str, list[float]] = {k: [] for k in pairs}
    for rep in range(repeat):
        for name in (list(pairs) if rep % 2 == 0 else list(pairs)[::-1]):
            t0 = time.perf_counter()
            pairs[name]()
            times[name].append(time.perf_counter() - t0)
    assert quality_reasons(df, rules).equals(quality_reasons_rowwise(df, rules))
    print(f"| {n:,} problems | seconds per run |")
    print("|---|---|")
    for name, ts in times.items():
        print(f"| {name} | {', '.join(f'{t:.2f}' for t in ts)} |")


# -- driver --------------------------------------------------------------------------------------
def run_one(kind: str, contender: str, size: int, tmp: Path, extra: int) -> dict:
    import shutil

    data = tmp / f"{kind}-{size}.parquet"
    for old in tmp.glob(f"out-{contender}-{size}"):  # a repeat must not read the previous run's stage cache
        shutil.rmtree(old)
    with PeakRSS() as mem:
        t0 = time.perf_counter()
        if kind == "problems" and contender == "curator":
            out = run_problems(data, tmp / f"out-{contender}-{size}")
        elif kind == "problems" and contender.startswith("ray"):
            import ray

            from curator.executors import RayExecutor

            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            t0 = time.perf_counter()  # the cluster start is not the pipeline's
            out = run_problems(data, tmp / f"out-{contender}-{size}",
                               RayExecutor(tasks=max(2, size // 50_000), workers=int(contender[3:])))
        elif kind == "problems":
            out = plain_problems(data)
        elif contender.startswith("curator"):  # curator (2 processes) or curator1 (one)
            out = run_samples(data, tmp / f"out-{contender}-{size}", extra or 256, int(contender[7:] or 2))
        elif contender.startswith("ray"):  # the same streamed batches on Ray actors
            import ray

            os.environ["PYTHONPATH"] = os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])  # this checkout
            ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
            t0 = time.perf_counter()
            out = run_samples(data, tmp / f"out-{contender}-{size}", extra or 256, ray_workers=int(contender[3:]))
        else:
            out = plain_samples(data, extra)
        seconds = time.perf_counter() - t0
    if isinstance(out, dict) and "table" in out:  # after the clock: the digest is the check, not the work
        out["digest"] = table_digest(out.pop("table"))
    import resource

    units = size if not (kind == "samples" and contender == "plain") else extra
    return {"kind": kind, "contender": contender, "size": size, "units": units, "seconds": round(seconds, 2),
            "per_s": round(units / seconds, 1), "peak_rss_gib": round(mem.peak / 2**30, 2),
            "maxrss_self_gib": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
            "out": out}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["problems", "samples", "rules"])
    ap.add_argument("--sizes", default="100000")
    ap.add_argument("--plain-sizes", default="", help="problems: sizes the plain loop also runs (default: none)")
    ap.add_argument("--plain", type=int, default=1000, help="samples: chains the plain loop grades (rate scaled)")
    ap.add_argument("--ray", default="", help="Ray worker counts to run too, e.g. 1,2 (Ray's own start excluded)")
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--tokens", type=int, default=4000)
    ap.add_argument("--batch-rows", type=int, default=256)
    ap.add_argument("--one-worker", action="store_true", help="samples: also stream with one process (curator1)")
    ap.add_argument("--data-dir", default="", help="samples: keep the generated Parquet here and reuse it")
    ap.add_argument("--one", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.one:
        contender, size, tmp, extra = args.one.split(",")
        print(json.dumps(run_one(args.kind, contender, int(size), Path(tmp), int(extra))))
        return
    from scale_data import make_problems, write_samples

    print(f"load average at start: {os.getloadavg()}", flush=True)
    if args.kind == "rules":
        compare_rules(int(args.sizes.split(",")[0]), max(2, args.repeat))
        print(f"load average at end: {os.getloadavg()}")
        return
    sizes = [int(s) for s in args.sizes.split(",") if s]
    plain_sizes = {int(s) for s in args.plain_sizes.split(",") if s}
    rays = [f"ray{w}" for w in args.ray.split(",") if w]
    rows = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for n in sizes:
            if args.kind == "problems":
                make_problems(n).write_parquet(tmp / f"problems-{n}.parquet")
            else:
                kept = Path(args.data_dir or tmp) / f"samples-{n}-{args.tokens}.parquet"
                if not kept.exists():
                    t0 = time.perf_counter()
                    write_samples(str(kept), n, tokens=args.tokens)
                    print(f"wrote {n:,} chains in {time.perf_counter() - t0:.0f} s: {kept.stat().st_size / 2**30:.2f} GiB",
                          flush=True)
                (tmp / f"samples-{n}.parquet").symlink_to(kept.resolve())
        jobs = []
        for n in sizes:
            contenders = ["curator", *(["curator1"] if args.one_worker else []), *rays]
            if (args.kind == "problems" and n in plain_sizes) or (args.kind == "samples" and args.plain):
                contenders.append("plain")
            for rep in range(args.repeat):
                for c in (contenders if rep % 2 == 0 else contenders[::-1]):
                    extra = args.plain if c == "plain" else args.batch_rows
                    jobs.append((c, n, extra))
        for c, n, extra in jobs:
            res = subprocess.run([sys.executable, __file__, args.kind, "--one", f"{c},{n},{tmp},{extra}"],
                                 capture_output=True, text=True)
            if res.returncode != 0:
                print(f"{args.kind} {n} {c} failed:\n{res.stderr[-3000:]}", file=sys.stderr, flush=True)
                continue
            rows.append(json.loads(res.stdout.strip().splitlines()[-1]))
            if res.stderr.strip():
                print(res.stderr.strip()[-500:], file=sys.stderr)
            r = rows[-1]
            print(f"{r['size']:>9,} {r['contender']:>8}  {r['seconds']:>8.1f} s  {r['per_s']:>9,.1f}/s  "
                  f"peak {r['peak_rss_gib']:>5.2f} GiB  out {r['out']}", flush=True)
    print(f"load average at end: {os.getloadavg()}")
    for n in sizes:  # every contender of a size made the same decisions
        digests = [(r["contender"], r["out"]["digest"]) for r in rows
                   if r["size"] == n and isinstance(r["out"], dict) and "digest" in r["out"]]
        assert len({d for _, d in digests}) <= 1, f"{n:,} {args.kind}: contenders decided differently: {digests}"
        if len(digests) > 1:
            print(f"{n:,} {args.kind}: identical decisions in {len(digests)} runs of "
                  f"{', '.join(sorted({c for c, _ in digests}))} (digest {digests[0][1]})")
    unit = "problems" if args.kind == "problems" else "samples"
    print(f"\n| {unit} | contender | seconds | {unit}/s | peak RSS (GiB) | time x vs previous size |")
    print("|---:|---|---:|---:|---:|---:|")
    from statistics import median

    med: dict[tuple[str, int], float] = {}
    for c, n in sorted({(r["contender"], r["size"]) for r in rows}):
        med[(c, n)] = median(r["seconds"] for r in rows if (r["contender"], r["size"]) == (c, n))
    for r in sorted(rows, key=lambda r: (r["contender"], r["size"])):
        smaller = [n for c, n in med if c == r["contender"] and n < r["size"]]
        growth = (f"{med[(r['contender'], r['size'])] / med[(r['contender'], max(smaller))]:.2f} for "
                  f"{r['size'] / max(smaller):.0f}x rows (medians)") if smaller else ""
        print(f"| {r['size']:,} | {r['contender']} | {r['seconds']} | {r['per_s']:,} | {r['peak_rss_gib']} | {growth} |")


if __name__ == "__main__":
    main()
