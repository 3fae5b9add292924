"""The content of a recipe's build as one digest: rows, columns and values, nothing that is timing.

Fingerprints, seconds, the cache flags and dates are left out, so an engine change that keeps
what a build produces keeps the digest. Rewrite the stored digests (after a change that is
meant to change a recipe's output) with ``python -m tests.recipe_digest``.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path
from typing import Any

import polars as pl

DIGESTS = Path(__file__).resolve().parent / "data" / "recipe_digests.json"
PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
#: recipes and parameters the digests are taken with (small: the scripted teacher answers instantly)
RECIPES: dict[str, dict[str, str]] = {"cold_start": {"k": "4"}, "rl_pool": {"k": "4"}}
#: fields that measure the run, not its content
VOLATILE = ("seconds", "cached", "fingerprint", "started", "latency_s", "elapsed")


def _plain(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in sorted(value.items()) if k not in VOLATILE and not k.endswith("seconds")}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, float):
        return round(value, 9)
    return value


def table_digest(df: pl.DataFrame) -> str:
    """Columns in order, then every row as JSON (floats rounded, volatile fields dropped)."""
    h = hashlib.sha256(json.dumps(df.columns).encode())
    for row in df.iter_rows(named=True):
        h.update(json.dumps(_plain(row), sort_keys=True, default=str, ensure_ascii=False).encode())
    return h.hexdigest()


def build_digest(out: Path) -> dict[str, Any]:
    """Every output file and every rejects file by content, and the funnel's counts."""
    files = {}
    for entry in json.loads((out / "outputs.json").read_text()):
        path = out / entry["path"]
        df = pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_ndjson(path)
        files[entry["path"]] = table_digest(df)
    for path in sorted((out / "rejects").glob("*.parquet")):
        files[f"rejects/{path.name}"] = table_digest(pl.read_parquet(path))
    funnel = _plain(json.loads((out / "funnel.json").read_text())["stages"])
    return {"files": files, "funnel": funnel}


def build(name: str, out: Path, base_url: str) -> dict[str, Any]:
    from curator import load_pipeline

    params = {"backend": "openai", "model": "scripted-teacher", "endpoints": base_url, **RECIPES[name]}
    load_pipeline(PIPELINES / f"{name}.py", params).run(out, quiet=True)
    return build_digest(out)


def current_digests(tmp: Path) -> dict[str, Any]:
    """Build every recipe in ``RECIPES`` against the scripted teacher on loopback."""
    from tests.servers.openai_fake import serve
    from tests.servers.scripted_teacher import ScriptedTeacher

    teacher = ScriptedTeacher()

    def respond(req: dict[str, Any]) -> str:
        return teacher({**req, "n": 1, "seed": int(req.get("seed") or 0) + req["choice_index"]})[0]

    with serve(respond) as server:
        return {name: build(name, tmp / name, server.base_url) for name in RECIPES}


if __name__ == "__main__":
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        digests = current_digests(Path(tmp))
    DIGESTS.write_text(json.dumps(digests, indent=1, sort_keys=True) + "\n")
    print(f"wrote {DIGESTS}", file=sys.stderr)
