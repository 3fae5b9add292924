"""LanguageConsistency as a stage: what it adds before its work, what it scores, what it keeps."""

from __future__ import annotations

import polars as pl

from curator.core.samples import explode_samples
from curator.core.stage import SAMPLE_CONTEXT
from filters.language import LanguageConsistency

EN = "First I add the numbers carefully. Then I check the sum again. So the answer is four."
ZH = "首先把两个数相加。然后再检查一遍结果。所以答案是四。"
ZH_EN = ZH + " Let me verify this in English because it is easier for me to think. " + ZH


def _sample(reasoning: str | None, text: str | None = None) -> dict:
    return {"text": text if text is not None else f"<think>{reasoning}</think> 4", "reasoning": reasoning}


def _table() -> pl.DataFrame:
    return pl.DataFrame({
        "id": ["zh", "en", "given"],
        "problem": ["计算 2+2 的值。", "Compute the sum of two and two, and explain every step of the calculation.",
                    "Compute 3 + 1."],
        "language": [None, None, "zh"],  # the third problem's language was given: it is kept, not detected
        "samples": [[_sample(ZH), _sample(ZH_EN)], [_sample(EN), _sample(None, EN)], [_sample(ZH)]],
    })


def test_prepare_detects_missing_languages_and_keeps_given_ones():
    df = LanguageConsistency().prepare(_table())
    assert df["language"].to_list() == ["zh", "en", "zh"]


def test_one_scoring_pass_gives_the_same_ratios_and_reasons_as_the_separate_methods():
    stage = LanguageConsistency()
    flat = explode_samples(stage.prepare(_table()), SAMPLE_CONTEXT)
    columns, reasons = stage.score_samples(flat)
    assert columns["lang_ratio"].to_list() == stage.sample_columns(flat)["lang_ratio"].to_list()
    assert reasons.to_list() == stage.sample_reasons(flat).to_list()


def test_mixed_chains_are_dropped_with_a_reason_and_the_text_stands_in_for_missing_reasoning():
    out = LanguageConsistency().apply(_table())
    kept = out.kept["samples"].to_list()
    assert [len(s) for s in kept] == [1, 2, 1]
    assert kept[1][1]["reasoning"] is None and kept[1][1]["lang_ratio"] > 0.95  # scored on its text
    assert [r.startswith("language mixing") for r in out.sample_rejects["reason"].to_list()] == [True]
    assert out.sample_rejects["id"].to_list() == ["zh"]


def test_a_fixed_target_ignores_each_problems_language():
    out = LanguageConsistency(target="en").apply(_table())
    assert [len(s) for s in out.kept["samples"].to_list()] == [0, 2, 0]
    assert set(out.sample_rejects["reason"].to_list()) == {"language mixing (ratio)"}


def test_a_pool_is_opened_only_for_detectors_that_send_it_work():
    from filters.language import ProblemLanguage, language_column

    for stage in (ProblemLanguage(), LanguageConsistency()):  # fast: the column is decided in this process
        stage.setup(None)
        assert stage._pool is None
        stage.teardown()
    df = pl.DataFrame({"problem": ["What is 2 + 2?", "求 x 的值"] * 3000, "language": [None] * 6000},
                      schema_overrides={"language": pl.String})
    for stage in (ProblemLanguage(detector="script"), LanguageConsistency(detector="script")):
        stage.setup(None)
        try:
            assert stage._pool is not None
            out = stage.transform(df) if isinstance(stage, ProblemLanguage) else stage.prepare(df)
            assert out["language"].equals(language_column(df, detector="script"))
        finally:
            stage.teardown()
