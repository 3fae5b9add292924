"""Properties of curator.answers.grading: equivalent renderings of a rational agree, perturbed ones don't;
the extractor reads the last box whatever surrounds it, and never raises."""

from __future__ import annotations

import re
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from curator.answers.grading import extract_answer, is_equivalent, majority_answer

SETTINGS = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

rationals = st.builds(Fraction, st.integers(-5000, 5000), st.integers(1, 400))


def _terminating(x: Fraction) -> bool:
    d = x.denominator
    for p in (2, 5):
        while d % p == 0:
            d //= p
    return d == 1


def _decimal(x: Fraction) -> str:
    sign = "-" if x < 0 else ""
    x = abs(x)
    whole, rest = divmod(x.numerator, x.denominator)
    digits = ""
    while rest and len(digits) < 40:
        rest *= 10
        digits += str(rest // x.denominator)
        rest %= x.denominator
    return f"{sign}{whole}" + (f".{digits}" if digits else "")


def renderings(x: Fraction) -> list[str]:
    p, q = x.numerator, x.denominator
    sign = "-" if x < 0 else ""
    out = [f"\\frac{{{p}}}{{{q}}}", f"{p}/{q}", f"\\dfrac{{{p}}}{{{q}}}", f"{sign}\\frac{{{abs(p)}}}{{{q}}}",
           f"\\frac{{{2 * p}}}{{{2 * q}}}"]
    if q == 1:
        out.append(str(p))
    if _terminating(x):
        out.append(_decimal(x))
    if _terminating(x * 100):
        out.append(f"{_decimal(x * 100)}\\%")
    if abs(p) > q and q > 1:
        whole, rest = divmod(abs(p), q)
        out.append(f"{sign}{whole}\\frac{{{rest}}}{{{q}}}")
    return out


@SETTINGS
@given(rationals, st.data())
def test_equivalent_renderings_agree(x, data):
    forms = renderings(x)
    gold = data.draw(st.sampled_from(forms), label="gold")
    pred = data.draw(st.sampled_from(forms), label="pred")
    assert is_equivalent(gold, pred), (gold, pred)
    assert is_equivalent(gold, f"The answer is \\boxed{{{pred}}}.")  # a whole response works too


@SETTINGS
@given(rationals, st.sampled_from(["plus_one", "plus_small", "negate", "double", "swap"]), st.data())
def test_perturbed_values_fail(x, how, data):
    y = {"plus_one": x + 1, "plus_small": x + Fraction(1, 997), "negate": -x, "double": 2 * x,
         "swap": Fraction(x.denominator, x.numerator) if x else x + 3}[how]
    assume(y != x and y != 100 * x and 100 * y != x)  # a percent may also mean its bare number
    gold = data.draw(st.sampled_from(renderings(x)), label="gold")
    pred = data.draw(st.sampled_from(renderings(y)), label="pred")
    assert not is_equivalent(gold, pred), (gold, pred)


_atoms = st.sampled_from(["x", "2", "\\pi", "\\frac{1}{2}", "\\sqrt{3}", "(1, 2)", "a_{1}", "\\{1\\}", "7.5"])
balanced = st.recursive(_atoms, lambda inner: st.one_of(
    st.builds(lambda a, b: f"{a}+{b}", inner, inner),
    st.builds(lambda a: f"{{{a}}}", inner),
    st.builds(lambda a, b: f"\\frac{{{a}}}{{{b}}}", inner, inner),
), max_leaves=8)
prose = st.text(st.characters(blacklist_characters="\\{}$<>", blacklist_categories=("Cs",)), max_size=60)


@SETTINGS
@given(prose, balanced, prose, balanced)
def test_last_box_wins_whatever_surrounds_it(before, draft, between, answer):
    assume(between.strip(" ,;&\n\t") and not between.strip().startswith(("and", "or")))
    assume("answer" not in between.lower())
    text = f"{before} \\boxed{{{draft}}} {between}, finally \\boxed{{{answer}}} {before}"
    assert extract_answer(text) == answer.strip()


@SETTINGS
@given(prose, balanced)
def test_a_box_inside_the_reasoning_loses_to_the_final_part(reasoning, answer):
    text = f"<think>{reasoning} \\boxed{{wrong}}</think> So the answer is \\boxed{{{answer}}}."
    assert extract_answer(text) == answer.strip()


@SETTINGS
@given(st.text(max_size=300), st.sampled_from(["math", "choice", "text"]))
def test_extractor_never_raises(text, kind):
    out = extract_answer(text, kind)
    assert out is None or isinstance(out, str)


@SETTINGS
@given(prose)
def test_no_box_no_anchor_no_answer(text):
    assume(not any(w in text.lower() for w in ("answer", "答案", "所以", "因此", "答", "故", "综上", "从而")))
    last = [ln for ln in text.strip().splitlines() if ln.strip()][-1:] or [""]
    assume(not re.search(r"[A-Za-z](?:_\{?\w+\}?)?\s*=", last[0]))  # an ``x = 5`` ending is an answer
    assert extract_answer(text) is None


@SETTINGS
@given(st.lists(rationals, min_size=1, max_size=6), st.data())
def test_majority_counts_equivalent_renderings_together(values, data):
    rendered = [data.draw(st.sampled_from(renderings(v))) for v in values]
    answer, frac = majority_answer(rendered)
    top = max(values.count(v) for v in values)
    assert frac == top / len(values)
    assert answer is not None
