"""Property-based fuzzing of the loaders: whatever the bytes, the outcome is rows, quarantined
rows with their reasons, or one ``InputError`` - never a raw library exception.

Inputs: random bytes, random JSON records, truncated files, other encodings (UTF-16,
Latin-1, a byte-order mark), for JSONL, CSV/TSV and Parquet, in both ``on_bad_rows`` modes.
``CURATOR_FUZZ_EXAMPLES`` raises the number of examples (benchmarks/reliability.py).
"""

from __future__ import annotations

import io
import json
import os
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator.core.io import InputError, LoadResult, read_problems, read_records

EXAMPLES = int(os.environ.get("CURATOR_FUZZ_EXAMPLES", "40"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.too_slow])

KEYS = st.sampled_from(["problem", "answer", "question", "meta", "samples", "id", "source", "x"])
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=6)
RECORDS = st.lists(st.dictionaries(KEYS, JSON_VALUES, max_size=5), max_size=6)
ENCODINGS = st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1", "cp1252"])


def _load(path: Path, mode: str, columns: str = "") -> LoadResult | None:
    """The loader's outcome; None for one InputError. Anything else raised fails the property."""
    try:
        result = read_problems(path, on_bad_rows=mode, columns=columns)  # type: ignore[arg-type]
    except InputError as err:
        assert str(path) in str(err) or path.name in str(err) or "mapping" in str(err), str(err)
        return None
    assert isinstance(result.table, pl.DataFrame)
    assert result.bad_rows["reason"].null_count() == 0  # every quarantined row says why
    if mode == "error":
        assert result.bad_rows.height == 0
    assert result.table["problem"].null_count() == 0
    return result


def _write(data: bytes, suffix: str) -> Path:
    fd, name = tempfile.mkstemp(suffix=suffix)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    return Path(name)


@FUZZ
@given(data=st.binary(max_size=400), suffix=st.sampled_from([".jsonl", ".csv", ".tsv", ".parquet"]),
       mode=st.sampled_from(["error", "quarantine"]))
def test_random_bytes(data, suffix, mode):
    path = _write(data, suffix)
    try:
        _load(path, mode)
    finally:
        path.unlink()


@FUZZ
@given(records=RECORDS, encoding=ENCODINGS, cut=st.integers(0, 400), mode=st.sampled_from(["error", "quarantine"]),
       columns=st.sampled_from(["", "question->problem", "x->answer", "missing->problem"]))
def test_json_records_reencoded_and_truncated(records, encoding, cut, mode, columns):
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records)
    raw = text.encode(encoding, errors="replace")
    path = _write(raw[: len(raw) - cut % (len(raw) + 1)], ".jsonl")
    try:
        _load(path, mode, columns)
    finally:
        path.unlink()


@FUZZ
@given(rows=st.lists(st.lists(st.text(max_size=30), min_size=1, max_size=4), max_size=6), encoding=ENCODINGS,
       cut=st.integers(0, 200), mode=st.sampled_from(["error", "quarantine"]))
def test_csv_rows_reencoded_and_truncated(rows, encoding, cut, mode):
    buf = io.StringIO()
    import csv

    writer = csv.writer(buf)
    writer.writerow(["problem", "answer"])
    writer.writerows(rows)
    raw = buf.getvalue().encode(encoding, errors="replace")
    path = _write(raw[: len(raw) - cut % (len(raw) + 1)], ".csv")
    try:
        _load(path, mode)
    finally:
        path.unlink()


@FUZZ
@given(records=st.lists(st.fixed_dictionaries({"problem": st.text(min_size=1, max_size=20)}), min_size=1,
                        max_size=20), cut=st.integers(1, 2000), flip=st.integers(0, 10_000),
       mode=st.sampled_from(["error", "quarantine"]))
def test_parquet_truncated_or_flipped(records, cut, flip, mode):
    buf = io.BytesIO()
    pl.DataFrame(records).write_parquet(buf, row_group_size=5)
    raw = bytearray(buf.getvalue())
    if flip % 2:
        raw[flip % len(raw)] ^= 0xFF  # one corrupt byte somewhere
    else:
        raw = raw[: max(0, len(raw) - cut % len(raw))]
    path = _write(bytes(raw), ".parquet")
    try:
        _load(path, mode)
    finally:
        path.unlink()


@FUZZ
@given(data=st.binary(max_size=300), suffix=st.sampled_from([".jsonl", ".json", ".csv", ".parquet"]))
def test_benchmark_files(data, suffix):
    path = _write(data, suffix)
    try:
        try:
            assert isinstance(read_records(path, what="benchmark 'b'"), pl.DataFrame)
        except InputError as err:
            assert "benchmark 'b'" in str(err)
    finally:
        path.unlink()
