"""pass@k and maj@k curves: the exact formula, Monte Carlo, equivalence voting, bootstrap."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.analysis.curves import bootstrap_mean, maj_at_k, pass_at_k, powers_of_two
from curator.analysis.outcomes import answer_groups, correct_group


def exact_pass(n: int, c: int, k: int) -> float:
    return 1.0 - math.comb(n - c, k) / math.comb(n, k)


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 300).flatmap(lambda n: st.tuples(st.just(n), st.integers(0, n), st.integers(1, n))))
def test_pass_at_k_equals_the_combinatorial_formula(nck):
    n, c, k = nck
    got = pass_at_k(np.array([n]), np.array([c]), [k])[0, 0]
    assert got == pytest.approx(exact_pass(n, c, k), abs=1e-9)


def test_pass_at_k_matches_a_monte_carlo_estimate():
    rng = np.random.default_rng(7)
    n, c = 16, 5
    outcomes = np.array([True] * c + [False] * (n - c))
    for k in (1, 2, 4, 8):
        hits = [outcomes[rng.choice(n, size=k, replace=False)].any() for _ in range(20000)]
        assert pass_at_k(np.array([n]), np.array([c]), [k])[0, 0] == pytest.approx(np.mean(hits), abs=0.015)


def test_pass_at_k_is_nan_where_a_problem_has_fewer_samples_than_k():
    out = pass_at_k(np.array([4, 8]), np.array([1, 1]), [1, 8])
    assert np.isnan(out[0, 1]) and not np.isnan(out[1, 1])
    with pytest.raises(ValueError, match="0 <= c <= n"):
        pass_at_k(np.array([2]), np.array([3]), [1])


def exact_maj(groups: list[int], right: int, k: int) -> float:
    """Enumerate every k-subset: vote score 1/t when the correct group ties t ways at the top."""
    total = 0.0
    subsets = list(itertools.combinations(range(len(groups)), k))
    for sub in subsets:
        counts: dict[int, int] = {}
        for j in sub:
            if groups[j] >= 0:
                counts[groups[j]] = counts.get(groups[j], 0) + 1
        if not counts or right not in counts:
            continue
        top = max(counts.values())
        if counts[right] == top:
            total += 1.0 / sum(1 for v in counts.values() if v == top)
    return total / len(subsets)


@pytest.mark.parametrize("groups, right", [
    ([0, 0, 1, 1, 2, -1, 0, 3], 0),
    ([1, 0, 2, 3, 1, 1, -1, -1], 0),
    ([0, 1, 1, 1, 2, 2, 2, 2], 1),
])
def test_maj_at_k_converges_to_exact_enumeration(groups, right):
    n = len(groups)
    ks = [1, 2, 3, 4, 8]
    got = maj_at_k(np.array([groups]), np.array([right]), np.array([n]), ks, draws=3000, seed=1)[0]
    for k, value in zip(ks, got, strict=True):
        assert value == pytest.approx(exact_maj(groups, right, k), abs=0.03), k


def test_equivalent_answers_vote_together():
    extracted = ["1/2", "0.5", "3", "\\frac{1}{2}", "3", None]
    groups = answer_groups(extracted)
    assert groups == [0, 0, 1, 0, 1, -1]
    right = correct_group(groups, [True, True, False, True, False, False])
    # with all 6 samples the 1/2 group has 3 votes against 2: maj@6 is 1; by strings it would tie 1:1:1:2
    assert maj_at_k(np.array([groups]), np.array([right]), np.array([6]), [6], draws=1)[0, 0] == 1.0


def test_no_answer_never_wins_and_padding_is_ignored():
    groups = np.array([[-1, -1, -1, 0, -1, -1], [0, 1, -1, -1, -1, -1]])
    out = maj_at_k(groups, np.array([0, 0]), np.array([6, 2]), [2, 6], draws=200, seed=3)
    assert out[0, 1] == 1.0  # one real answer among six: it is the majority
    assert np.isnan(out[1, 1])  # only two samples: no maj@6
    assert out[1, 0] == pytest.approx(0.5)  # a 1:1 tie scores one half


def test_bootstrap_interval_contains_the_mean_and_is_seeded():
    values = np.random.default_rng(0).random((500, 3))
    m, lo, hi = bootstrap_mean(values, resamples=300, seed=4)
    assert np.all(lo <= m) and np.all(m <= hi) and np.all(hi - lo < 0.1)
    assert np.array_equal(bootstrap_mean(values, resamples=300, seed=4)[1], lo)


def test_powers_of_two():
    assert powers_of_two(256) == [1, 2, 4, 8, 16, 32, 64, 128, 256]
    assert powers_of_two(6) == [1, 2, 4, 6]
