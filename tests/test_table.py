"""curator.core.table: the canonical text forms computed per column equal their per-text definitions."""

from __future__ import annotations

import unicodedata

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.table import id_column, make_id, nfkc_column, parse_meta

#: any text, with extra weight on what NFKC changes (compatibility forms, combining marks, fullwidth)
TEXT = st.one_of(st.none(), st.text(max_size=12),
                 st.text(st.sampled_from("Aa1 ²ﬁＦｕｌＬİẞΩ\u0301\u00e9\u3000ｶﾞ①\U0001d400\ua7f1"), max_size=8))


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, max_size=10))
def test_nfkc_column_is_unicodedata_row_by_row(texts):
    col = pl.Series("t", texts, dtype=pl.String)
    for lower in (False, True):
        want = [None if t is None else unicodedata.normalize("NFKC", t) for t in texts]
        want = [t.lower() if lower and t is not None else t for t in want]
        got = nfkc_column(col, lower=lower)
        assert got.to_list() == want and got.name == "t" and got.dtype == pl.String
    assert col.to_list() == texts  # the caller's column is not written


@settings(max_examples=200, deadline=None)
@given(st.lists(TEXT, max_size=10))
def test_nfkc_column_with_polars_tables_is_the_polars_expression(texts):
    col = pl.Series("t", texts, dtype=pl.String)
    assert nfkc_column(col, tables="polars").to_list() == col.str.normalize("NFKC").to_list()
    assert (nfkc_column(col, lower=True, tables="polars").to_list()
            == col.str.normalize("NFKC").str.to_lowercase().to_list())


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(st.none() | st.text(max_size=4), TEXT), max_size=8))
def test_id_column_is_make_id_row_by_row(rows):
    source = pl.Series([s for s, _ in rows], dtype=pl.String)
    problem = pl.Series([p for _, p in rows], dtype=pl.String)
    assert id_column(source, problem).to_list() == [make_id(s, p or "") for s, p in rows]


def test_parse_meta_names_nothing_when_it_cannot_read_meta():
    assert parse_meta('{"level": "Level 2"}') == {"level": "Level 2"}
    for bad in (None, "", "not json", "[1]", "3", "null", '"text"'):
        assert parse_meta(bad) == {}
