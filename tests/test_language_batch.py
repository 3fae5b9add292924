"""The batched problem-language path gives the labels of the one-text path, text for text."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from filters.language import (
    _detect_all,
    _fast_language,
    detect_language,
    language_column,
    prose_script_language,
    script_language,
    script_language_reference,
    strip_non_prose,
)
from filters.language_batch import _fast_languages

ROOT = Path(__file__).resolve().parent.parent
PIECES = st.sampled_from([
    "Find all real roots of ", "the equation ", "求", "的所有实数根", "。", "，", "$x^2-5x+6=0$", "$$\\int x$$",
    "\\begin{aligned} a &= b \\end{aligned}", "\\frac", "`code`", "```py\nx\n```", " ", "\n", "12", "１２", "ﬁnd",
    "Найдите все корни", "Βρείτε", "αβ", "מצא את", "カタカナ", "ひらがな", "한국어", "Trouvez", "é", "x", "ab",
    "WHAT IS THE VALUE", "?", "𝟙", "\x1c", "＼begin｛aligned｝ab＼end｛aligned｝",  # fullwidth: an environment after NFKC
])
TEXTS = st.lists(PIECES, max_size=14).map("".join)


@settings(max_examples=200, deadline=None)
@given(TEXTS)
def test_script_counts_match_the_word_loop(text):
    prose = strip_non_prose(text)
    assert prose_script_language(prose) == script_language_reference(prose) == script_language(text)


@settings(max_examples=60, deadline=None)
@given(st.lists(TEXTS, max_size=30))
def test_batch_labels_equal_one_text_labels(texts):
    assert _detect_all(texts, "en", "fast") == [detect_language(t, "en", "fast") for t in texts]
    assert _detect_all(pl.Series(texts, dtype=pl.String), "xx", "fast") == [detect_language(t, "xx") for t in texts]


def test_a_fullwidth_environment_is_stripped_as_the_one_text_path_does():
    text = "求＼begin｛aligned｝ab＼end｛aligned｝"
    assert _detect_all([text], "en", "fast") == [detect_language(text, "en", "fast")] == ["zh"]


def test_batch_labels_on_the_language_benchmark_and_generated_problems():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from language import PROBLEMS  # the 42 short problems
    from scale_data import make_problems

    rows = [json.loads(x) for x in (ROOT / "benchmarks" / "data" / "lang_problems.jsonl").read_text().splitlines()]
    texts = [r["problem"] for r in rows] + [t for ts in PROBLEMS.values() for t in ts]
    texts += make_problems(3000)["problem"].to_list()
    assert _detect_all(texts, "en", "fast") == [detect_language(t) for t in texts]


def test_model_inputs_are_predicted_once_per_distinct_line():
    lines = ["Find the value of x in the equation below.", "Trouvez la valeur de x.", "FIND THE VALUE OF X NOW"] * 3
    assert _fast_languages(lines, "en") == [_fast_language(t, "en") for t in lines]
    assert _fast_languages([], "en") == []


def test_language_column_fills_only_missing_languages():
    df = pl.DataFrame({"problem": ["求 $x$ 的值。", "Find x.", "Trouvez x.", None],
                       "language": [None, "fr", "", None]}, schema={"problem": pl.String, "language": pl.String})
    assert language_column(df).to_list() == ["zh", "fr", detect_language("Trouvez x."), "en"]
