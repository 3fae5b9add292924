"""Difficulty and bins on constructed tables whose pass rates are known exactly."""

from __future__ import annotations

import polars as pl
import pytest

from curator.core.pipeline import Pipeline
from curator.core.table import SAMPLES_DTYPE
from curator.selection.difficulty import (
    Difficulty,
    assign_bins,
    bin_expr,
    difficulty_expr,
    pass_rate_columns,
    quantile_edges,
)


def table_with_counts(k: int = 10, copies: int = 3) -> pl.DataFrame:
    """Every count 0..k of correct samples, ``copies`` problems each, with real sample structs."""
    rows = []
    for c in range(k + 1):
        for j in range(copies):
            samples = [{"text": "x", "correct": i < c, "status": "ok"} for i in range(k)]
            rows.append({"id": f"{c:02d}-{j}", "problem": f"p{c}-{j}", "samples": samples})
    return pl.DataFrame(rows).with_columns(pl.col("samples").cast(SAMPLES_DTYPE))


def test_pass_rate_from_samples_ignores_ungradable():
    samples = [[{"correct": True}, {"correct": None}, {"correct": False}], [], [{"correct": None}]]
    df = pl.DataFrame({"samples": samples}).with_columns(pl.col("samples").cast(SAMPLES_DTYPE))
    out = pass_rate_columns(df)
    assert out["n_samples"].to_list() == [2, 0, 0]
    assert out["n_correct"].to_list() == [1, 0, 0]
    assert out["pass_rate"].to_list() == [0.5, None, None]


def test_fixed_bins_hold_exactly_the_rows_inside_their_edges():
    edges = [0.0, 0.2, 0.4, 0.6, 0.8, 1.0]
    df = pass_rate_columns(table_with_counts()).with_columns(difficulty_expr())
    out, used = assign_bins(df, "fixed", edges=edges, label_extremes=False)
    assert used["labels"] == ["0-0.2", "0.2-0.4", "0.4-0.6", "0.6-0.8", "0.8-1"]
    for i, label in enumerate(used["labels"]):
        lo, hi = edges[i], edges[i + 1]
        want = {r for r, p in zip(out["id"], out["pass_rate"], strict=True)
                if lo <= p < hi or (i == len(used["labels"]) - 1 and p == hi)}
        got = set(out.filter(pl.col("bin") == label)["id"])
        assert got == want, label
    assert out["bin"].null_count() == 0


def test_extremes_are_labelled_and_dropped_with_reasons():
    df = table_with_counts(k=4, copies=2)
    out = Difficulty(drop_unsolved=True, drop_saturated=True).apply(df)
    assert set(out.rejects["reason"]) == {"unsolved", "saturated"}
    assert out.rejects.filter(pl.col("reason") == "unsolved")["n_correct"].to_list() == [0, 0]
    assert out.rejects.filter(pl.col("reason") == "saturated")["n_correct"].to_list() == [4, 4]
    assert out.kept["pass_rate"].is_between(0.0, 1.0, closed="none").all()
    assert out.kept.height + out.rejects.height == df.height
    assert out.info["dropped_labels"] == ["unsolved", "saturated"]
    kept_labels = {b["bin"] for b in out.info["bins"]}
    assert {"unsolved", "saturated"} <= kept_labels  # the report covers the whole input


def test_difficulty_is_one_minus_pass_rate():
    out = Difficulty().apply(table_with_counts(k=4, copies=1)).kept
    assert (out["difficulty"] - (1 - out["pass_rate"])).abs().max() < 1e-12


def test_quantile_bins_are_balanced_and_ordered():
    df = pl.DataFrame({"id": [str(i) for i in range(1000)], "pass_rate": [(i % 99 + 1) / 100 for i in range(1000)]})
    out = Difficulty(method="quantile", n_quantiles=4).apply(df).kept
    sizes = out.group_by("bin").len().sort("bin")
    assert sizes["bin"].to_list() == ["q1", "q2", "q3", "q4"]
    assert sizes["len"].min() >= 200
    ranges = out.group_by("bin").agg(pl.col("difficulty").min().alias("lo"), pl.col("difficulty").max().alias("hi")).sort("bin")
    assert (ranges["hi"].head(3).to_numpy() <= ranges["lo"].tail(3).to_numpy()).all()


def test_quantile_edges_merge_ties():
    assert quantile_edges(pl.Series([0.5] * 10), 4) == [0.5, 0.5 + 1e-12]


def test_named_levels_and_external_score():
    df = pl.DataFrame({"id": list("abcd"), "rating": [1.0, 4.0, 7.0, 10.0], "pass_rate": [0.5] * 4})
    out = Difficulty(method="levels", score_column="rating", score_range=(1, 10)).apply(df).kept
    assert out["difficulty"].to_list() == [0.0, 1 / 3, 2 / 3, 1.0]
    assert out["bin"].to_list() == ["easy", "medium", "hard", "hard"]


def test_missing_score_column_is_a_clear_error():
    with pytest.raises(ValueError, match="score_column 'nope'"):
        Difficulty(score_column="nope").apply(pl.DataFrame({"id": ["a"], "pass_rate": [0.5]}))


def test_bad_edges_are_rejected():
    with pytest.raises(ValueError, match="strictly increasing"):
        bin_expr("p", [0, 0.5, 0.5])


def test_unrated_rows_without_any_score():
    df = pl.DataFrame({"id": ["a", "b"], "pass_rate": [None, 0.5]}, schema={"id": pl.String, "pass_rate": pl.Float64})
    out = Difficulty(drop_unrated=True).apply(df)
    assert out.rejects["reason"].to_list() == ["unrated"]


def test_stage_in_a_pipeline_keeps_the_funnel_balanced(tmp_path):
    df = table_with_counts(k=4, copies=2).with_columns(pl.lit("s").alias("source"))
    pipe = Pipeline("difficulty", df, [Difficulty(drop_unsolved=True)])
    out = pipe.run(tmp_path / "out", quiet=True)
    assert out.height == df.height - 2
    assert (tmp_path / "out" / "rejects" / "01-difficulty.parquet").exists()
