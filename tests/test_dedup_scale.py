"""Vectorised dedup makes the decisions the per-row grouping made (frozen in benchmarks/dedup_frozen.py)."""

from __future__ import annotations

import sys
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "benchmarks"))

from dedup_frozen import dedup_groups as frozen_groups  # noqa: E402
from dedup_frozen import normalize_expr as frozen_normalize_expr  # noqa: E402
from scale_data import make_problems  # noqa: E402

from curator.core.table import conform  # noqa: E402
from filters.boilerplate import load_boilerplate  # noqa: E402
from filters.dedup import DedupParams, dedup_groups, normalize_series  # noqa: E402

BASE = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
        "How many clips did Natalia sell altogether in April and May?")
EDGE = [  # (problem, answer, solution): ties, blank answers, conflicts, labels, phrases, short problems
    (BASE, "72", "short"), (BASE.replace("sold clips to 48", "sold 48 clips to"), "72", "a longer solution"),
    (BASE.replace("altogether", "in total"), " ", None), (BASE.upper(), "96", None), (BASE + "  ", "$72$", None),
    ("Problem 3: " + BASE, None, None), (BASE + " Give your answer in simplest form.", "\x1c", None),
    ("What is 7 + 8?", "15", None), ("Compute 7+8.", None, "7+8=15"), ("Is 7 + 8 prime?", None, None),
    ("What is 7 + 8?", "16", None), ("**Problem.** What is 7 + 8?", None, None), ("例题2：计算 7+8。", None, None),
    ("计算 7+8", "15", None), ("", None, None), (None, None, None), ("Find  $f\\left( x \\right)$ when $x=2$.", "", None),
]


def _edge_table() -> pl.DataFrame:
    problems, answers, solutions = zip(*EDGE, strict=True)
    ids = [f"e{i % 7}" for i in range(len(EDGE))]  # repeated ids: ties broken by input order
    return pl.DataFrame({"id": ids, "problem": problems, "answer": answers, "solution": solutions},
                        schema={"id": pl.String, "problem": pl.String, "answer": pl.String, "solution": pl.String})


PARAMS = [DedupParams(), DedupParams(boilerplate=False), DedupParams(near=False), DedupParams(short=False),
          DedupParams(min_fuzzy_chars=10, fuzzy_threshold=80), DedupParams(max_survivors_checked=1)]


@pytest.mark.parametrize("params", PARAMS, ids=lambda p: f"near={p.near},bp={p.boilerplate},short={p.short},"
                                                        f"min={p.min_fuzzy_chars},max={p.max_survivors_checked}")
def test_same_decisions_as_the_per_row_grouping(params):
    generated = conform(make_problems(3000, seed=3)).select("id", "problem", "answer")
    tables = [_edge_table(), generated]
    if params == PARAMS[0]:
        tables.append(generated.with_columns(pl.lit(None, pl.String).alias("answer")))
    for df in tables:
        old, old_info = frozen_groups(df, params)
        new, new_info = dedup_groups(df, params)
        assert new.equals(old)
        assert new_info == old_info


def test_no_answer_or_solution_column_and_empty_tables():
    df = _edge_table().select("id", "problem")
    for table in (df, df.head(0), df.head(1)):
        new, new_info = dedup_groups(table)
        old, old_info = frozen_groups(table)
        assert new.equals(old) and new_info == old_info


PIECES = list("ab xyz019.,!?:;$\\()[]{}*-+=^\t\n\u3000，。、（）例题½") + [
    "\\left", "\\,", "\\dfrac", "  ", "Problem 2:", "1. ", "**", "Q.", "simplest form", "ＡＢ１", "Problem"]
TEXT = st.lists(st.sampled_from(PIECES), max_size=25).map("".join)


@settings(max_examples=300, deadline=None)
@given(texts=st.lists(TEXT, min_size=1, max_size=8), boilerplate=st.booleans())
def test_normalize_series_is_the_expression(texts, boilerplate):
    bp = load_boilerplate() if boilerplate else None
    series = pl.Series(texts, dtype=pl.String)
    frame = pl.DataFrame({"t": series}).select(plain=frozen_normalize_expr(pl.col("t")),
                                               norm=frozen_normalize_expr(pl.col("t"), bp))
    norm, changed = normalize_series(series, bp)
    assert norm.to_list() == frame["norm"].to_list()
    assert changed == (int((frame["plain"] != frame["norm"]).sum()) if bp else 0)


ROW = st.tuples(st.sampled_from([BASE, BASE.replace("48", "50"), BASE.replace("altogether", "in total"),
                                 "What is 7 + 8?", "Compute 7+8.", "Is 7 + 8 prime?", "计算 7+8", "Find x."]),
                st.lists(st.sampled_from(PIECES), max_size=4).map("".join), st.booleans(),
                st.sampled_from([None, "", " ", "15", "16", "$15$", "72"]), st.sampled_from(["a", "b", "c"]))


@settings(max_examples=60, deadline=None)
@given(rows=st.lists(ROW, min_size=1, max_size=12))
def test_random_tables_same_decisions(rows):
    problems = [text + extra if at_end else extra + text for text, extra, at_end, _, _ in rows]
    df = pl.DataFrame({"id": [r[4] for r in rows], "problem": problems, "answer": [r[3] for r in rows]},
                      schema={"id": pl.String, "problem": pl.String, "answer": pl.String})
    old, old_info = frozen_groups(df)
    new, new_info = dedup_groups(df)
    assert new.equals(old) and new_info == old_info


def test_signatures_equal_the_per_permutation_formula():
    import numpy as np

    from filters import minhash

    rng = np.random.default_rng(0)
    doc = np.sort(rng.integers(0, 40, 500))
    hashes = rng.integers(0, 2**63, 500, dtype=np.uint64)
    sig = minhash.signatures(hashes, doc, 45, 16, seed=3)
    for threads, chunk in ((1, 7), (2, 64), (2, 1 << 20)):  # chunks of whole documents, in parallel or not
        assert (minhash.signatures(hashes, doc, 45, 16, seed=3, threads=threads, chunk=chunk) == sig).all()
    a, b = minhash._rng_u64(3, 16), minhash._rng_u64(4, 16)
    with np.errstate(over="ignore"):
        for d in range(45):
            h = hashes[doc == d][:, None] * a + b
            h ^= h >> np.uint64(29)
            want = h.min(axis=0) if len(h) else np.full(16, np.iinfo(np.uint64).max, dtype=np.uint64)
            assert (sig[d] == want).all()
