"""Number-aware dedup: exact on normalized text, near-dups confirmed, numeric variants kept."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.pipeline import Pipeline
from filters.dedup import Dedup, DedupParams, answers_differ, dedup_groups, math_signature, normalize_text

BASE = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
        "How many clips did Natalia sell altogether in April and May?")


def _table(problems, answers=None, ids=None):
    n = len(problems)
    return pl.DataFrame({"id": ids or [f"r{i:02d}" for i in range(n)], "problem": problems,
                         "answer": answers or [None] * n}, schema={"id": pl.String, "problem": pl.String,
                                                                    "answer": pl.String})


def test_whitespace_and_left_paren_rows_are_exact_duplicates():
    rows = ["Find $f\\left( x \\right)$ when $x = 2$.", "Find  $f(x)$ when $x=2$", "find $f ( x )$ when $x = 2$ ."]
    marks, info = dedup_groups(_table(rows))
    assert marks["dup_reason"].to_list() == [None, "exact duplicate", "exact duplicate"]
    assert marks["dup_group"].n_unique() == 1 and info["exact_duplicates"] == 2


def test_numeric_variants_are_kept():
    rows = [BASE, BASE.replace("48", "50"), BASE.replace("48", "84"), "What is 7 + 8?", "What is 8 + 8?",
            "The sum of 825 consecutive integers is 515. What is the largest of these integers, exactly?",
            "The sum of 515 consecutive integers is 825. What is the largest of these integers, exactly?"]
    marks, _ = dedup_groups(_table(rows))
    assert marks["dup_reason"].null_count() == len(rows)
    assert marks["dup_group"].to_list() == [f"r{i:02d}" for i in range(len(rows))]


def test_near_duplicates_merge():
    swapped = BASE.replace("sold clips to 48", "sold 48 clips to")
    rows = [BASE, swapped, BASE.replace("altogether", "in total"), BASE.upper()]
    marks, info = dedup_groups(_table(rows))
    assert marks["dup_reason"].to_list() == [None, "near duplicate", "near duplicate", "exact duplicate"]
    assert info["near_duplicates"] == 2


def test_operator_change_is_another_problem():
    a = "Let x be a real number such that x + 3 = 10 and the value is positive. Find the value of x."
    marks, _ = dedup_groups(_table([a, a.replace("x + 3", "x - 3")]))
    assert marks["dup_reason"].null_count() == 2


def test_different_gold_answers_are_not_duplicates():
    swapped = BASE.replace("sold clips to 48", "sold 48 clips to")
    marks, _ = dedup_groups(_table([BASE, swapped], answers=["72", "96"]))
    assert marks["dup_reason"].null_count() == 2
    marks, _ = dedup_groups(_table([BASE, swapped], answers=["72", "$72$"]))
    assert marks["dup_reason"].null_count() == 1


def test_short_texts_are_exact_only():
    rows = ["Find the sum of the first ten terms of a series", "Find the sum of the first ten terms of a sequence"]
    assert dedup_groups(_table(rows))[0]["dup_reason"].null_count() == 2
    assert dedup_groups(_table(rows), DedupParams(min_fuzzy_chars=10, fuzzy_threshold=80))[0][
        "dup_reason"].null_count() == 1


def test_survivor_is_deterministic():
    rows = [BASE, BASE + " ", BASE.lower()]
    for ids, answers, survivor in [(["c", "b", "a"], [None, None, None], "a"),
                                   (["c", "b", "a"], [None, "72", None], "b")]:
        for order in ([0, 1, 2], [2, 1, 0], [1, 2, 0]):
            df = _table([rows[i] for i in order], [answers[i] for i in order], [ids[i] for i in order])
            marks, _ = dedup_groups(df)
            assert set(marks["dup_group"]) == {survivor}
            kept = df.filter(marks["dup_reason"].is_null())["id"].to_list()
            assert kept == [survivor]


def test_solution_length_breaks_ties():
    df = _table([BASE, BASE + "  "], ["72", "72"], ["a", "b"]).with_columns(
        pl.Series("solution", ["short", "a much longer reference solution"]))
    assert dedup_groups(df)[0]["dup_group"].to_list() == ["b", "b"]


def test_datatrove_engine_agrees(tmp_path):
    swapped = BASE.replace("sold clips to 48", "sold 48 clips to")
    rows = [BASE, swapped, BASE.replace("48", "50"), "What is 7 + 8?"]
    marks, _ = dedup_groups(_table(rows), DedupParams(engine="datatrove"))
    assert marks["dup_reason"].to_list() == [None, "near duplicate", None, None]


def test_stage_drops_with_reasons_and_sets_dup_group(tmp_path):
    rows = [BASE, BASE + "  ", BASE.replace("sold clips to 48", "sold 48 clips to"), BASE.replace("48", "50")]
    df = pl.DataFrame({"problem": rows, "answer": ["72"] * 3 + ["75"], "source": ["s"] * 4})
    out = Pipeline("d", df, [Dedup()]).run(tmp_path / "o", quiet=True)
    assert out.height == 2 and out["dup_group"].null_count() == 0
    rej = pl.read_parquet(next((tmp_path / "o" / "rejects").glob("*.parquet")))
    assert sorted(rej["reason"].to_list()) == ["exact duplicate", "near duplicate"]
    assert set(rej["dup_group"]) <= set(out["id"])


# --- properties of the normalizers -------------------------------------------------------------------
_text = st.lists(st.sampled_from(list("abcxyz0123456789+-=()., ?$") + ["\\frac", " \\left(", "\\right)", "\\,"]),
                 max_size=40).map("".join)


@given(_text)
def test_normalize_is_idempotent(t):
    assert normalize_text(normalize_text(t)) == normalize_text(t)


@given(_text, st.sampled_from([" ", "  ", "\t", "\n"]))
def test_normalize_ignores_whitespace_runs_and_case(t, ws):
    assert normalize_text(t.replace(" ", ws).upper()) == normalize_text(t)


@given(_text)
def test_left_right_are_spacing(t):
    assert normalize_text(t.replace("(", "\\left(").replace(")", "\\right)")) == normalize_text(t)


@given(st.lists(st.integers(0, 999), min_size=1, max_size=4), st.integers(0, 999))
def test_numbers_change_the_signature(nums, other):
    text = "compute " + " plus ".join(map(str, nums))
    changed = text.replace(str(nums[0]), str(other), 1)
    same = other == nums[0]
    assert (math_signature(normalize_text(text)) == math_signature(normalize_text(changed))) == same


@settings(deadline=None, max_examples=50)
@given(st.text(max_size=10), st.text(max_size=10))
def test_answers_differ_is_symmetric(a, b):
    assert answers_differ(a, b) == answers_differ(b, a)
