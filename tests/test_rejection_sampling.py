"""curator.selection.rejection_sampling: selection policies, reasons for every dropped sample and row."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator import Pipeline
from curator.core.table import SAMPLES_DTYPE, conform
from curator.selection.rejection_sampling import POLICIES, RejectionSample, select


def _table(rows):
    df = conform(pl.DataFrame({"problem": [f"p{i}" for i in range(len(rows))], "answer": ["1"] * len(rows)}))
    blank = dict.fromkeys(SAMPLES_DTYPE.inner.to_schema())
    full = [[{**blank, "status": "ok", **s} for s in row] for row in rows]
    return df.with_columns(pl.Series("samples", full, dtype=SAMPLES_DTYPE))


ROWS = [
    [{"text": "aaaa", "correct": True}, {"text": "a", "correct": True}, {"text": "aa", "correct": False},
     {"text": "aaaaaaa", "correct": True, "completion_tokens": 2}],
    [{"text": "x", "correct": False}, {"text": "y", "correct": None}],
    [],
    [{"text": "long", "correct": True, "status": "truncated"}, {"text": "ok", "correct": True}],
]


@pytest.mark.parametrize("policy,m,expected", [
    ("all", None, ["aaaa", "a", "aaaaaaa"]),
    ("first", None, ["aaaa"]),
    ("shortest", None, ["a"]),
    ("longest", None, ["aaaa"]),  # the 7-character text reported 2 tokens: tokens win over characters
    ("shortest", 2, ["a", "aaaaaaa"]),
    ("all", 2, ["aaaa", "a"]),
])
def test_policies(policy, m, expected):
    out = RejectionSample(policy=policy, max_per_problem=m).apply(_table(ROWS))
    assert [s["text"] for s in out.kept["samples"][0].to_list()] == expected
    assert [s["text"] for s in out.kept["samples"][1].to_list()] == ["ok"]
    assert out.rejects["reason"].to_list() == ["no correct sample", "no samples"]
    reasons = out.sample_rejects["reason"].to_list()
    assert "incorrect sample" in reasons and "truncated sample" in reasons
    kept = sum(len(s) for s in out.kept["samples"].to_list())
    assert kept + out.sample_rejects.height + sum(len(r) for r in out.rejects["samples"].to_list()) == 8


def test_random_is_seeded_per_problem_and_independent_of_batching():
    rows = [[{"text": str(i), "correct": True} for i in range(8)] for _ in range(6)]
    df = _table(rows)
    a = RejectionSample(policy="random", max_per_problem=2, seed=7).apply(df).kept
    b = pl.concat([RejectionSample(policy="random", max_per_problem=2, seed=7).apply(df.slice(i, 2)).kept
                   for i in range(0, 6, 2)])
    assert a["samples"].to_list() == b["samples"].to_list()
    c = RejectionSample(policy="random", max_per_problem=2, seed=8).apply(df).kept
    assert a["samples"].to_list() != c["samples"].to_list()


def test_bad_parameters_fail_early():
    with pytest.raises(ValueError, match="policy"):
        RejectionSample(policy="best")
    with pytest.raises(ValueError, match="max_per_problem"):
        RejectionSample(max_per_problem=0)


def test_in_a_pipeline_the_funnel_adds_up(tmp_path):
    out = Pipeline("rs", _table(ROWS), [RejectionSample(policy="shortest")]).run(tmp_path / "o", quiet=True)
    assert out.height == 2
    funnel = json.loads((tmp_path / "o" / "funnel.json").read_text())
    text = json.dumps(funnel)
    assert "no correct sample" in text and "not selected (shortest)" in text


sample = st.fixed_dictionaries({"text": st.text(max_size=6), "correct": st.sampled_from([True, False, None]),
                                "status": st.sampled_from(["ok", "ok", "truncated", "failed"])})


@settings(max_examples=200, deadline=None)
@given(st.lists(sample, max_size=8), st.sampled_from(POLICIES), st.one_of(st.none(), st.integers(1, 4)))
def test_selection_keeps_only_correct_ok_samples_and_respects_m(samples, policy, m):
    chosen = select(samples, policy, m)
    assert chosen == sorted(set(chosen))
    assert all(samples[i]["correct"] is True and samples[i]["status"] == "ok" for i in chosen)
    candidates = [i for i, s in enumerate(samples) if s["correct"] is True and s["status"] == "ok"]
    limit = m if m is not None else (len(candidates) if policy in ("all", "random") else 1)
    assert len(chosen) == min(limit, len(candidates))
    if policy == "first":
        assert chosen == candidates[: len(chosen)]
