"""Reliability under load: the killed-Ray-build resume test run N times while CPU burners run.

Starts ``--burners`` busy processes (stress-style: pure-Python spin loops) that stop by
themselves after ``--max-seconds`` or when this script ends, then runs
``tests/test_executors_ray.py::test_killed_ray_build_resumes_without_redoing_shards_or_requests``
``--runs`` times in fresh pytest processes, and prints one line per run (result, seconds,
load average) and a summary. Optionally also runs the loader fuzzers with ``--fuzz N``
examples per property and the SIGKILL tests of the local and ``processes`` executors.

    python benchmarks/reliability.py --runs 20 --burners 2 --max-seconds 5400
    python benchmarks/reliability.py --runs 0 --fuzz 2000 --kill-tests
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RAY_TEST = "tests/test_executors_ray.py::test_killed_ray_build_resumes_without_redoing_shards_or_requests"


def _burn(until: float) -> None:
    """One core's worth of busy work until ``until`` (monotonic seconds)."""
    x = 0
    while time.monotonic() < until:
        for _ in range(100_000):
            x = (x * 1103515245 + 12345) & 0x7FFFFFFF


def _pytest(args: list[str], timeout: float, env: dict[str, str] | None = None) -> tuple[str, float, str]:
    t0 = time.monotonic()
    try:
        res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-s", "-x", "-p", "no:cacheprovider", *args],
                             cwd=ROOT, capture_output=True, text=True, timeout=timeout,
                             env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})})
        status = "pass" if res.returncode == 0 else "FAIL"
        lines = (res.stdout + res.stderr).strip().splitlines()
        errors = [x for x in lines if x.startswith("E ")][:6]  # pytest's assertion lines, when it failed
        tail = [x[x.index("RELIABILITY"):] for x in lines if "RELIABILITY" in x] + errors + lines[-1:]
    except subprocess.TimeoutExpired:
        status, tail = "TIMEOUT", []
    return status, time.monotonic() - t0, " | ".join(tail)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=20, help="repetitions of the Ray kill-and-resume test")
    ap.add_argument("--burners", type=int, default=2, help="busy processes started for the whole run")
    ap.add_argument("--max-seconds", type=float, default=5400, help="burners and new runs stop after this")
    ap.add_argument("--run-timeout", type=float, default=900, help="seconds allowed per test run")
    ap.add_argument("--fuzz", type=int, default=0, help="hypothesis examples per loader property (0: skip)")
    ap.add_argument("--kill-tests", action="store_true", help="also run the local/processes SIGKILL tests")
    ap.add_argument("--json", type=Path, help="write the per-run records here")
    args = ap.parse_args()

    start = time.monotonic()
    until = start + args.max_seconds
    burners = [mp.Process(target=_burn, args=(until,), daemon=True) for _ in range(args.burners)]
    for b in burners:
        b.start()
    records = []
    try:
        print(f"cpus {os.cpu_count()}, burners {args.burners}, load {os.getloadavg()[0]:.1f}", flush=True)
        for i in range(args.runs):
            if time.monotonic() > until:
                print(f"stopped after {i} runs: --max-seconds reached", flush=True)
                break
            status, seconds, tail = _pytest([RAY_TEST], args.run_timeout)
            load = os.getloadavg()[0]
            records.append({"test": "ray_kill_resume", "run": i + 1, "status": status,
                            "seconds": round(seconds, 1), "load1": round(load, 1), "tail": tail})
            print(f"ray kill/resume run {i + 1:2d}: {status:7s} {seconds:6.1f} s  load {load:5.1f}  "
                  + (tail if status != "pass" else tail.split(" | ")[0]), flush=True)
        if args.kill_tests:
            status, seconds, tail = _pytest(["tests/test_executors_kill.py"], args.run_timeout)
            records.append({"test": "sigkill_local_processes", "status": status, "seconds": round(seconds, 1),
                            "load1": round(os.getloadavg()[0], 1), "tail": tail})
            print(f"sigkill local/processes x row/global: {status} {seconds:.1f} s  {tail}", flush=True)
        if args.fuzz:
            status, seconds, tail = _pytest(["tests/test_io_fuzz.py"], args.run_timeout,
                                            {"CURATOR_FUZZ_EXAMPLES": str(args.fuzz)})
            records.append({"test": "loader_fuzz", "examples_per_property": args.fuzz, "status": status,
                            "seconds": round(seconds, 1), "tail": tail})
            print(f"loader fuzz, {args.fuzz} examples x 5 properties: {status} {seconds:.1f} s  {tail}", flush=True)
    finally:
        for b in burners:
            b.terminate()
            b.join(timeout=5)
    ray_runs = [r for r in records if r["test"] == "ray_kill_resume"]
    if ray_runs:
        passed = sum(r["status"] == "pass" for r in ray_runs)
        loads = [r["load1"] for r in ray_runs]
        print(f"ray kill/resume: {passed}/{len(ray_runs)} passed; load average {min(loads):.1f}-{max(loads):.1f}; "
              f"{time.monotonic() - start:.0f} s in all")
    if args.json:
        args.json.write_text(json.dumps(records, indent=1) + "\n")
    if any(r["status"] != "pass" for r in records):
        sys.exit(1)


if __name__ == "__main__":
    main()
