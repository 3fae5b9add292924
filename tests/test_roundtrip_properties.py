"""Property: load -> write -> load returns the same rows (unicode, empty strings, nested samples)."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import polars as pl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from curator import read_problems, write_table
from curator.core.table import PROBLEM_SCHEMA

text = st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40)
nonblank = text.filter(lambda s: s.strip() != "")
sample = st.fixed_dictionaries({
    "text": text, "reasoning": st.none() | text, "final": st.none() | text, "extracted": st.none() | text,
    "correct": st.none() | st.booleans(), "finish_reason": st.sampled_from(["stop", "length"]),
    "status": st.sampled_from(["ok", "truncated", "failed"]), "error": st.none() | text,
    "prompt_tokens": st.integers(0, 10_000), "completion_tokens": st.integers(0, 10_000),
    "model": st.sampled_from(["m1", "模型"]), "seed": st.integers(0, 2**31),
})
row = st.fixed_dictionaries({
    "problem": nonblank, "answer": st.none() | text, "source": st.sampled_from(["a", "b/c", "源"]),
    "domain": st.none() | text, "language": st.sampled_from(["en", "zh", None]),
    "samples": st.lists(sample, max_size=3),
})


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(rows=st.lists(row, min_size=1, max_size=6), fmt=st.sampled_from(["parquet", "jsonl"]))
def test_load_write_load_returns_the_same_rows(rows: list[dict], fmt: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "in.jsonl"
        src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        first = read_problems(src).table
        out = write_table(first, Path(tmp) / f"out.{fmt}")
        second = read_problems(out).table
        cols = list(PROBLEM_SCHEMA)
        assert second.select(cols).equals(first.select(cols))
        assert second["samples"].to_list() == first["samples"].to_list()
        assert first["samples"].to_list() == [r["samples"] for r in rows]
        assert first["problem"].to_list() == [r["problem"] for r in rows]
        assert isinstance(second, pl.DataFrame)
