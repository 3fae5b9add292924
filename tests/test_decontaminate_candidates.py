"""Decontamination checks only candidate rows and decides exactly as checking every row; ids per column."""

from __future__ import annotations

import json
import re
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.table import id_column, make_id
from filters.decontaminate import (
    _NUMBERS_RS,
    _SPACE_OR_PUNCT_RS,
    HIT_COLUMNS,
    BenchmarkIndex,
    _core_column,
    candidate_rows,
    contamination,
    core_texts,
)

DATA = Path(__file__).resolve().parent.parent / "benchmarks" / "data"
BENCH = [json.loads(x) for x in (DATA / "decontam_benchmark.jsonl").read_text().splitlines()]
ROWS = [json.loads(x)["problem"] for x in (DATA / "decontam_rows.jsonl").read_text().splitlines()]
ITEMS = pl.DataFrame({"item_id": [b["id"] for b in BENCH], "text": [b["problem"] for b in BENCH]})


def every_row(df: pl.DataFrame, index: BenchmarkIndex, fuzzy: float | None, min_overlap: float) -> pl.DataFrame:
    """The definition: ``match`` on every row."""
    texts = df["problem"].fill_null("").to_list()
    hits = [index.match(t, fuzzy, min_overlap, c) for t, c in zip(texts, core_texts(texts), strict=True)]
    return pl.DataFrame({"contaminated_by": [h.label if h else None for h in hits],
                         "contamination_rule": [h.rule if h else None for h in hits],
                         "contamination_overlap": [h.overlap if h else None for h in hits],
                         "contamination_item": [index.text_of(h.label) if h else None for h in hits]},
                        schema={"contaminated_by": pl.String, "contamination_rule": pl.String,
                                "contamination_overlap": pl.Float64, "contamination_item": pl.String})


def test_rust_classes_equal_pythons_on_every_bmp_code_point():
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF]
    s = pl.Series(chars, dtype=pl.String)
    for py, rs in ((r"[\s?;:\"'`.,!。、]", _SPACE_OR_PUNCT_RS.rstrip("+")), (r"\d", _NUMBERS_RS[:2])):
        pattern = re.compile(py)
        assert s.str.contains(f"^(?:{rs})$").to_list() == [bool(pattern.fullmatch(c)) for c in chars], py


def test_candidates_decide_as_every_row_on_the_decontamination_set():
    df = pl.DataFrame({"problem": ROWS + [b["problem"].upper() for b in BENCH[:40]] + ["", "𝟙𝟚 x", "\x1cwhat"]})
    for cjk, min_overlap, fuzzy in ((18, 0.7, None), (18, 0.0, None), (None, 0.0, None), (18, 0.7, 95.0)):
        index = BenchmarkIndex.build([("bench", ITEMS)], 8, 12, cjk)
        marks, _ = contamination(df, index, fuzzy, min_overlap)
        assert marks.equals(every_row(df, index, fuzzy, min_overlap)), (cjk, min_overlap, fuzzy)
        assert marks["contaminated_by"].drop_nulls().len() > 200


EDITS = st.sampled_from(["", " ", "  ", ".", "?", "，", "。", "1", "12", "3.5", "\n", "Ｆ", "𝟚", "\x1c", "Problem: ",
                         "$", "\\,", "A", "的", "x"])


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(0, len(BENCH) - 1), st.integers(0, 400), EDITS, st.booleans()), max_size=25))
def test_edited_items_decide_as_every_row(edits):
    rows = []
    for item, at, edit, upper in edits:
        text = BENCH[item]["problem"]
        text = text[:at] + edit + text[at:]
        rows.append(text.upper() if upper else text)
    df = pl.DataFrame({"problem": rows + ROWS[:30]}, schema={"problem": pl.String})
    index = BenchmarkIndex.build([("bench", ITEMS)], 8, 12, 18)
    marks, _ = contamination(df, index, None, 0.7)
    assert marks.equals(every_row(df, index, None, 0.7))
    assert set(marks.columns) == {"contaminated_by", *HIT_COLUMNS}


def test_no_anchor_no_candidate_and_fuzzy_checks_all():
    index = BenchmarkIndex.build([("bench", ITEMS)], 8, 12, 18)
    cores = _core_column(pl.Series(["zzz qqq", ""]))
    assert candidate_rows(cores, index).to_list() == []
    assert candidate_rows(cores, index, fuzzy=True).to_list() == [0, 1]


def test_id_column_equals_make_id():
    problems = ["What is  2+2?", "a\x1cb  c ", "\u3000全角　空格 ", "", None, "ﬁ x\u2028y\t", " \x85 ", "1２3"]
    sources = ["gsm8k", "s", None, "", "t", "u", "v", "w"]
    ids = id_column(pl.Series(sources, dtype=pl.String), pl.Series(problems, dtype=pl.String)).to_list()
    assert ids == [make_id(s, p or "") for s, p in zip(sources, problems, strict=True)]
    assert ids[0] == "1dcab54005d44d3d"
