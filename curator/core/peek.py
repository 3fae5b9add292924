"""``--dry-run``'s look at the input: its real columns and first rows, and the mapping checked against them.

Only the schema and a few rows are read (the first lines of a JSONL/CSV file, a Parquet
schema plus ``head``, a Hub dataset streamed), so a dry run stays instant on a large input
and still catches a file without a ``problem`` column before the build starts.
"""

from __future__ import annotations

import csv
import io
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from curator.core.io import InputError, parse_column_map
from curator.core.table import PROBLEM_SCHEMA

#: rows a dry run reads from the input
PEEK_ROWS = 3


@dataclass
class InputPeek:
    spec: str
    columns: list[str]  # the input's own columns, in order
    rows: list[dict[str, Any]]  # the first rows as read (before the mapping)
    mapping: dict[str, str]  # --param columns=...
    errors: list[str] = field(default_factory=list)  # the build would fail on these
    notes: list[str] = field(default_factory=list)  # the build runs, but look at these

    @property
    def mapped_columns(self) -> list[str]:
        """Columns after the mapping; those outside the table model land in ``meta``."""
        return [self.mapping.get(c, c) for c in self.columns]

    @property
    def provides(self) -> set[str]:
        known = set(PROBLEM_SCHEMA) | {"samples"}
        return {c for c in self.mapped_columns if c in known} | ({"meta"} if self.extra else set())

    @property
    def extra(self) -> list[str]:
        known = set(PROBLEM_SCHEMA) | {"samples"}
        return [c for c in self.mapped_columns if c not in known]


def _first_records(path: Path, n: int) -> list[dict[str, Any]]:
    suffix = path.suffix.lower()
    if suffix in (".csv", ".tsv"):
        with path.open(encoding="utf-8", errors="replace", newline="") as fh:
            head = "".join(line for _, line in zip(range(200), fh, strict=False))
        reader = csv.DictReader(io.StringIO(head), delimiter="\t" if suffix == ".tsv" else ",")
        return [dict(r) for _, r in zip(range(n), reader, strict=False)]
    rows: list[dict[str, Any]] = []
    with path.open("rb") as fh:
        if suffix == ".json":  # a JSON array: small enough to parse whole, as the loader does
            data = json.loads(fh.read() or b"[]")
            return [r for r in (data if isinstance(data, list) else [data])[:n] if isinstance(r, dict)]
        for line in fh:
            if line.strip():
                obj = json.loads(line)
                if isinstance(obj, dict):
                    rows.append(obj)
            if len(rows) >= n:
                break
    return rows


def _read_head(spec: str, split: str | None, n: int) -> tuple[list[str], list[dict[str, Any]]]:
    path = Path(spec)
    if path.is_file():
        if path.suffix == ".parquet":
            schema = pl.read_parquet_schema(path)
            return list(schema), pl.scan_parquet(path).head(n).collect().to_dicts()
        if path.suffix.lower() not in (".jsonl", ".ndjson", ".json", ".csv", ".tsv"):
            raise InputError(f"{spec}: a dry run cannot preview {path.suffix!r} files; use .jsonl, .json, .csv, "
                             ".tsv or .parquet")
        try:
            rows = _first_records(path, n)
        except (ValueError, UnicodeDecodeError) as err:
            raise InputError(f"{spec}: the first rows do not parse ({type(err).__name__}: {err}); fix the file "
                             "or check its format") from None
        columns: list[str] = []
        for r in rows:
            columns += [c for c in r if c not in columns]
        return columns, rows
    if path.is_dir() and any(path.glob("*.parquet")):
        first = sorted(path.glob("*.parquet"))[0]
        return list(pl.read_parquet_schema(first)), pl.scan_parquet(first).head(n).collect().to_dicts()
    if path.exists():
        raise InputError(f"{spec}: cannot preview this input; use a .jsonl, .csv, .tsv or .parquet file")
    import datasets  # a Hub dataset: stream the first rows instead of downloading it

    try:
        stream = datasets.load_dataset(spec.removeprefix("hf://"), split=split, streaming=True)
        rows = [dict(r) for _, r in zip(range(n), stream, strict=False)]
    except Exception as err:  # datasets raises many types; say which input and why
        raise InputError(f"could not open the Hugging Face dataset {spec!r} (split {split!r}) for a preview: "
                         f"{type(err).__name__}: {err}") from None
    columns = list(rows[0]) if rows else []
    return columns, rows


def peek_input(spec: str, split: str | None = "train", columns: str = "", n: int = PEEK_ROWS) -> InputPeek:
    """The input's schema and first ``n`` rows, with every problem the build would hit named."""
    mapping = parse_column_map(columns)
    cols, rows = _read_head(str(spec), split, n)
    peek = InputPeek(str(spec), cols, rows, mapping)
    for src in mapping:
        if src not in cols:
            peek.errors.append(f"column mapping {src}->{mapping[src]}: the input has no column {src!r}; "
                               f"its columns are {cols}")
    if not rows:
        peek.errors.append(f"{spec}: the input has no rows")
    if "problem" not in peek.mapped_columns:
        peek.errors.append(f"{spec}: no 'problem' column (columns: {cols}). Map one with "
                           "--param columns=question->problem")
    if "answer" not in peek.mapped_columns:
        peek.notes.append("no 'answer' column: every gold answer is null, so Verify grades nothing as correct "
                          "(map one with --param columns=solution->answer)")
    return peek


def render_peek(peek: InputPeek, width: int = 60) -> Any:
    """A rich table: each input column, what it becomes, and its first values (clipped)."""
    from rich.table import Table
    from rich.text import Text

    table = Table(title=f"Input {peek.spec} (first {len(peek.rows)} rows)")
    table.add_column("column")
    table.add_column("becomes")
    for i in range(len(peek.rows)):
        table.add_column(f"row {i + 1}", overflow="fold")
    known = set(PROBLEM_SCHEMA) | {"samples"}
    for col in peek.columns:
        target = peek.mapping.get(col, col)
        becomes = target if target in known else f"meta.{target}"
        values = []
        for r in peek.rows:
            v = r.get(col)
            text = v if isinstance(v, str) else json.dumps(v, ensure_ascii=False, default=str)
            values.append(Text(text if len(text) <= width else text[: width - 1] + "…"))
        table.add_row(Text(col), Text(becomes), *values)
    return table


def plan_with_input(pipeline: Any, provides: set[str]) -> Any:
    """The pipeline's plan with the load step providing the input's real columns (after the mapping)."""
    from dataclasses import replace

    from curator.core.pipeline import Plan
    from curator.core.stage import stage_adds, stage_needs

    real = set(provides) | {"id"}  # ids are made at load
    steps = [replace(pipeline.plan().steps[0], adds=tuple(sorted(real)))]
    available = real | set(pipeline.plan().steps[0].adds)  # table-model columns absent from the input load as null
    for step, stage in zip(pipeline.plan().steps[1:], pipeline.stages, strict=True):
        needs, adds = stage_needs(stage), stage_adds(stage)
        missing = tuple(c for c in needs if c not in available and c.split(".")[0] not in available)
        steps.append(replace(step, missing=missing))
        available |= set(adds)
    return Plan(steps)
