"""Language consistency (R1) and problem language detection, including the mixed-language traps."""

from __future__ import annotations

import polars as pl
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.pipeline import Pipeline
from curator.core.table import SAMPLE_FIELDS
from filters.language import (
    DETECTORS,
    LanguageConsistency,
    ProblemLanguage,
    consistency_reasons,
    detect_language,
    detect_languages,
    language_column,
    longest_foreign_run,
    ratio_and_run,
    ratio_and_run_column,
    ratio_and_run_reference,
    strip_non_prose,
    target_language_ratio,
)

ZH_COT = ("首先，我们把方程两边同时减去三，得到一个新的方程。然后两边同时除以二，"
          "于是得到未知数的值。我们再把这个值代回原方程检验，左边等于右边，所以结果正确。")
ZH_WITH_EN = ZH_COT * 2 + "Wait, let me double check this calculation again carefully." + ZH_COT * 2
EN_COT = ("First we subtract three from both sides of the equation. Then we divide both sides by two "
          "and obtain the value of the unknown. Substituting it back, both sides agree, so it is correct.")
EN_ZH_PUNCT = "First we subtract three from both sides，then divide by two。So the value is four：done！"
LATEX_HEAVY = r"So $$\int_0^1 x^2\,dx = \frac{1}{3}$$ and \[ \sum_{k=1}^{n} k = \frac{n(n+1)}{2} \] hence $\boxed{7}$."


def test_pure_texts_are_consistent():
    assert target_language_ratio(ZH_COT, "zh") == 1.0
    assert target_language_ratio(EN_COT, "en") == 1.0


def test_chinese_cot_with_an_english_sentence_is_caught():
    ratio = target_language_ratio(ZH_WITH_EN, "zh")
    assert ratio > 0.95  # the ratio alone misses it: 8 words against ~300 characters
    assert longest_foreign_run(ZH_WITH_EN, "zh") >= 6
    _, reasons = consistency_reasons([ZH_WITH_EN], ["zh"])
    assert reasons[0] == "language mixing (foreign sentence)"


def test_english_cot_with_chinese_punctuation_only_is_consistent():
    assert target_language_ratio(EN_ZH_PUNCT, "en") == 1.0
    assert longest_foreign_run(EN_ZH_PUNCT, "en") == 0


def test_latex_heavy_cot_with_few_words():
    assert strip_non_prose(LATEX_HEAVY).split() == ["So", "and", "hence", "."]
    assert target_language_ratio(LATEX_HEAVY, "en") == 1.0
    assert target_language_ratio(LATEX_HEAVY, "zh") == 0.0  # an English CoT for a Chinese problem
    assert target_language_ratio(r"$$x^2=4$$ \[x=2\]", "zh") == 1.0  # no words: nothing mixed


def test_ratio_below_threshold_is_a_reason():
    mixed = "我们计算一下这个结果 then we are done with it"
    ratios, reasons = consistency_reasons([mixed, EN_COT, None], ["zh", "en", "en"], threshold=0.95,
                                          max_foreign_run=None)
    assert ratios[0] < 0.95 and reasons[0] == "language mixing (ratio)"
    assert reasons[1] is None and ratios[2] is None and reasons[2] is None


def test_code_and_variables_are_not_words():
    text = "我们设 x 为未知数。```python\nprint('hello world')\n```所以 `foo bar` 等于 y。"
    assert target_language_ratio(text, "zh") == 1.0


def test_detect_language_script_rules_and_seeded_langdetect():
    assert detect_language("求方程 $x^2-5x+6=0$ 的所有实数根。") == "zh"
    assert detect_language("次の方程式を解きなさい。$x^2=4$") == "ja"
    assert detect_language("다음 방정식을 푸시오.") == "ko"
    assert detect_language("Find all real roots of the equation $x^2-5x+6=0$.") == "en"
    assert detect_language("Calculez la somme des angles intérieurs d'un hexagone régulier.") == "fr"
    assert detect_language("$x^2 = 4$", default="en") == "en"
    mixed = "求 the value of 方程的所有实数根，其中 x 是整数。"
    assert {detect_language(mixed) for _ in range(5)} == {"zh"}


@given(st.text(max_size=200), st.sampled_from(["en", "zh", "ja", "ru"]))
def test_ratio_is_a_fraction(text, target):
    r = target_language_ratio(text, target)
    assert 0.0 <= r <= 1.0


@given(st.text(alphabet="abcdefghij ", max_size=100))
def test_latin_text_is_fully_english(text):
    assert target_language_ratio(text, "en") == 1.0


def _table() -> pl.DataFrame:
    def sample(reasoning: str) -> dict:
        s = {k: None for k in SAMPLE_FIELDS}
        s.update(text=f"<think>{reasoning}</think> \\boxed{{4}}", reasoning=reasoning)
        return s

    return pl.DataFrame({
        "id": ["a", "b"],
        "problem": ["解方程 2x+3=11，求 x 的值。", "Solve 2x + 3 = 11 for x."],
        "answer": ["4", "4"],
        "language": [None, "en"],
        "samples": [[sample(ZH_COT), sample(ZH_WITH_EN), sample(EN_COT)], [sample(EN_COT), sample(EN_ZH_PUNCT)]],
    })


def test_stage_sets_language_and_lang_ratio_and_drops_samples(tmp_path):
    out = Pipeline("lang", _table(), [LanguageConsistency()]).run(tmp_path / "out", quiet=True)
    assert out["language"].to_list() == ["zh", "en"]
    kept = out["samples"].to_list()
    assert [len(k) for k in kept] == [1, 2]
    assert all(s["lang_ratio"] >= 0.95 for row in kept for s in row)
    rejects = pl.read_parquet(next((tmp_path / "out" / "rejects").glob("*.samples.parquet")))
    assert sorted(rejects["reason"].to_list()) == ["language mixing (foreign sentence)", "language mixing (ratio)"]
    assert rejects["lang_ratio"].null_count() == 0


def test_stage_fixed_target():
    out = LanguageConsistency(target="en").apply(_table()).kept
    assert [len(k) for k in out["samples"].to_list()] == [1, 2]


# -- problem-language detectors: the fast default, the others as options --------------------------------
PROBLEMS = {
    "en": "A bag contains 4 red marbles and 6 blue marbles. What is the probability that two drawn marbles match?",
    "fr": "Calculez la somme des angles intérieurs d'un hexagone régulier.",
    "de": "Ein Zug fährt 120 km in 2 Stunden. Wie hoch ist seine Durchschnittsgeschwindigkeit?",
    "es": "Un tren recorre 120 km en 2 horas. ¿Cuál es su velocidad media?",
    "ru": "Найдите все действительные корни уравнения $x^2 - 5x + 6 = 0$.",
    "zh": "求方程 $x^2-5x+6=0$ 的所有实数根。",
    "ja": "次の方程式を解きなさい。$x^2=4$",
}


def test_every_detector_agrees_on_clear_problems():
    for detector in ("fast", "langdetect"):
        assert {lang: detect_language(text, detector=detector) for lang, text in PROBLEMS.items()} == \
            {lang: lang for lang in PROBLEMS}, detector
    assert detect_language(PROBLEMS["fr"], detector="script") == "en"  # Latin script: the default language
    assert detect_language(PROBLEMS["zh"], detector="script") == "zh"
    assert "fast" in DETECTORS


def test_fast_detector_is_the_default_and_runs_offline(monkeypatch):
    import filters.language as lang

    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    assert lang.DEFAULT_DETECTOR == "fast" and LanguageConsistency().detector == "fast"
    assert detect_language(PROBLEMS["de"]) == "de"  # the model inside the wheel, no download


def test_unknown_detector_names_the_choices():
    import pytest

    with pytest.raises(ValueError, match="fast, lingua, langdetect, script"):
        detect_language("Find x.", detector="cld3")


def test_detection_over_a_pool_is_the_same_as_in_process():
    from curator.core.workers import process_pool

    texts = list(PROBLEMS.values()) * 700
    pool = process_pool(2)
    try:
        assert detect_languages(texts, pool=pool) == detect_languages(texts)
    finally:
        pool.shutdown()


def test_problem_language_stage_keeps_given_languages():
    df = pl.DataFrame({"problem": [PROBLEMS["fr"], PROBLEMS["zh"], "What is 2 + 2?"], "language": ["es", None, ""]})
    assert ProblemLanguage().transform(df)["language"].to_list() == ["es", "zh", "en"]
    assert language_column(df.drop("language")).to_list() == ["fr", "zh", "en"]


# -- the substitution scorer finds the words the word loop finds ----------------------------------
MIXED = st.lists(st.sampled_from(["我们", "计算", "。", "Let", "me", "check", "x", " ", "\n", "$x^2$", "`code`",
                                 "Найдём", "αβ", "カタカナ", "한국어", "\x01", "\x02", "é", "ﬁ", "１２", "ab"]),
                 max_size=40).map("".join)


@given(MIXED, st.sampled_from(["en", "zh", "ja", "ko", "ru", "el"]))
def test_ratio_and_run_match_the_word_loop(text, target):
    assert ratio_and_run(text, target) == ratio_and_run_reference(text, target)


LATEXY = st.lists(st.sampled_from(["我们", "计算", "Let", "me", "check", " ", "\n", "$", "$$", "x^2", "\\[", "\\]",
                                  "\\(", "\\)", "\\begin{aligned}", "\\end{aligned}", "\\end{cases}", "```", "`",
                                  "\\frac", "\\text*", "ＡＢ", "＄", "\x01", "Найдём", "カナ", "한"]),
                  max_size=30).map("".join)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(LATEXY, st.sampled_from(["en", "zh", "ja", "ru"])), min_size=1, max_size=12))
def test_polars_scoring_matches_the_word_loop(rows):
    rows = [(t, g) for t, g in rows if t]
    if not rows:
        return
    ratios, runs = ratio_and_run_column(pl.Series([t for t, _ in rows], dtype=pl.String), [g for _, g in rows])
    assert list(zip(ratios, runs, strict=True)) == [ratio_and_run_reference(t, g) for t, g in rows]


def test_ratio_and_run_match_the_word_loop_on_the_labelled_cots():
    import json
    from pathlib import Path

    data = Path(__file__).parent.parent / "benchmarks" / "data" / "lang_cots.jsonl"
    rows = [json.loads(line) for line in data.read_text().splitlines()]
    for row in rows:
        assert ratio_and_run(row["text"], row["target"]) == ratio_and_run_reference(row["text"], row["target"])
    ratios, runs = ratio_and_run_column(pl.Series([r["text"] for r in rows]), [r["target"] for r in rows])
    assert list(zip(ratios, runs, strict=True)) == [ratio_and_run_reference(r["text"], r["target"]) for r in rows]
    for text in (ZH_COT, ZH_WITH_EN, EN_COT, EN_ZH_PUNCT, LATEX_HEAVY):
        for target in ("en", "zh"):
            assert ratio_and_run(text, target) == ratio_and_run_reference(text, target)


def test_ascii_chains_with_a_latin_target_skip_the_scan_and_agree():
    texts = ["We compute $x^2$ and check it.", "I a", "", "So 所以 we check.", "Let me verify \\frac{1}{2} again.",
             "Plain words only"]
    targets = ["en", "fr", "en", "en", "zh", "de"]
    texts, targets = [t for t in texts if t], [g for t, g in zip(texts, targets, strict=True) if t]
    ratios, runs = ratio_and_run_column(pl.Series(texts, dtype=pl.String), targets)
    assert list(zip(ratios, runs, strict=True)) == [ratio_and_run_reference(t, g) for t, g in zip(texts, targets,
                                                                                                   strict=True)]
