"""A finished build, read back from its output directory.

``funnel.json``, ``run.json``, ``outputs.json``, the output tables and ``rejects/``: what the
card, ``curator inspect`` and ``curator push`` all start from. The main table is the output
config that carries the full rows (most columns), its splits stacked.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

#: the column telling which output split a row of the main table came from (when there is no ``split``)
OUTPUT_SPLIT = "_output_split"
_PKG_ROOT = Path(__file__).resolve().parents[1]


def fmt_num(value: Any, digits: int = 3) -> str:
    """Integers with thousands separators, floats rounded; what every number in the card goes through."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:,.{digits}f}"
    return str(value)


def display_text(text: str) -> str:
    """Replace absolute paths of this machine with portable ones (package-relative, cwd-relative, ~)."""
    if not text:
        return text
    text = text.replace(str(_PKG_ROOT), "curator")
    cwd = str(Path.cwd().resolve())
    if cwd != "/":
        text = text.replace(cwd + os.sep, "")
    home = str(Path.home())
    if home not in ("", "/"):
        text = text.replace(home, "~")
    return text


def display_value(value: Any) -> Any:
    """``display_text`` applied to every string inside a JSON-like value."""
    if isinstance(value, str):
        return display_text(value)
    if isinstance(value, dict):
        return {k: display_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [display_value(v) for v in value]
    return value


class CardError(ValueError):
    """The output directory cannot be described (not a build, or a broken template)."""


@dataclass
class Build:
    """A finished build, read back from its output directory."""

    out_dir: Path
    funnel: list[dict[str, Any]]
    run: dict[str, Any]
    outputs: list[dict[str, Any]]
    table: pl.DataFrame | None
    main_config: str | None
    _rejects: list[tuple[str, pl.DataFrame]] | None = field(default=None, repr=False)

    @classmethod
    def load(cls, out_dir: str | Path) -> Build:
        out = Path(out_dir)
        if not (out / "funnel.json").is_file():
            raise CardError(f"{out} is not a build output: funnel.json is missing. Run `curator build "
                              "PIPELINE.py --out DIR` first, then point at DIR")
        funnel = json.loads((out / "funnel.json").read_text())["stages"]
        run = json.loads((out / "run.json").read_text()) if (out / "run.json").is_file() else {}
        outputs = json.loads((out / "outputs.json").read_text()) if (out / "outputs.json").is_file() else []
        table, config = _main_table(out, outputs)
        return cls(out, funnel, run, outputs, table, config)

    @property
    def name(self) -> str:
        return str(self.run.get("pipeline") or self.out_dir.name)

    @property
    def pretty_name(self) -> str:
        return self.name.replace("_", " ").replace("-", " ").title()

    @property
    def description(self) -> str:
        return display_text(str(self.run.get("description") or "").strip())

    @property
    def rows(self) -> int:
        return self.table.height if self.table is not None else (self.funnel[-1]["rows_out"] if self.funnel else 0)

    @property
    def n_samples(self) -> int:
        if self.table is None or "samples" not in self.table.columns:
            return 0
        return int(self.table["samples"].list.len().sum() or 0)

    def configs(self) -> dict[str, list[dict[str, Any]]]:
        out: dict[str, list[dict[str, Any]]] = {}
        for f in self.outputs:
            out.setdefault(str(f["config"]), []).append(f)
        return out

    def param(self, name: str) -> Any:
        params = self.run.get("params") or {}
        fields_ = params.get("fields", params) if isinstance(params, dict) else {}
        return fields_.get(name) if isinstance(fields_, dict) else None

    def rejects(self) -> list[tuple[str, pl.DataFrame]]:
        """Row rejects per stage (``rejects/NN-stage.parquet``)."""
        return [(n, df) for n, df in self._all_rejects() if not n.endswith(".samples")]

    def sample_rejects(self) -> list[tuple[str, pl.DataFrame]]:
        """Dropped samples per stage (``rejects/NN-stage.samples.parquet``), one row per sample."""
        return [(n.removesuffix(".samples"), df) for n, df in self._all_rejects() if n.endswith(".samples")]

    def _all_rejects(self) -> list[tuple[str, pl.DataFrame]]:
        if self._rejects is None:
            self._rejects = [(p.name.removesuffix(".parquet").split("-", 1)[-1], pl.read_parquet(p))
                             for p in sorted((self.out_dir / "rejects").glob("*.parquet"))]
        return self._rejects


def _read_output(out_dir: Path, f: dict[str, Any]) -> pl.DataFrame | None:
    path = out_dir / f["path"]
    try:
        if path.suffix == ".parquet":
            return pl.read_parquet(path)
        if path.suffix in (".jsonl", ".ndjson"):
            return pl.read_ndjson(path, infer_schema_length=None)
    except (OSError, pl.exceptions.PolarsError):
        return None
    return None


def _main_table(out_dir: Path, outputs: list[dict[str, Any]]) -> tuple[pl.DataFrame | None, str | None]:
    """The config that carries the full table (problem rows, most columns, most rows), splits stacked."""
    best: tuple[tuple[int, int, int], pl.DataFrame, str] | None = None
    configs: dict[str, list[dict[str, Any]]] = {}
    for f in outputs:
        configs.setdefault(str(f["config"]), []).append(f)
    for config, files in configs.items():
        parts = []
        for f in files:
            df = _read_output(out_dir, f)
            if df is not None:
                parts.append(df.with_columns(pl.lit(str(f["split"])).alias(OUTPUT_SPLIT)))
        if not parts:
            continue
        df = pl.concat(parts, how="diagonal_relaxed")
        score = (int("problem" in df.columns), df.width, df.height)
        if best is None or score > best[0]:
            best = (score, df, config)
    return (best[1], best[2]) if best else (None, None)


def split_column(df: pl.DataFrame) -> str:
    """Curriculum ``split`` when the data has one, else the output split each row was written to."""
    return "split" if "split" in df.columns else OUTPUT_SPLIT


def datasets_resource(name: str) -> Any:
    """A JSON list shipped in ``datasets/utils/resources`` (read without importing ``datasets``, ~2 s)."""
    import importlib.util

    spec = importlib.util.find_spec("datasets")
    if spec is None or spec.origin is None:
        raise CardError("the `datasets` package is missing: pip install datasets")
    return json.loads((Path(spec.origin).parent / "utils" / "resources" / name).read_text())


