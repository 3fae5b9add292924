"""Time the README's first command on a fresh clone: a new venv, `pip install -e ".[embedded]"`,
`curator build pipelines/cold_start.py`.

pip runs with no cache (``--no-cache-dir``); the one thing reused is the llama-cpp-python wheel
(it compiles from source for about 8 minutes on 2 cores), passed with ``--find-links`` from a
folder that holds only that wheel. Everything else is downloaded from PyPI as a new user's
machine would. Prints one line per step and a JSON record; appends nothing by itself.

    python benchmarks/first_command.py                      # clone this checkout's HEAD, time it all
    python benchmarks/first_command.py --reuse-venv PATH    # skip the install: time clone + build only
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
README_BUILD = ["curator", "build", "pipelines/cold_start.py"]


def run(cmd: list[str], cwd: Path | None = None, env: dict[str, str] | None = None, timeout: float = 1800) -> float:
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    if proc.returncode != 0:
        sys.exit(f"{' '.join(cmd)} failed ({proc.returncode}):\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}")
    return time.perf_counter() - t0


def llama_wheel(explicit: str | None) -> Path:
    """The cached llama-cpp-python wheel (``pip cache list``), or the one given."""
    if explicit:
        return Path(explicit)
    out = subprocess.run([sys.executable, "-m", "pip", "cache", "list", "llama_cpp_python", "--format=abspath"],
                         capture_output=True, text=True).stdout.split()
    wheels = [Path(p) for p in out if p.endswith(".whl")]
    if not wheels:
        sys.exit("no llama-cpp-python wheel in pip's cache; pass --wheel PATH")
    return max(wheels, key=lambda p: p.stat().st_mtime)


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file() and not f.is_symlink())


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repo", default=str(ROOT), help="what to clone [default: this checkout]")
    ap.add_argument("--wheel", help="the llama-cpp-python wheel [default: the newest in pip's cache]")
    ap.add_argument("--reuse-venv", help="use this venv instead of installing (times clone + build only)")
    ap.add_argument("--extra", default="embedded", help="the extra to install (README: embedded; '' for the core only)")
    ap.add_argument("--no-build", action="store_true", help="time clone + install only (no model run)")
    ap.add_argument("--then-install", default="", help="after timing, pip install this too and report the size delta "
                    "(e.g. reasoning-gym, the old hard dependency)")
    ap.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = ap.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="first-command-"))
    record: dict[str, object] = {"cpus": os.cpu_count(), "load_before": os.getloadavg()[0]}
    try:
        clone = tmp / "clone"
        record["clone_s"] = round(run(["git", "clone", "--quiet", "--depth", "1", f"file://{args.repo}", str(clone)]), 1)
        print(f"clone           {record['clone_s']:>7} s", flush=True)
        if args.reuse_venv:
            venv = Path(args.reuse_venv)
        else:
            venv = clone / ".venv"
            wheels = tmp / "wheels"
            wheels.mkdir()
            if args.extra == "embedded":
                shutil.copy(llama_wheel(args.wheel), wheels)
            record["venv_s"] = round(run([sys.executable, "-m", "venv", str(venv)]), 1)
            pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--no-cache-dir", "--find-links", str(wheels)]
            target = f".[{args.extra}]" if args.extra else "."
            record["install"] = f"pip install -e {target}"
            # the README's portable llama.cpp build (no AMX kernels that die on VMs), if it compiles at all
            install_env = {**os.environ, "CMAKE_ARGS": "-DGGML_NATIVE=OFF"}
            record["install_s"] = round(run([*pip, "-e", target], cwd=clone, env=install_env), 1)
            record["venv_mb"] = round(du(venv) / 2**20)
            print(f"venv + install  {record['venv_s'] + record['install_s']:>7.1f} s  ({record['venv_mb']} MB)",  # type: ignore[operator]
                  flush=True)
        if args.then_install and not args.reuse_venv:
            before = du(venv)
            run([*pip, args.then_install], cwd=clone)
            record[f"plus_{args.then_install}_mb"] = round((du(venv) - before) / 2**20)
            print(f"+ {args.then_install}: +{record[f'plus_{args.then_install}_mb']} MB", flush=True)
        if args.no_build:
            print(json.dumps(record))
            return
        env = {**os.environ, "PATH": f"{venv / 'bin'}{os.pathsep}{os.environ['PATH']}", "VIRTUAL_ENV": str(venv)}
        env.pop("PYTHONPATH", None)
        env["PIP_NO_CACHE_DIR"] = "1"
        # no OMP_WAIT_POLICY here (the test suite sets PASSIVE): the README's command does not set it,
        # and passive waiting slows llama.cpp's decoding of the embedded model by about 40%
        record["build_s"] = round(run(README_BUILD, cwd=clone, env=env), 1)
        print(f"first build     {record['build_s']:>7} s", flush=True)
        total = sum(float(record.get(k, 0)) for k in ("clone_s", "venv_s", "install_s", "build_s"))  # type: ignore[arg-type]
        record["total_s"] = round(total, 1)
        record["load_after"] = os.getloadavg()[0]
        print(f"total           {record['total_s']:>7} s (load average {record['load_before']:.1f} -> "
              f"{record['load_after']:.1f})")
        print(json.dumps(record))
    finally:
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
