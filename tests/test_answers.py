"""curator.answers.grading: the table of hand-written (gold, response, expected) cases and unit checks."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from curator.answers.grading import (
    extract_answer,
    gold_is_parseable,
    grade,
    is_equivalent,
    majority_answer,
    pass_at_k,
)

CASES = [json.loads(line) for line in (Path(__file__).parent / "data" / "answer_cases.jsonl").read_text(
    encoding="utf-8").splitlines() if line.strip()]


def test_the_suite_is_big_and_covers_the_traps():
    assert len(CASES) >= 150
    notes = " ".join(c["note"] for c in CASES)
    for trap in ("two boxes", "box in reasoning", "0.333 is not 1/3", "sign error", "extra solution",
                 "x=3 vs 3", "dfrac", "sqrt2/2", "percent vs fraction", "答案是", "choice"):
        assert trap in notes, trap
    assert {c["expected"] for c in CASES} == {True, False, None}


@pytest.mark.parametrize("case", CASES, ids=[f"{i}-{c['note']}" for i, c in enumerate(CASES)])
def test_grade_table(case):
    got = grade(case["response"], case["gold"], case["kind"], options=case["options"])
    assert got is case["expected"], (case["gold"], case["response"], extract_answer(case["response"], case["kind"]))


@pytest.mark.parametrize("text,kind,expected", [
    (r"\boxed{\frac{1}{2}}", "math", r"\frac{1}{2}"),
    (r"\boxed{\sqrt{\frac{a}{b}}}", "math", r"\sqrt{\frac{a}{b}}"),
    (r"first \boxed{1} then, after checking, \boxed{2}", "math", "2"),
    (r"\boxed{1}, \boxed{2}", "math", "1, 2"),
    (r"\boxed{}", "math", None),
    (r"\boxed{12", "math", None),
    ("<think>still thinking \\boxed{3}", "math", None),
    ("<think>so \\boxed{3}</think>", "math", "3"),
    ("<think>\\boxed{3}</think> Final answer: 4", "math", "4"),
    ("The final answer is $\\frac{2}{3}$. I hope it is correct.", "math", "\\frac{2}{3}"),
    ("Answer: 42", "math", "42"),
    ("答案是 12。", "math", "12"),
    ("故答案为 $7$", "math", "7"),
    ("所以面积为 24。", "math", "24"),
    ("no answer here", "math", None),
    ("", "math", None),
    (None, "math", None),
    ("The answer is (B).", "choice", "B"),
    ("Answer: D", "choice", "D"),
    ("选B", "choice", "B"),
    ("\\boxed{\\text{(E)}}", "choice", "E"),
    ("A number is prime if...", "choice", None),
    ("\\boxed{42}", "choice", None),
])
def test_extract_answer(text, kind, expected):
    assert extract_answer(text, kind) == expected


def test_unknown_kind_is_an_error_that_names_the_kinds():
    with pytest.raises(ValueError, match="math"):
        extract_answer("x", "latex")


@pytest.mark.parametrize("gold,pred,expected", [
    ("3", "x = 3", True), ("x=3", "3", True), ("3", "3, -3", False), (r"\frac{1}{2}", r"50\%", True),
    ("1/3", "0.333", False), ("1/3", "0.333333", True), ("1000", "1,000", True), ("1000", r"1\,000", True),
    (r"\text{Monday}", "Mondya", False), ("(1,2]", r"1 < x \le 2", True), ("2", None, False), (None, "2", False),
    ("0,111", "0.111", True), ("32349", "32, 349", False),
])
def test_is_equivalent(gold, pred, expected):
    assert is_equivalent(gold, pred) is expected


def test_choice_with_options_both_ways():
    opts = {"A": "21", "B": "27", "C": "29", "D": "33"}
    assert is_equivalent("C", "29", "choice", options=opts)
    assert is_equivalent("29", "(C)", "choice", options=opts)
    assert not is_equivalent("C", "27", "choice", options=opts)
    assert is_equivalent("B", "b) 27", "choice", options=["21", "27"])


def test_text_kind_compares_words():
    assert is_equivalent("Paris", "paris.", "text")
    assert not is_equivalent("Paris", "Lyon", "text")


@pytest.mark.parametrize("gold,ok", [("15", True), (r"\frac{3}{4}", True), ("x^2+1", True), ("no", True),
                                     ("", False), (None, False), ("   ", False),
                                     ("Prove that the sum of two even numbers is even.", False)])
def test_gold_is_parseable(gold, ok):
    assert gold_is_parseable(gold) is ok


def test_grade_is_none_for_ungradable_gold_and_false_without_answer():
    assert grade(r"\boxed{4}", None) is None
    assert grade("I don't know", "4") is False


def test_pass_at_k_matches_the_closed_form():
    from math import comb

    for n in range(1, 12):
        for c in range(n + 1):
            for k in range(1, n + 1):
                exact = 1.0 - comb(n - c, k) / comb(n, k)
                assert pass_at_k(n, c, k) == pytest.approx(exact)
    with pytest.raises(ValueError, match="at least k"):
        pass_at_k(2, 1, 4)
    with pytest.raises(ValueError):
        pass_at_k(2, 3, 1)


def test_majority_groups_by_equivalence_not_string():
    assert majority_answer(["0.5", r"\frac{1}{2}", "1/2", "2", "3"]) == ("0.5", 0.6)
    assert majority_answer([None, None]) == (None, 0.0)
    assert majority_answer([]) == (None, 0.0)
    ans, frac = majority_answer(["B", "(B)", "C"], "choice")
    assert (ans, frac) == ("B", pytest.approx(2 / 3))
    assert majority_answer(["2", "3"]) == ("2", 0.5)  # a tie goes to the first seen
