"""The card's "Reproduce" section: commands that work on another machine and publish nothing private.

A recorded command line holds absolute paths (``--param input=/home/...``, ``--out /scratch/...``)
and endpoint URLs (``http://10.0.0.5:8000/v1``): directory layouts and internal hostnames
that must not go public with a push. The section is rebuilt from the recorded arguments:
paths become relative to the build directory (just the file name when the two share no folder below
the top two levels, so ``../../../home/alice`` cannot spell the layout), endpoint URLs become the backend kind and
model name (unless the user opts in with ``curator card --show-endpoints``), secrets and
machine-only options are left out, and the recipe file comes from ``curator recipe NAME``
when it is a bundled one.
"""

from __future__ import annotations

import os
import re
import shlex
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: options whose value only makes sense on the machine that built (dropped from the command)
MACHINE_OPTIONS = ("--out", "-o", "--work-dir", "--request-cache", "--log-json", "--venv", "--address",
                   "--push-to-hub", "--revision", "--partition", "--progress-every")
#: flags without a value that only concern this machine
MACHINE_FLAGS = ("--private", "--traceback", "--quiet", "-q", "--submit", "--no-submit")
_SECRET = re.compile(r"(?i)(key|token|secret|passw|auth|bearer|credential|cookie)")
_URL = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s,]+")


@dataclass
class Reproduce:
    install: str  # pip install line
    get_recipe: str | None  # `curator recipe NAME` when the pipeline is a bundled recipe
    command: str  # the build command, portable
    notes: list[str] = field(default_factory=list)
    params: dict[str, Any] = field(default_factory=dict)  # the pipeline's parameters, plain and portable


def _bundled_recipes() -> set[str]:
    try:
        from curator.publish.recipes import list_recipes

        return {name for name, _ in list_recipes()}
    except (LookupError, OSError):
        return set()


def _endpoint_stand_in(backend: str, model: str) -> str:
    if backend in ("", "embedded"):
        return "<endpoint not published; the embedded backend does not use it>"
    return f"<your {backend} endpoint serving {model or 'the model'}>"


def portable_value(value: Any, out_dir: Path, *, backend: str = "", model: str = "",
                   show_endpoints: bool = False) -> Any:
    """A parameter value safe to publish: URLs replaced, absolute paths made relative to the build."""
    if isinstance(value, dict):
        return {k: portable_value(v, out_dir, backend=backend, model=model, show_endpoints=show_endpoints)
                for k, v in value.items() if not _SECRET.search(str(k))}
    if isinstance(value, (list, tuple)):
        return [portable_value(v, out_dir, backend=backend, model=model, show_endpoints=show_endpoints)
                for v in value]
    if not isinstance(value, str):
        return value
    if _URL.search(value):
        if not show_endpoints:
            return _URL.sub(lambda _: _endpoint_stand_in(backend, model), value) if "://" in value else value
        return re.sub(r"(?i)(://)[^/@\s]+@", r"\1", value)  # never credentials inside a URL
    return ",".join(_portable_path(part, out_dir) for part in value.split(",")) if "/" in value else value


def _portable_path(value: str, out_dir: Path) -> str:
    from curator.publish.build_output import display_text

    if not os.path.isabs(value):
        return value
    pkg = display_text(value)
    if pkg != value and not os.path.isabs(pkg):
        return pkg  # inside the installed package (e.g. the bundled sample) or under the working directory
    base = str(Path(out_dir).resolve())
    try:
        shared = Path(os.path.commonpath([value, base]))
    except ValueError:  # another drive (Windows)
        return Path(value).name
    if len(shared.parts) < 3:  # nothing in common below e.g. /home: a relative path would spell the layout
        return Path(value).name
    return os.path.relpath(value, base)


def _split_args(command: str) -> list[str]:
    try:
        return shlex.split(command)
    except ValueError:
        return command.split()


def reproduce(run: dict[str, Any], params: dict[str, Any] | None, out_dir: Path, *,
              show_endpoints: bool = False) -> Reproduce:
    """The install line, how to get the recipe, and the portable build command for a build's run.json."""
    params = params or {}
    backend = str(params.get("backend") or "")
    model = str(params.get("model") or "")
    version = (run.get("versions") or {}).get("reasoning-curator")
    extra = "[embedded]" if backend in ("", "embedded") else ("[vllm]" if backend == "vllm" else "")
    install = f'pip install "reasoning-curator{extra}{"==" + version if version else ""}"'
    args = _split_args(str(run.get("command") or ""))
    notes: list[str] = []
    if args and Path(args[0]).name == "curator":
        args = args[1:]
    else:  # run from Python (a notebook, a test): no command line to rebuild
        args = []
    get_recipe = None
    out: list[str] = ["curator"]
    i = 0
    pipeline_seen = False
    while i < len(args):
        arg = args[i]
        opt, eq, inline = arg.partition("=")
        if arg in MACHINE_FLAGS:
            i += 1
            continue
        if opt in MACHINE_OPTIONS and arg.startswith("-"):
            i += 1 if eq else 2
            continue
        if opt in ("--param", "-p") and arg.startswith("-"):
            raw = inline if eq else (args[i + 1] if i + 1 < len(args) else "")
            i += 1 if eq else 2
            key, _, val = raw.partition("=")
            if _SECRET.search(key):
                notes.append(f"--param {key} was left out (it looks like a secret); set your own")
                continue
            val = str(portable_value(val, out_dir, backend=backend, model=model, show_endpoints=show_endpoints))
            out += ["--param", f"{key}={val}"]
            continue
        if not arg.startswith("-") and out[-1] == "build" and not pipeline_seen:
            pipeline_seen = True
            stem = Path(arg).stem
            if stem in _bundled_recipes():
                get_recipe = f"curator recipe {stem}"
                out.append(f"{stem}.py")
            else:
                out.append(Path(arg).name)
                notes.append(f"{Path(arg).name} is this build's own pipeline file; it is not bundled with the "
                             "package, so publish it next to the data")
            i += 1
            continue
        out.append(str(portable_value(arg, out_dir, backend=backend, model=model, show_endpoints=show_endpoints)))
        i += 1
    if len(out) == 1:  # no recorded command (a notebook run): the recipe by name
        name = str(run.get("pipeline") or "")
        if name in _bundled_recipes():
            get_recipe = f"curator recipe {name}"
            out += ["build", f"{name}.py"]
        else:
            out += ["build", "PIPELINE.py"]
            notes.append(f"the pipeline {name!r} was run from Python, not from a bundled recipe; publish its "
                         "file next to the data")
    plain = {k: portable_value(v, out_dir, backend=backend, model=model, show_endpoints=show_endpoints)
             for k, v in params.items() if not _SECRET.search(k)}
    command = " ".join(shlex.quote(a) if not re.fullmatch(r"[\w@%+=:,./-]+", a) else a for a in out)
    return Reproduce(install, get_recipe, command, notes, plain)


def plain_params(run: dict[str, Any]) -> dict[str, Any] | None:
    """The pipeline's parameters as a plain mapping: run.json's ``param_values``, else its
    fingerprint view (``{"type": "Params", "fields": {...}}``) unwrapped."""
    if isinstance(run.get("param_values"), dict):
        return dict(run["param_values"])
    params = run.get("params")
    if isinstance(params, dict) and isinstance(params.get("fields"), dict):
        return dict(params["fields"])
    return params if isinstance(params, dict) else None
