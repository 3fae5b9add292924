"""s1K and LIMO selection: uniform domains, length preference, no repeats, LIMO's window."""

from __future__ import annotations

import numpy as np
import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.table import SAMPLES_DTYPE
from curator.selection.small_sets import (
    LimoScoring,
    SelectLimo,
    SelectS1,
    quality_scores,
    s1_order,
    select_s1,
)

#: chi-square critical values at p = 0.001 (df = 49 and 19), so the test needs no scipy
CHI2_CRIT_001 = {49: 85.351, 19: 43.820}


def chi_square_ok(counts: np.ndarray) -> bool:
    """Pearson's chi-square against equal expected counts, not rejected at p = 0.001."""
    expected = counts.sum() / len(counts)
    return float(((counts - expected) ** 2 / expected).sum()) < CHI2_CRIT_001[len(counts) - 1]


def synthetic(n_domains: int = 50, per_domain: int = 200, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    n = n_domains * per_domain
    return pl.DataFrame({"id": [f"{i:07d}" for i in range(n)],
                         "domain": [f"d{i % n_domains:02d}" for i in range(n)],
                         "length": rng.integers(100, 20000, n), "pass_rate": np.zeros(n)})


def test_s1_draws_domains_uniformly_chi_square():
    df = synthetic()
    out, reasons = select_s1(df, n=1000, seed=11, length_column="length")
    picked = out.filter(reasons.is_null())
    counts = picked.group_by("domain").len()["len"].to_numpy()
    assert len(counts) == 50 and counts.sum() == 1000
    assert chi_square_ok(counts)


def test_s1_uniform_while_domains_last():
    # five small domains run out; the rest share what is left evenly
    df = pl.concat([synthetic(20, 100), synthetic(5, 3, seed=1).with_columns(
        ("s" + pl.col("domain")).alias("domain"), ("x" + pl.col("id")).alias("id"))])
    out, reasons = select_s1(df, n=500, seed=2, length_column="length")
    per = dict(out.filter(reasons.is_null()).group_by("domain").len().iter_rows())
    assert all(per[f"sd{i:02d}"] == 3 for i in range(5))
    big = np.array([per[f"d{i:02d}"] for i in range(20)])
    assert big.sum() == 485 and chi_square_ok(big)


def test_s1_never_picks_twice_and_orders_picks():
    df = synthetic(10, 30)
    out, reasons = select_s1(df, n=250, seed=0, length_column="length")
    picked = out.filter(reasons.is_null())
    assert picked.height == 250 and picked["id"].n_unique() == 250
    assert sorted(picked["s1_order"].to_list()) == list(range(250))


def test_s1_favours_long_traces_as_2_pow_minus_rank():
    one = pl.DataFrame({"id": [f"{i:03d}" for i in range(40)], "domain": ["x"] * 40,
                        "length": list(range(40))})
    first_is_longest = 0
    for seed in range(400):
        order = s1_order(one, n=1, seed=seed, length=one["length"])
        first_is_longest += int(one.filter(order.is_not_null())["length"][0] == 39)
    # P(first pick = longest) = 2^0 / sum_r 2^-r ~= 0.5
    assert 0.4 < first_is_longest / 400 < 0.6
    df = synthetic(5, 400)
    out, reasons = select_s1(df, n=100, seed=3, length_column="length")
    assert out.filter(reasons.is_null())["length"].mean() > 18000


def test_s1_drops_solved_and_takes_seed_items_first():
    df = synthetic(4, 50).with_columns(
        pl.when(pl.int_range(pl.len()) % 10 == 0).then(0.5).otherwise(0.0).alias("pass_rate"),
        (pl.int_range(pl.len()) % 17 == 1).alias("is_seed"))
    out = SelectS1(n=30, length_column="length", seed_column="is_seed").apply(df)
    assert set(out.rejects["reason"]) == {"solved by probe model", "not selected"}
    assert (out.kept["pass_rate"] == 0).all()
    n_seeds = int(df.filter(pl.col("is_seed") & (pl.col("pass_rate") == 0)).height)
    assert out.kept.head(n_seeds)["is_seed"].all()
    assert out.kept.height == 30


def test_s1_length_from_samples_when_no_column():
    samples = [[{"reasoning": "a" * n, "completion_tokens": None}] for n in (10, 5000, 20)]
    df = pl.DataFrame({"id": ["a", "b", "c"], "domain": ["x"] * 3, "pass_rate": [0.0] * 3,
                       "samples": samples}).with_columns(pl.col("samples").cast(SAMPLES_DTYPE))
    firsts = [select_s1(df, n=1, seed=s)[0].filter(pl.col("s1_order") == 0)["id"][0] for s in range(60)]
    assert firsts.count("b") > 20


@settings(max_examples=40, deadline=None)
@given(n_rows=st.integers(0, 200), n=st.integers(0, 250), seed=st.integers(0, 2**31), n_domains=st.integers(1, 7))
def test_s1_invariants(n_rows, n, seed, n_domains):
    rng = np.random.default_rng(seed)
    df = pl.DataFrame({"id": [f"r{i}" for i in range(n_rows)],
                       "domain": rng.integers(0, n_domains, n_rows).astype(str).tolist(),
                       "length": rng.integers(0, 50, n_rows), "pass_rate": np.zeros(n_rows)},
                      schema={"id": pl.String, "domain": pl.String, "length": pl.Int64, "pass_rate": pl.Float64})
    a, ra = select_s1(df, n=n, seed=seed, length_column="length")
    b, rb = select_s1(df, n=n, seed=seed, length_column="length")
    chosen = a.filter(ra.is_null())
    assert chosen.height == min(n, n_rows)
    assert chosen["id"].n_unique() == chosen.height
    assert (ra.is_null() == rb.is_null()).all() and a["s1_order"].equals(b["s1_order"])


# -- LIMO ------------------------------------------------------------------------------------

def chain(words: str, correct: bool) -> dict:
    return {"text": words, "reasoning": words, "final": "42", "correct": correct, "status": "ok"}


def limo_table() -> pl.DataFrame:
    rows = []
    for c in range(0, 9):  # solved c times of 32
        rich = "Let me verify. Perhaps another approach: since x, therefore y. Check again. " * (c + 1)
        plain = "x equals forty two " * 30
        rows.append({"id": f"p{c}", "problem": f"problem {c}", "pass_rate": c / 32, "n_correct": c,
                     "samples": [chain(plain, True), chain(rich, True), chain("no", False)]})
    return pl.DataFrame(rows).with_columns(pl.col("samples").cast(SAMPLES_DTYPE))


def test_limo_keeps_only_the_window_and_the_best_chain():
    df = limo_table()
    out = SelectLimo(n=800).apply(df)
    assert sorted(out.kept["n_correct"].to_list()) == [1, 2, 3]
    assert set(out.rejects["reason"]) == {"outside difficulty window"}
    assert out.kept["samples"].list.len().to_list() == [1, 1, 1]
    best = out.kept["samples"].list.first().struct.field("reasoning")
    assert best.str.contains("verify").all()  # the chain with verification/exploration markers wins
    assert set(out.sample_rejects["reason"]) == {"not the best chain"}
    assert out.sample_rejects.height == 3 * 2
    # rejected rows keep every sample (the runner counts them as dropped with their row)
    assert out.rejects["samples"].list.len().to_list() == [3] * 6


def test_limo_top_n_and_configurable_window():
    out = SelectLimo(n=2, min_correct=1, max_correct=8).apply(limo_table())
    assert out.kept.height == 2
    assert out.rejects.filter(pl.col("reason") == "not selected").height == 6


def test_quality_score_is_null_for_incorrect_and_weights_matter():
    flat = pl.DataFrame([chain("verify check verify " * 20, True), chain("therefore since thus " * 20, True),
                         chain("wrong", False)])
    s = quality_scores(flat).to_list()
    assert s[2] is None and 0 <= s[0] <= 1 and 0 <= s[1] <= 1
    only_verification = LimoScoring(w_elaboration=0, w_exploration=0, w_connectives=0, w_verification=1)
    v = quality_scores(flat, only_verification).to_list()
    assert v[0] == 1.0 and v[1] == 0.0
