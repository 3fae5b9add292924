"""The fusion recipe's input: a long-CoT build and a non-reasoning build, as one item table.

Each input is a build's output folder, or a recipe file: a recipe runs first (into the folder
``curator build`` would use, ``out/<recipe>``) unless that folder already holds its build, so
``curator build pipelines/think_fusion.py`` works on a fresh checkout. Thinking items are each
problem's first correct sample with reasoning; reply items each prompt's first kept reply
(its short thought, if any, is dropped: a non-thinking turn has an empty think block).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from curator.core.fingerprint import file_hash
from curator.core.io import LoadResult
from curator.core.table import PROBLEM_SCHEMA
from curator.fusion.replies import reply_parts

#: item columns besides the problem schema
ITEM_SCHEMA: dict[str, pl.DataType] = {"kind": pl.String(), "reasoning": pl.String(), "reply": pl.String()}


def build_dir(spec: str, out_root: str | Path = "out") -> Path:
    """The build folder for ``spec``: a folder as is; a recipe file is built there first if needed."""
    path = Path(spec)
    if path.suffix != ".py":
        if not (path / "funnel.json").is_file():
            raise FileNotFoundError(f"{path} is not a build output (no funnel.json): build the recipe first, or "
                                    "give a recipe file such as pipelines/cold_start.py")
        return path
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such recipe file")
    target = Path(out_root) / path.stem
    if not (target / "funnel.json").is_file():
        from curator.core.params import load_pipeline

        load_pipeline(path, {}).run(target, quiet=True)
    return target


def _table(folder: Path) -> pl.DataFrame:
    from curator.publish.build_output import Build

    table = Build.load(folder).table
    if table is None or "samples" not in table.columns:
        raise ValueError(f"{folder}: the build has no table with samples (it needs a TableOutput)")
    return table


def thinking_items(table: pl.DataFrame) -> list[dict[str, Any]]:
    """One item per problem: its first correct sample that has reasoning."""
    out = []
    for row in table.iter_rows(named=True):
        for s in row.get("samples") or []:
            reasoning = (s.get("reasoning") or "").strip()
            if s.get("correct") is True and s.get("status") != "failed" and reasoning:
                answer = s.get("final") if s.get("final") is not None else reply_parts(s.get("text"))[1]
                if answer and answer.strip():
                    out.append({**{k: row.get(k) for k in PROBLEM_SCHEMA}, "kind": "think",
                                "reasoning": reasoning, "reply": answer.strip()})
                    break
    return out


def reply_items(table: pl.DataFrame) -> list[dict[str, Any]]:
    """One item per prompt: its first reply that survived the non-reasoning build's filters."""
    out = []
    for row in table.iter_rows(named=True):
        for s in row.get("samples") or []:
            if s.get("status") == "failed":
                continue
            _, answer = reply_parts(s.get("text"), s.get("reasoning"))
            if answer:
                out.append({**{k: row.get(k) for k in PROBLEM_SCHEMA}, "kind": "reply", "reasoning": None,
                            "reply": answer})
                break
    return out


@dataclass
class FusionInputs:
    """Pipeline source: thinking items from ``reasoning`` and reply items from ``general``."""

    reasoning: str = "pipelines/cold_start.py"  # a long-CoT build folder, or a recipe to build first
    general: str = "pipelines/non_reasoning.py"  # a non-reasoning build folder, or a recipe to build first
    out_root: str = "out"  # where recipe inputs are built (curator build's default)

    name = "load"
    scope = "source"

    def _folders(self) -> tuple[Path, Path]:
        return build_dir(self.reasoning, self.out_root), build_dir(self.general, self.out_root)

    def params(self) -> dict[str, Any]:
        keys = {}
        for name, folder in zip(("reasoning", "general"), self._folders(), strict=True):
            data = sorted(p for p in (folder / "data").rglob("*") if p.is_file())
            keys[name] = {str(p.relative_to(folder)): file_hash(p) for p in data}
        return keys

    def load(self) -> LoadResult:
        think_dir, general_dir = self._folders()
        items = thinking_items(_table(think_dir)) + reply_items(_table(general_dir))
        if not items:
            raise ValueError(f"no usable items in {think_dir} or {general_dir}: the fusion needs correct long-CoT "
                             "samples and non-reasoning replies")
        schema = {**PROBLEM_SCHEMA, **ITEM_SCHEMA}
        table = pl.DataFrame(items, schema=schema)
        meta = [json.dumps({"fusion_input": k}) for k in table["kind"].to_list()]
        return LoadResult(table.with_columns(pl.Series("meta", meta, pl.String)))

    def columns_provided(self) -> set[str]:
        return set(PROBLEM_SCHEMA) | set(ITEM_SCHEMA)
