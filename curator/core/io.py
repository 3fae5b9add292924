"""Reading problem collections and writing tables.

Input is validated row by row: a malformed JSONL line, bytes that are not UTF-8, an empty
or oversized problem are either one clear error naming the file and line, or - with
``on_bad_rows="quarantine"`` - a quarantined row that keeps its reason. Nothing is dropped
silently.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import polars as pl

from curator.core.storage import StoragePath, location, write_whole
from curator.core.table import PROBLEM_SCHEMA, conform

OnBadRows = Literal["error", "quarantine"]

#: Longest problem text accepted (characters); longer rows are bad rows, not silent truncations.
MAX_PROBLEM_CHARS = 100_000

BAD_ROWS_SCHEMA = {"file": pl.String, "line": pl.Int64, "column": pl.Int64, "reason": pl.String, "raw": pl.String}


class InputError(ValueError):
    """Bad input that a person must fix; the message says where and what to do."""


@dataclass
class LoadResult:
    """Rows that loaded, and the rows set aside with their reasons."""

    table: pl.DataFrame
    bad_rows: pl.DataFrame = field(default_factory=lambda: pl.DataFrame(schema=BAD_ROWS_SCHEMA))
    notes: list[str] = field(default_factory=list)  # what the loader did that a person should know


def parse_column_map(spec: str | dict[str, str] | None) -> dict[str, str]:
    """``"question->problem,solution->answer"`` -> ``{"question": "problem", "solution": "answer"}``.

    >>> parse_column_map("question->problem, solution->answer")
    {'question': 'problem', 'solution': 'answer'}
    """
    if spec is None or spec == "":
        return {}
    if isinstance(spec, dict):
        return dict(spec)
    out: dict[str, str] = {}
    for part in spec.split(","):
        if "->" not in part:
            raise InputError(f"column mapping {part.strip()!r} is not of the form source->target, e.g. question->problem")
        src, dst = (s.strip() for s in part.split("->", 1))
        if not src or not dst:
            raise InputError(f"column mapping {part.strip()!r} needs a column name on both sides of ->")
        if dst in out.values():
            raise InputError(f"column mapping sends two columns to {dst!r}; map one column to each target")
        out[src] = dst
    return out


#: Prefix of an input column that a mapping replaced; it lands in ``meta`` under its own name.
_REPLACED = "__replaced__"


def _replacement_notes(mapping: dict[str, str], columns: Iterable[str]) -> list[str]:
    """A note per mapping that lands on a column the input already has (``answer_idx->answer``)."""
    cols = set(columns)
    return [f"column mapping {src}->{dst} replaces the input's own {dst!r} column; "
            f"the input's {dst!r} is kept in meta[{dst!r}]"
            for src, dst in mapping.items() if dst in cols and dst not in mapping and src in cols]


def _missing_mapping_error(spec: str, mapping: dict[str, str], columns: Iterable[str]) -> InputError | None:
    cols = list(columns)
    missing = [src for src in mapping if src not in cols]
    if not missing:
        return None
    return InputError(f"{spec}: column mapping {missing[0]}->{mapping[missing[0]]} names a column that does not "
                      f"exist; the columns are {cols[:40]}. Fix the name in --param columns=...")


@dataclass
class _Collector:
    path: str
    on_bad_rows: OnBadRows
    bad: list[dict[str, Any]] = field(default_factory=list)
    fix: str = "fix or remove that row, or rerun with --on-bad-rows quarantine to set bad rows aside"

    def reject(self, line: int | None, reason: str, raw: str, column: int | None = None, hint: str = "") -> None:
        where = f"{self.path}" + (f", line {line}" if line is not None else "") + (
            f", column {column}" if column is not None else ""
        )
        if self.on_bad_rows == "error":
            raise InputError(f"{where}: {reason}. {hint or self.fix}")
        self.bad.append({"file": self.path, "line": line, "column": column, "reason": reason, "raw": raw[:2000]})


def _iter_jsonl(path: Path, col: _Collector) -> Iterator[tuple[int, dict[str, Any]]]:
    with path.open("rb") as fh:
        for lineno, raw in enumerate(fh, start=1):
            try:
                text = raw.decode("utf-8")
            except UnicodeDecodeError as err:
                col.reject(
                    lineno,
                    f"bytes are not valid UTF-8 (byte {err.start} of the line)",
                    raw.decode("utf-8", "replace"),
                    column=err.start + 1,
                    hint="re-encode the file as UTF-8 (e.g. iconv -f latin1 -t utf-8), "
                    "or rerun with --on-bad-rows quarantine",
                )
                continue
            if not text.strip():
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as err:
                col.reject(lineno, f"malformed JSON ({err.msg})", text, column=err.colno)
                continue
            if not isinstance(obj, dict):
                col.reject(lineno, f"expected a JSON object per line, got {type(obj).__name__}", text)
                continue
            yield lineno, obj


@contextmanager
def _csv_field_limit(limit: int) -> Iterator[None]:
    """Raise the csv module's 131,072-character field limit while one file is read, then restore it.

    Long problems are legal CSV; the size rule that applies is ``max_chars`` (a bad row with
    its reason), not the csv module's default.
    """
    old = csv.field_size_limit()
    csv.field_size_limit(min(limit, sys.maxsize))
    try:
        yield
    finally:
        csv.field_size_limit(old)


def _iter_csv(path: Path, col: _Collector, delimiter: str) -> Iterator[tuple[int, dict[str, Any]]]:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise InputError(
            f"{col.path}, line {line}: bytes are not valid UTF-8. Re-encode the file as UTF-8 "
            "(e.g. iconv -f latin1 -t utf-8)"
        ) from None
    with _csv_field_limit(max(len(text), csv.field_size_limit())):
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
        try:
            header = reader.fieldnames or []
        except csv.Error as err:
            raise InputError(f"{col.path}, line 1: the header is not valid CSV ({err}). Fix the header row") from None
        if len(set(header)) != len(header):
            dup = next(h for h in header if header.count(h) > 1)
            raise InputError(f"{col.path}, line 1: the header names column {dup!r} twice. Rename one of them")
        while True:
            before = reader.line_num
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as err:  # an unterminated quote and the like: the rest of the record is lost
                col.reject(reader.line_num or before + 1, f"malformed CSV ({err})", "",
                           hint="fix the quoting of that row, or rerun with --on-bad-rows quarantine")
                if reader.line_num == before:
                    return
                continue
            lineno = reader.line_num
            if None in row or any(v is None for v in row.values()):
                col.reject(lineno, f"row has a different number of fields than the header ({len(header)})",
                           str(row)[:2000])
                continue
            yield lineno, dict(row)


def _load_hf(spec: str, split: str | None) -> pl.DataFrame:
    import datasets  # heavy import, only when a Hub or saved dataset is asked for

    path = Path(spec)
    try:
        if path.is_dir() and (path / "dataset_info.json").exists() or (path / "dataset_dict.json").exists():
            ds = datasets.load_from_disk(str(path))
        else:
            ds = datasets.load_dataset(spec.removeprefix("hf://"), split=split)
    except Exception as err:  # datasets raises many types; the person needs one message
        raise InputError(
            f"could not load the Hugging Face dataset {spec!r} (split {split!r}): {type(err).__name__}: {err}. "
            "Check the name and split, or give a local file (JSONL, Parquet, CSV)"
        ) from None
    if isinstance(ds, datasets.DatasetDict):
        if split is None or split not in ds:
            raise InputError(f"{spec}: choose a split with --param split=NAME; available: {sorted(ds)}")
        ds = ds[split]
    return pl.from_arrow(ds.data.table)  # type: ignore[return-value]


_FILE_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv", ".tsv", ".parquet")


class _Unreadable(Exception):
    """A Parquet read that failed (polars' errors, its Rust panics, invalid UTF-8 in a text column)."""


def _checked(read: Any) -> Any:
    """Arrow data from ``read()``, fully validated; any failure becomes ``_Unreadable``.

    polars and pyarrow read some corrupt pages without complaint and hand back text columns
    holding invalid UTF-8, which later panics inside polars (a ``BaseException``): validate
    first, so a bad file is a named error, not a crash three stages later.
    """
    import pyarrow as pa

    try:
        data = read()
        (data.to_arrow() if isinstance(data, pl.DataFrame) else data).validate(full=True)
        return data
    except (pa.ArrowException, pl.exceptions.PolarsError, OSError, ValueError, TypeError) as err:
        raise _Unreadable(f"{type(err).__name__}: {str(err).strip()[:200]}") from None
    except BaseException as err:  # pyo3's PanicException derives from BaseException
        if type(err).__name__ != "PanicException":
            raise
        raise _Unreadable(f"the Parquet reader crashed ({str(err)[:120]})") from None


@dataclass
class _Footer:
    """A ParquetFile whose footer was read (``validate`` so that ``_checked`` can hold it)."""

    file: Any

    def validate(self, full: bool = True) -> None:
        self.file.metadata.row_group(0) if self.file.num_row_groups else None


def _read_parquet(paths: list[Path], col: _Collector) -> pl.DataFrame:
    """Parquet files as one frame. A file that cannot be read whole is read again row group by row
    group, so the error (or the quarantined part) names the file and the row group that is broken."""
    try:
        return _checked(lambda: pl.read_parquet(paths if len(paths) > 1 else paths[0]))
    except _Unreadable as err:
        if len(paths) > 1:
            frames = [_read_parquet([p], col) for p in paths]
            try:
                return pl.concat(frames, how="diagonal_relaxed")
            except pl.exceptions.PolarsError as cat_err:
                raise InputError(f"{paths[0].parent}: the Parquet files do not share a schema ({cat_err}). "
                                 "Give one file, or rewrite them with the same columns") from None
        return _read_row_groups(paths[0], col, str(err))


def _read_row_groups(path: Path, col: _Collector, why: str) -> pl.DataFrame:
    import pyarrow.parquet as pq  # installed with polars' Arrow interop (datasets needs it too)

    label = col.path if col.path.endswith(str(path)) else f"{col.path}: {path.name}"
    inside = "" if label == col.path else f"{path.name}, "
    try:
        pf = _checked(lambda: _Footer(pq.ParquetFile(path))).file
    except _Unreadable as err:
        raise InputError(f"{label}: not a readable Parquet file ({why}; {err}). "
                         "The file is truncated or corrupt: copy or export it again") from None
    frames, start = [], 1
    for g in range(pf.num_row_groups):
        rows = pf.metadata.row_group(g).num_rows
        try:
            frames.append(_checked(lambda g=g: pl.from_arrow(_checked(lambda: pf.read_row_group(g)))))
        except (_Unreadable, pl.exceptions.PolarsError) as err:
            col.reject(start, f"{inside}Parquet row group {g} (rows {start}-{start + rows - 1}) is unreadable "
                              f"({err})", "",
                       hint="the file is corrupt: copy or export it again, or rerun with --on-bad-rows "
                            "quarantine to keep the readable row groups")
        start += rows
    if not frames:
        raise InputError(f"{label}: no row group of this Parquet file is readable ({why}). Copy or export it again")
    return pl.concat(frames, how="diagonal_relaxed")  # type: ignore[arg-type]


def _read_frame(spec: str, split: str | None, col: _Collector) -> pl.DataFrame | None:
    """Columnar inputs (Parquet, saved or Hub datasets) as one frame; None for line-oriented files."""
    path = Path(spec)
    suffix = "".join(path.suffixes[-2:]) if path.suffix == ".gz" else path.suffix
    if suffix in _FILE_SUFFIXES and not path.exists():
        raise InputError(f"{spec}: no such file")
    if path.is_file():
        if suffix in (".jsonl", ".ndjson", ".json", ".csv", ".tsv"):
            return None
        if suffix == ".parquet":
            return _read_parquet([path], col)
        raise InputError(f"{spec}: unknown file type {suffix!r}; use .jsonl, .parquet, .csv or .tsv")
    if path.is_dir() and any(path.glob("*.parquet")):
        return _read_parquet(sorted(path.glob("*.parquet")), col)
    if path.exists() or spec.startswith("hf://") or ("/" in spec and not spec.startswith((".", "/"))):
        return _load_hf(spec, split)
    raise InputError(f"{spec}: no such file or directory (for a Hub dataset write ORG/NAME or hf://ORG/NAME)")


def _records(spec: str, col: _Collector) -> Iterable[tuple[int, dict[str, Any]]]:
    path = Path(spec)
    if path.suffix in (".csv", ".tsv"):
        return _iter_csv(path, col, "\t" if path.suffix == ".tsv" else ",")
    return _iter_jsonl(path, col)


_TEXT_COLUMNS = ("id", "problem", "answer", "source", "domain", "language")


def _text_column(df: pl.DataFrame, name: str, spec: str) -> pl.Series | pl.Expr | None:
    """The text form of one table-model column, or an InputError when it cannot be text.

    Documented casts: numbers and booleans become their decimal text (``42``, ``0.5``,
    ``true``); a nested ``answer`` (a list of accepted answers) becomes JSON (``[1, 2]``).
    A ``problem`` must already be text; so must ``id``, ``source``, ``domain``, ``language``
    unless they are plain scalars.
    """
    dtype = df.schema[name]
    if dtype == pl.String:
        return None
    scalar = dtype.is_numeric() or dtype == pl.Boolean or dtype == pl.Null or isinstance(dtype, pl.Categorical | pl.Enum)
    if name == "problem" and not (dtype == pl.Null or isinstance(dtype, pl.Categorical | pl.Enum)):
        raise InputError(f"{spec}: column 'problem' holds {dtype}, not text. A problem must be text: map a text "
                         "column with --param columns=question->problem, or convert this column to strings")
    if scalar:
        return pl.col(name).cast(pl.String)
    if dtype.is_nested() and name == "answer":
        return pl.Series(name, [None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                                for v in df[name].to_list()], dtype=pl.String)
    raise InputError(f"{spec}: column {name!r} holds {dtype}, not text or a number. Map another column onto "
                     f"{name!r} with --param columns=..., or map this one elsewhere (e.g. {name}->{name}_raw)")


def _problems_from_frame(df: pl.DataFrame, spec: str, mapping: dict[str, str], default_source: str,
                         source: str | None, col: _Collector, limit: int | None,
                         max_chars: int, notes: list[str]) -> pl.DataFrame:
    """The columnar twin of the row-by-row path: same rules, polars expressions (1M rows in seconds)."""
    missing = _missing_mapping_error(spec, mapping, df.columns)
    if missing is not None:
        raise missing
    notes.extend(_replacement_notes(mapping, df.columns))
    replaced = {v: f"{_REPLACED}{v}" for v in mapping.values() if v in df.columns and v not in mapping}
    df = df.rename(replaced).rename({k: v for k, v in mapping.items() if k != v})
    if "problem" not in df.columns:
        raise InputError(f"{spec}: no 'problem' column (columns: {df.columns}). Map one with "
                         "--param columns=question->problem")
    known = set(PROBLEM_SCHEMA) | {"samples"}
    extra = [c for c in df.columns if c not in known]
    casts = [c for c in (_text_column(df, name, spec) for name in _TEXT_COLUMNS if name in df.columns)
             if c is not None]
    df = df.with_columns(casts)
    if extra:
        fields = [pl.col(c).alias(c.removeprefix(_REPLACED)) for c in extra]
        packed = pl.struct(fields).struct.json_encode()
        if "meta" in df.columns:  # merge an existing meta object with the extra columns: rare, row by row
            df = df.with_columns(pl.struct(pl.col("meta"), *fields).map_elements(
                lambda r: _normalise_row(dict(r), {}, default_source)["meta"], return_dtype=pl.String).alias("meta"))
        else:
            df = df.with_columns(packed.alias("meta"))
        df = df.drop(extra)
    elif "meta" in df.columns and df.schema["meta"] != pl.String:
        meta_type = df.schema["meta"]
        df = df.with_columns(
            pl.col("meta").struct.json_encode() if isinstance(meta_type, pl.Struct)
            else pl.Series("meta", [None if v is None else json.dumps(v, ensure_ascii=False, default=str)
                                    for v in df["meta"].to_list()], dtype=pl.String) if meta_type.is_nested()
            else pl.col("meta").cast(pl.String))
    if "samples" in df.columns and not (isinstance(df.schema["samples"], pl.List)
                                        and isinstance(df.schema["samples"].inner, pl.Struct | pl.Null)):
        raise InputError(f"{spec}: column 'samples' holds {df.schema['samples']}, not a list of generation "
                         "structs. Map it elsewhere with --param columns=samples->samples_raw")
    src = pl.lit(source) if source else pl.col("source").fill_null(default_source) if "source" in df.columns \
        else pl.lit(default_source)
    df = df.with_columns(src.cast(pl.String).alias("source"))
    df = df.with_row_index("_line", offset=1)
    length = pl.col("problem").str.len_chars()
    reason = (pl.when(pl.col("problem").is_null() | (pl.col("problem").str.strip_chars() == ""))
              .then(pl.lit("missing or empty 'problem'"))
              .when(length > max_chars)
              .then(pl.format("problem is {} characters, over the limit of {}", length, pl.lit(f"{max_chars:,}")))
              .otherwise(None))
    df = df.with_columns(reason.alias("_reason"))
    bad = df.filter(pl.col("_reason").is_not_null())
    for line, why, problem in bad.select("_line", "_reason", "problem").iter_rows():
        col.reject(int(line), why, (problem or "")[:200],
                   hint="map the right column with --param columns=question->problem, "
                   "or rerun with --on-bad-rows quarantine")
    good = df.filter(pl.col("_reason").is_null()).drop("_line", "_reason")
    return good.head(limit) if limit is not None else good


def _normalise_row(row: dict[str, Any], mapping: dict[str, str], default_source: str) -> dict[str, Any]:
    mapped = {mapping[k]: v for k, v in row.items() if k in mapping}
    replaced = {k: v for k, v in row.items() if k not in mapping and k in mapped}  # kept in meta
    row = {**{k: v for k, v in row.items() if k not in mapping and k not in mapped}, **mapped}
    meta = row.pop("meta", None)
    meta_obj: dict[str, Any] = {}
    if isinstance(meta, str) and meta:
        try:
            parsed = json.loads(meta)
            meta_obj = parsed if isinstance(parsed, dict) else {"meta": parsed}
        except json.JSONDecodeError:
            meta_obj = {"meta": meta}
    elif isinstance(meta, dict):
        meta_obj = dict(meta)
    elif meta is not None:
        meta_obj = {"meta": meta}
    known = set(PROBLEM_SCHEMA) | {"samples"}
    for key in [k for k in row if k not in known]:
        meta_obj[key] = row.pop(key)
    meta_obj.update(replaced)
    out = {k: row.get(k) for k in PROBLEM_SCHEMA}
    for k in _TEXT_COLUMNS:
        if out[k] is not None and not isinstance(out[k], str):
            out[k] = json.dumps(out[k], ensure_ascii=False, default=str)  # 42 -> "42", [1, 2] -> "[1, 2]"
    out["source"] = out["source"] or default_source
    out["meta"] = json.dumps(meta_obj, ensure_ascii=False, sort_keys=True, default=str) if meta_obj else None
    if "samples" in row:
        out["samples"] = row["samples"]
    return out


def _row_problem(raw: dict[str, Any], mapping: dict[str, str]) -> Any:
    """The raw value that becomes ``problem`` (before any cast)."""
    src = next((k for k, v in mapping.items() if v == "problem"), "problem")
    return raw.get(src) if src in raw else raw.get("problem") if "problem" not in mapping else None


def read_problems(
    spec: str | Path,
    *,
    split: str | None = "train",
    columns: str | dict[str, str] | None = None,
    on_bad_rows: OnBadRows = "error",
    source: str | None = None,
    limit: int | None = None,
    max_chars: int = MAX_PROBLEM_CHARS,
) -> LoadResult:
    """Load problems from JSONL, Parquet, CSV/TSV, a saved dataset directory or a Hub dataset.

    ``columns`` renames source columns (``question->problem``); columns outside the table
    model are kept inside ``meta``. ``source`` defaults to the file's stem.
    """
    spec = str(spec)
    if on_bad_rows not in ("error", "quarantine"):
        raise InputError(f"on_bad_rows must be 'error' or 'quarantine', not {on_bad_rows!r}")
    mapping = parse_column_map(columns)
    col = _Collector(spec, on_bad_rows)
    default_source = source or Path(spec).stem.split(".")[0]
    notes: list[str] = []
    frame = _read_frame(spec, split, col)
    if frame is not None:
        table = _problems_from_frame(frame, spec, mapping, default_source, source, col, limit, max_chars, notes)
        return LoadResult(conform(table), _bad_frame(col), notes)
    rows: list[dict[str, Any]] = []
    saw_problem_column = False
    seen: dict[str, None] = {}  # every key of every record, in order (for mapping errors)
    hint = "map the right column with --param columns=question->problem, or rerun with --on-bad-rows quarantine"
    for lineno, raw in _records(spec, col):
        seen.update(dict.fromkeys(raw))
        if any(mapping.get(k, k) == "problem" for k in raw):
            saw_problem_column = True
        value = _row_problem(raw, mapping)
        if value is not None and not isinstance(value, str):
            col.reject(lineno, f"'problem' is {type(value).__name__} ({str(value)[:40]}), not text",
                       json.dumps(raw, ensure_ascii=False, default=str), hint=hint)
            continue
        if "samples" in raw and not (isinstance(raw["samples"], list)
                                     and all(isinstance(x, dict) for x in raw["samples"])):
            col.reject(lineno, "'samples' is not a list of objects", json.dumps(raw, ensure_ascii=False,
                                                                                default=str),
                       hint="map it elsewhere with --param columns=samples->samples_raw")
            continue
        row = _normalise_row(raw, mapping, default_source)
        if source:
            row["source"] = source
        problem = row["problem"]
        if problem is None or not str(problem).strip():
            col.reject(
                lineno,
                "missing or empty 'problem'" + ("" if "problem" in raw else f" (keys: {sorted(raw)[:8]})"),
                json.dumps(raw, ensure_ascii=False, default=str), hint=hint)
            continue
        if len(problem) > max_chars:
            col.reject(lineno, f"problem is {len(problem):,} characters, over the limit of {max_chars:,}",
                       problem[:200])
            continue
        rows.append(row)
        if limit is not None and len(rows) >= limit:
            break
    if seen or not col.bad:
        missing = _missing_mapping_error(spec, mapping, seen)
        if missing is not None:
            raise missing
    notes.extend(_replacement_notes(mapping, seen))
    if not rows and not saw_problem_column and col.bad and seen:
        raise InputError(f"{spec}: no row has a 'problem' field (keys: {list(seen)[:20]}); "
                         "map one with --param columns=question->problem")
    return LoadResult(conform(_to_frame(rows)), _bad_frame(col), notes)


def _bad_frame(col: _Collector) -> pl.DataFrame:
    return pl.DataFrame(col.bad, schema=BAD_ROWS_SCHEMA) if col.bad else pl.DataFrame(schema=BAD_ROWS_SCHEMA)


def _to_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    schema = {k: v for k, v in PROBLEM_SCHEMA.items()}
    if not rows:
        return pl.DataFrame(schema=schema)
    has_samples = any("samples" in r for r in rows)
    base = pl.DataFrame([{k: r.get(k) for k in schema} for r in rows], schema=schema)
    if has_samples:
        samples = pl.Series("samples", [r.get("samples") or [] for r in rows], strict=False)
        base = base.with_columns(samples)
    return base


def write_table(df: pl.DataFrame, path: str | Path | StoragePath) -> StoragePath:
    """Write Parquet (``.parquet``) or JSON lines (``.jsonl``), creating the folder; never half a file."""
    path = location(path)
    if path.suffix == ".parquet":
        write_whole(path, df.write_parquet)
    elif path.suffix in (".jsonl", ".ndjson"):
        write_whole(path, df.write_ndjson)
    else:
        raise InputError(f"{path}: write .parquet or .jsonl")
    return path


def read_table(path: str | Path) -> pl.DataFrame:
    """Read a table this project wrote (Parquet or JSONL), keeping its column types."""
    path = Path(path)
    if path.suffix == ".parquet":
        return pl.read_parquet(path)
    return read_problems(path, source=None).table


def read_records(path: str | Path, what: str = "file") -> pl.DataFrame:
    """Every column of a JSONL, JSON, CSV/TSV or Parquet file, with the loader's errors.

    For side inputs such as decontamination benchmarks: a bad line, bad bytes or a corrupt
    row group is one ``InputError`` naming ``what``, the file, the line and what to do.
    """
    path = Path(path)
    spec = f"{what} {path}" if what != "file" else str(path)
    col = _Collector(spec, "error", fix="fix or remove that record (every line must be one JSON object)")
    if not path.is_file():
        raise InputError(f"{spec}: no such file")
    if path.suffix == ".parquet":
        return _read_parquet([path], col)
    if path.suffix in (".csv", ".tsv"):
        rows = [r for _, r in _iter_csv(path, col, "\t" if path.suffix == ".tsv" else ",")]
    elif path.suffix == ".json":
        try:
            doc = json.loads(path.read_bytes().decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError) as err:
            raise InputError(f"{spec}: not a JSON document ({err}). Give a JSON array of objects, "
                             "or JSON lines as .jsonl") from None
        if not isinstance(doc, list) or not all(isinstance(r, dict) for r in doc):
            raise InputError(f"{spec}: a .json file must hold an array of objects. Convert it to .jsonl")
        rows = doc
    elif path.suffix in (".jsonl", ".ndjson"):
        rows = [r for _, r in _iter_jsonl(path, col)]
    else:
        raise InputError(f"{spec}: unknown file type {path.suffix!r}; use .jsonl, .json, .parquet, .csv or .tsv")
    try:
        return pl.DataFrame(rows, strict=False, infer_schema_length=None)
    except (pl.exceptions.PolarsError, TypeError, ValueError) as err:
        raise InputError(f"{spec}: the records do not form a table ({type(err).__name__}: {str(err)[:200]}). "
                         "Give every record the same fields with one type each") from None
