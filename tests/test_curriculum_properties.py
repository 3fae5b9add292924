"""Curriculum invariants over any difficulties: stages are ordered, sized, and never split a tie."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.selection.curriculum import assign_splits, iter_splits, stage_index

difficulties = st.lists(st.one_of(st.none(), st.sampled_from([0.0, 0.125, 0.25, 0.5, 0.75, 0.875, 1.0])),
                        min_size=1, max_size=60)


def _table(ds: list[float | None]) -> pl.DataFrame:
    return pl.DataFrame({"id": [f"r{i}" for i in range(len(ds))], "difficulty": ds},
                        schema={"id": pl.String, "difficulty": pl.Float64})


@settings(max_examples=60, deadline=None)
@given(difficulties, st.integers(1, 5))
def test_equal_count_stages_are_monotone_and_keep_ties_together(ds, n):
    idx = stage_index(_table(ds), n).to_list()
    pairs = [(d, i) for d, i in zip(ds, idx, strict=True) if d is not None]
    assert all(i is None for d, i in zip(ds, idx, strict=True) if d is None)
    for d1, i1 in pairs:
        for d2, i2 in pairs:
            if d1 < d2:
                assert i1 <= i2  # harder never goes to an earlier stage
            if d1 == d2:
                assert i1 == i2  # a tie is never cut
    assert all(0 <= i < n for _, i in pairs)


@settings(max_examples=60, deadline=None)
@given(difficulties, st.integers(1, 5), st.sampled_from(["disjoint", "cumulative", "narrowing"]))
def test_every_rated_row_is_in_the_stages_its_mode_says(ds, n, mode):
    out = assign_splits(_table(ds), n, mode)
    names = [f"stage{i + 1}" for i in range(n)]
    idx = stage_index(_table(ds), n).to_list()
    for row, i in zip(out.iter_rows(named=True), idx, strict=True):
        if i is None:
            assert not row["splits"] and row["split"] is None
            continue
        expected = {"disjoint": names[i:i + 1], "cumulative": names[i:], "narrowing": names[:i + 1]}[mode]
        assert row["splits"] == expected and row["split"] == expected[0]


def test_iter_splits_goes_easy_to_hard_or_in_the_order_given():
    df = pl.DataFrame({"difficulty": [0.9, 0.1, 0.5], "split": ["hard", "easy", "mid"]})
    assert [name for name, _ in iter_splits(df, "split")] == ["easy", "mid", "hard"]
    assert [name for name, _ in iter_splits(df, "split", order=("hard",))] == ["hard", "easy", "mid"]
    with pytest.raises(ValueError, match="no column 'splits'.*run the Curriculum stage first"):
        list(iter_splits(df))
