"""Chinese and multiple-choice answers: units and measure words, prose conclusions, full-width
characters, choice phrasings, option text given for the letter, R1-Zero's <answer> tags.

Table-driven: (response, gold, kind, options, expected ``grade``). The items are written in the
field layouts of CMath (plain-number ``golden``), TAL-SCQ5K (nested ``answer_option_list``),
MedQA (``options`` dict, gold letter or option text) and AGIEval/Gaokao (``"(A)..."`` strings).
"""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.answers import extract_answer, grade, is_equivalent
from curator.answers.chinese import fullwidth_to_ascii, prose_answer, strip_unit, units

TAL_18 = [[{"aoVal": "A", "content": "$$16$$"}], [{"aoVal": "B", "content": "$$17$$"}],
          [{"aoVal": "C", "content": "$$18$$"}], [{"aoVal": "D", "content": "$$28$$"}]]
TAL_FRAC = [[{"aoVal": "A", "content": "$$0.5$$"}], [{"aoVal": "B", "content": "$$\\frac{3}{5}$$"}],
            [{"aoVal": "C", "content": "$$0.55$$"}], [{"aoVal": "D", "content": "$$\\frac{1}{2}$$"}]]
TAL_6 = [[{"aoVal": k, "content": f"$${v}$$"}] for k, v in zip("ABCD", (5, 6, 7, 8), strict=True)]
MEDQA = {"A": "Staphylococcus aureus", "B": "Escherichia coli", "C": "Candida albicans", "D": "Pseudomonas aeruginosa"}
MEDQA_MI = {"A": "Left anterior descending artery", "B": "Left circumflex artery", "C": "Right coronary artery",
            "D": "Left main coronary artery"}
MEDQA_VIT = {"A": "Vitamin B12", "B": "Folic acid", "C": "Vitamin C", "D": "Thiamine"}
GAOKAO = ["(A)1", "(B)2", "(C)3", "(D)4"]

ZH_UNITS = [
    ("\\boxed{3个}", "3", True),
    ("答案是 3 个", "3", True),
    ("\\boxed{12 米}", "12", True),
    ("最终答案：5 元", "5", True),
    ("\\boxed{36平方厘米}", "36", True),
    ("\\boxed{16 千克}", "16", True),
    ("\\boxed{15分钟}", "15", True),
    ("答：一共有 18 个。", "18", True),
    ("答：小明还剩 13 支铅笔。", "13", True),
    ("因此，所求的概率是 $\\dfrac38$。", "\\frac{3}{8}", True),
    ("所以 x = 5", "5", True),
    ("综上所述，答案为 $-2$。", "-2", True),
    ("所以一共有 18 个", "18", True),
    ("所以一共有 17 个", "18", False),
    ("\\boxed{12 米}", "13", False),
    ("\\boxed{0.25米}", "0.25", True),
    ("\\boxed{160元}", "160", True),
    ("\\boxed{180千米}", "180", True),
    ("\\boxed{4 辆}", "4", True),
    ("\\boxed{20\\text{千克}}", "20", True),
    ("故答案为：$\\frac{1}{2}$", "0.5", True),
    ("因此 d = 7", "7", True),
    ("The common difference is d = 7", "7", True),
    ("So x = -3.", "-3", True),
    ("\\boxed{26 米}", "26", True),
    ("\\boxed{53棵}", "53", True),
    ("\\boxed{1.5}", "1.5", True),
    ("答：每段长 0.25 米。", "0.25", True),
]

FULL_WIDTH = [
    ("\\boxed{１２}", "12", "math", None, True),
    ("答案是１８", "18", "math", None, True),
    ("故选Ｂ", "B", "choice", None, True),
    ("答案：（Ｃ）", "C", "choice", None, True),
    ("\\boxed{３．５}", "3.5", "math", None, True),
    ("最终答案：１５", "15", "math", None, True),
    ("最终答案：１６", "15", "math", None, False),
]

ZH_CHOICE = [
    ("选项C正确。", "C", True),
    ("故选：B", "B", True),
    ("正确答案是D项。", "D", True),
    ("本题选A。", "A", True),
    ("所以答案是 (C)。", "C", True),
    ("故选AB", "A", False),
    ("\\boxed{AB}", "A", False),
    ("\\boxed{A, C}", "A", False),
    ("答案为 B", "C", False),
    ("综上，应选C", "C", True),
    ("\\boxed{C}", "C", True),
    ("正确的选项是 B", "B", True),
    ("\\boxed{AC}", "AC", True),
    ("\\boxed{A}", "AC", False),
]

WITH_OPTIONS = [
    # TAL-SCQ5K: the option's value or text instead of its letter
    ("所以一共有 18 个", "C", TAL_18, True),
    ("\\boxed{18}", "C", TAL_18, True),
    ("\\boxed{17}", "C", TAL_18, False),
    ("\\boxed{0.6}", "B", TAL_FRAC, True),
    ("故选：A", "A", TAL_FRAC, True),
    ("答：有 6 个。", "B", TAL_6, True),
    ("答：有 7 个。", "B", TAL_6, False),
    # MedQA: a dict of options, gold letter or gold option text
    ("The answer is B.", "B", MEDQA, True),
    ("The answer is Escherichia coli.", "B", MEDQA, True),
    ("\\boxed{C. Right coronary artery}", "C", MEDQA_MI, True),
    ("Final answer: Right coronary artery", "C", MEDQA_MI, True),
    ("The answer is (A) Staphylococcus aureus", "B", MEDQA, False),
    ("**Answer: D**", "D", MEDQA_VIT, True),
    ("\\boxed{D}", "Thiamine", MEDQA_VIT, True),
    ("\\boxed{Folic acid}", "Thiamine", MEDQA_VIT, False),
    ("\\boxed{B}", "Escherichia coli", json.dumps(MEDQA), True),
    # AGIEval / Gaokao MathQA: "(A)..." strings
    ("\\boxed{2}", "B", GAOKAO, True),
    ("故选B", "B", GAOKAO, True),
    ("\\boxed{3}", "B", GAOKAO, False),
]

R1_ZERO = [
    ("<think>2+3=5</think> <answer>5</answer>", "5", "math", True),
    ("<think>C fits</think> <answer>C</answer>", "C", "choice", True),
    ("<think>half</think> <answer>\\boxed{\\frac12}</answer>", "0.5", "math", True),
    ("<think>x</think> <answer>4</answer>", "5", "math", False),
]


@pytest.mark.parametrize("response,gold,expected", ZH_UNITS)
def test_chinese_units_and_prose(response, gold, expected):
    assert grade(response, gold) is expected, extract_answer(response)


@pytest.mark.parametrize("response,gold,kind,options,expected", FULL_WIDTH)
def test_full_width_characters(response, gold, kind, options, expected):
    assert grade(response, gold, kind, options=options) is expected


@pytest.mark.parametrize("response,gold,expected", ZH_CHOICE)
def test_chinese_choice_phrasings_and_two_letter_answers(response, gold, expected):
    assert grade(response, gold, "choice") is expected, extract_answer(response, "choice")


@pytest.mark.parametrize("response,gold,options,expected", WITH_OPTIONS)
def test_option_text_or_value_counts_as_its_letter(response, gold, options, expected):
    assert grade(response, gold, "choice", options=options) is expected


@pytest.mark.parametrize("response,gold,kind,expected", R1_ZERO)
def test_r1_zero_answer_tags(response, gold, kind, expected):
    assert grade(response, gold, kind) is expected


def test_case_count():
    assert len(ZH_UNITS) + len(FULL_WIDTH) + len(ZH_CHOICE) + len(WITH_OPTIONS) + len(R1_ZERO) >= 60


def test_units_come_from_the_data_file():
    assert {"个", "米", "元", "千克", "平方厘米", "分钟"} <= set(units())
    assert units().index("平方厘米") < units().index("厘米")  # longest first


# -- properties of the normalisers ---------------------------------------------------------------

ASCII = st.text(alphabet=st.characters(min_codepoint=0x21, max_codepoint=0x7E), max_size=30)


@given(ASCII)
def test_fullwidth_is_identity_on_ascii_and_inverts_the_wide_forms(s):
    assert fullwidth_to_ascii(s) == s
    wide = "".join(chr(ord(c) + 0xFEE0) for c in s)
    assert fullwidth_to_ascii(wide) == s


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=0, max_value=10**6), st.sampled_from(list(units())), st.sampled_from(["", " "]))
def test_a_number_with_any_listed_unit_is_that_number(n, unit, space):
    assert strip_unit(f"{n}{space}{unit}") == str(n)
    assert is_equivalent(str(n), f"{n}{space}{unit}")


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=10**4), st.integers(min_value=1, max_value=50))
def test_a_different_number_with_a_unit_is_never_equal(n, delta):
    assert not is_equivalent(str(n), f"{n + delta} 个")


@given(st.text(alphabet="一二三小明有共个的了是", max_size=12), st.integers(min_value=0, max_value=999))
def test_prose_answer_is_the_last_number(words, n):
    assert prose_answer(f"{words}{n}个") == str(n)


@pytest.mark.parametrize("response,gold,expected", [
    ("答：一共有十三支。", "13", True),
    ("答：还剩二十米。", "20", True),
    ("答：一共有一百零五个。", "105", True),
    ("答：一共有十二个。", "13", False),
])
def test_chinese_numerals_before_a_unit(response, gold, expected):
    assert grade(response, gold) is expected


def test_a_numeral_before_a_unit_that_starts_like_a_numeral():
    assert grade("答：一共有十六千克。", "16") and grade("答：路程是二十千米。", "20")
