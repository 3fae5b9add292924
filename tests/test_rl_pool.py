"""RL prompt pools: evaluability, the pass-rate window, and balanced, seeded sampling."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.pipeline import Pipeline
from curator.core.table import SAMPLES_DTYPE
from curator.selection.difficulty import Difficulty
from curator.selection.rl_pool import (
    Balance,
    Evaluable,
    PassRateWindow,
    allocate,
    balanced_sample,
    guessed_reasons,
    largest_remainder,
    mirrored_j,
    window_reasons,
)


def pool_table(n: int = 4000, k: int = 8, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    correct = rng.binomial(k, rng.beta(0.7, 0.7, n))
    return pl.DataFrame({
        "id": [f"{i:06d}" for i in range(n)],
        "domain": rng.choice(["algebra", "geometry", "number theory"], n, p=[0.6, 0.3, 0.1]).tolist(),
        "n_samples": np.full(n, k), "n_correct": correct, "pass_rate": correct / k,
    })


def binned(df: pl.DataFrame, **kw) -> pl.DataFrame:
    return Difficulty(**kw).apply(df).kept


def test_window_is_open_by_default_like_open_r1():
    df = pl.DataFrame({"pass_rate": [0.0, 0.1, 0.125, 0.5, 0.6, 0.9, None]})
    assert window_reasons(df).is_null().to_list() == [False, False, True, True, False, False, False]
    assert window_reasons(df, inclusive=True).is_null().to_list()[1:5] == [True, True, True, True]


def test_pool_has_the_requested_size_and_distribution_within_one_row_per_bin():
    df = binned(pool_table(), drop_unsolved=True, drop_saturated=True)
    out = Balance(size=1200, seed=7).apply(df)
    pool = out.kept
    assert pool.height == 1200
    assert pool["id"].n_unique() == 1200
    assert not pool["bin"].is_in(["unsolved", "saturated"]).any()
    assert not (pool["pass_rate"].is_in([0.0, 1.0])).any()
    counts = pool.group_by("bin").len()["len"].to_list()
    assert max(counts) - min(counts) <= 1  # uniform over 5 bins: 240 each
    assert set(out.rejects["reason"]) == {"not selected"}
    assert out.kept.height + out.rejects.height == df.height


def test_given_histogram_is_followed_within_one_row():
    df = binned(pool_table(20000), drop_unsolved=True, drop_saturated=True)
    bins = ["0.8-1", "0.6-0.8", "0.4-0.6", "0.2-0.4", "0-0.2"]  # easy -> hard (bins are on pass rate)
    dist = mirrored_j(bins, ratio=3.0)
    mask, report = balanced_sample(df, 1500, distribution=dist, seed=1)
    got = df.filter(mask).group_by("bin").len()
    want = largest_remainder(1500, dist)
    for b, n in got.iter_rows():
        assert abs(n - want[b]) <= 1, (b, n, want[b])
    assert report["unfilled"] == []


def test_same_seed_same_pool_other_seed_other_pool_and_row_order_does_not_matter():
    df = binned(pool_table(), drop_unsolved=True, drop_saturated=True)
    a, _ = balanced_sample(df, 500, seed=3)
    b, _ = balanced_sample(df.reverse(), 500, seed=3)
    c, _ = balanced_sample(df, 500, seed=4)
    ids = lambda frame, m: set(frame.filter(m)["id"])  # noqa: E731
    assert ids(df, a) == ids(df.reverse(), b)
    assert ids(df, a) != ids(df, c)


def test_unfilled_cells_are_reported_and_refilled_elsewhere():
    df = pl.DataFrame({"id": [str(i) for i in range(130)], "bin": ["hard"] * 10 + ["easy"] * 120,
                       "domain": ["a"] * 130})
    mask, report = balanced_sample(df, 100, seed=0)
    assert int(mask.sum()) == 100
    assert report["unfilled"] == [{"bin": "hard", "wanted": 50, "available": 10}]
    assert report["quota"] == {"easy": 90, "hard": 10}
    mask, report = balanced_sample(df, 100, seed=0, refill=False)
    assert int(mask.sum()) == 60 and report["short_by"] == 40


def test_domains_are_balanced_within_a_bin():
    df = binned(pool_table(20000), drop_unsolved=True, drop_saturated=True)
    mask, report = balanced_sample(df, 600, seed=0)
    per = df.filter(mask).group_by("bin", "domain").len()
    for (_b,), part in per.group_by("bin"):
        assert part["len"].max() - part["len"].min() <= 1
    assert report["unfilled_within"] == {}


def test_allocate_water_fills():
    assert allocate(10, {"a": 1, "b": 1, "c": 1}, {"a": 1, "b": 100, "c": 100}) == {"a": 1, "b": 5, "c": 4}
    assert allocate(10, {"a": 1, "b": 1}, {"a": 2, "b": 3}) == {"a": 2, "b": 3}


def test_difficulty_priority_prefers_hard_rows():
    df = binned(pool_table(20000), drop_unsolved=True, drop_saturated=True).with_columns(pl.lit("all").alias("bin"))
    mask, _ = balanced_sample(df, 2000, seed=0, priority="difficulty")
    assert df.filter(mask)["difficulty"].mean() > df["difficulty"].mean() + 0.05


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 300), size=st.integers(0, 400), seed=st.integers(0, 2**32 - 1),
       n_bins=st.integers(1, 6), n_domains=st.integers(1, 4))
def test_balance_invariants(n, size, seed, n_bins, n_domains):
    rng = np.random.default_rng(seed)
    df = pl.DataFrame({"id": [f"r{i}" for i in range(n)],
                       "bin": rng.integers(0, n_bins, n).astype(str).tolist(),
                       "domain": rng.integers(0, n_domains, n).astype(str).tolist()},
                      schema={"id": pl.String, "bin": pl.String, "domain": pl.String})
    mask, report = balanced_sample(df, size, seed=seed)
    chosen = df.filter(mask)
    assert chosen.height == min(size, n)  # refill reaches the target whenever rows exist
    assert chosen["id"].n_unique() == chosen.height
    again, _ = balanced_sample(df, size, seed=seed)
    assert (again == mask).all()


def test_evaluable_uses_the_verifier_and_the_quality_rules():
    df = pl.DataFrame({
        "id": list("abcdef"),
        "problem": ["What is 2+3?", "Prove that sqrt 2 is irrational.", "Which of the following is prime? (A) 4 (B) 5 (C) 6",
                    "True or false: 7 is prime.", "Compute 1/2 + 1/4.", "Name it."],
        "answer": ["5", "see proof", "B", "True", "\\frac{3}{4}", None],
    })
    reasons = Evaluable(drop_multiple_choice=True, drop_true_false=True, drop_proofs=True).reasons(df).to_list()
    assert reasons[0] is None and reasons[4] is None
    assert reasons[5] == "no gold answer"
    assert reasons[1] in ("gold not parseable", "proof")
    assert reasons[2] == "multiple choice"
    assert reasons[3] == "true/false"


def test_guessable_without_cot_within_m_tries():
    samples = [[{"correct": False}] * 3 + [{"correct": True}], [{"correct": False}] * 10, [{"correct": True}]]
    df = pl.DataFrame({"nocot": samples}).with_columns(pl.col("nocot").cast(SAMPLES_DTYPE))
    assert guessed_reasons(df, "nocot", tries=8).to_list() == ["guessable without CoT", None, "guessable without CoT"]
    assert guessed_reasons(df, "nocot", tries=3).to_list() == [None, None, "guessable without CoT"]
    with pytest.raises(ValueError, match="guess column 'x' is missing"):
        guessed_reasons(df, "x")


def test_rl_pool_pipeline_funnel(tmp_path):
    df = pool_table(3000).with_columns(pl.lit("What is 1+1?").alias("problem"), pl.lit("2").alias("answer"),
                                       pl.col("id").alias("source"))
    pipe = Pipeline("rl_pool", df, [Difficulty(drop_unsolved=True, drop_saturated=True), PassRateWindow(),
                                    Evaluable(), Balance(size=300, seed=0)])
    out = pipe.run(tmp_path / "o", quiet=True)
    assert out.height == 300
    assert out["pass_rate"].is_between(0.1, 0.6, closed="none").all()


@pytest.mark.slow
def test_guess_without_cot_with_the_embedded_model(tmp_path):
    from curator.selection.rl_pool import GuessWithoutCoT

    df = pl.DataFrame({"id": ["a", "b"], "problem": ["What is 6 + 8?", "What is 2 + 2?"], "answer": ["14", "4"],
                       "source": ["s", "s"]})
    stage = GuessWithoutCoT(tries=2, max_tokens=12)
    pipe = Pipeline("guess", df, [stage])
    out = pipe.run(tmp_path / "o", quiet=True)
    rejects = tmp_path / "o" / "rejects" / "01-guess_without_co_t.parquet"
    dropped = pl.read_parquet(rejects) if rejects.exists() else pl.DataFrame(schema={"guess_hits": pl.Int64})
    assert out.height + dropped.height == 2
    assert (out["guess_hits"] == 0).all() and (dropped["guess_hits"] > 0).all()
    assert (tmp_path / "o" / ".work" / "requests.sqlite").exists()  # answers went through the request cache
