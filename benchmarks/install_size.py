"""Install size and import time: a venv's size on disk, the wall time of `import curator` (median of
fresh interpreters), and which heavy packages that import pulls in.

    python benchmarks/install_size.py [--venv PATH ...] [--runs 7]
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

PROBE = ("import sys, time; t = time.perf_counter(); import curator; dt = time.perf_counter() - t; "
         "heavy = sorted(m for m in ('reasoning_gym', 'datasets', 'torch', 'llama_cpp', 'matplotlib', 'datatrove', "
         "'ray', 'vllm', 'openai', 'polars') if m in sys.modules); print(dt, ','.join(heavy))")


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink()) / 2**20


def import_time(python: str, runs: int) -> tuple[float, str]:
    times, heavy = [], ""
    for _ in range(runs):
        out = subprocess.run([python, "-c", PROBE], capture_output=True, text=True, check=True).stdout.split()
        times.append(float(out[0]))
        heavy = out[1] if len(out) > 1 else ""
    return statistics.median(times), heavy


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--venv", action="append", default=[], help="venv folders to measure [default: sys.prefix]")
    ap.add_argument("--runs", type=int, default=7)
    args = ap.parse_args()
    for venv in args.venv or [sys.prefix]:
        python = str(Path(venv) / "bin" / "python")
        seconds, heavy = import_time(python, args.runs)
        record = {"venv": Path(venv).name, "size_mb": round(size_mb(Path(venv))), "import_curator_s": round(seconds, 3),
                  "imported": heavy}
        print(json.dumps(record))


if __name__ == "__main__":
    main()
