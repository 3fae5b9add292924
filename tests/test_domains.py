"""Keyword domain labels and the MSC label set shipped as data files."""

from __future__ import annotations

import polars as pl
import pytest

from curator.core.fingerprint import canonical
from curator.core.sources import SAMPLE_PROBLEMS
from curator.selection.domains import (
    KeywordDomains,
    classify_domains,
    load_keyword_rules,
    msc_codes,
    msc_messages,
    parse_msc,
)


def test_shipped_rules_label_most_of_the_bundled_sample():
    df = pl.read_ndjson(SAMPLE_PROBLEMS)
    rules, fallback = load_keyword_rules()
    got = classify_domains(df["problem"], rules, fallback)
    same = (got == df["domain"].str.replace("_", " ")).mean()
    assert same > 0.8


def test_stage_fills_only_missing_domains_and_hashes_the_rules_file():
    df = pl.DataFrame({"problem": ["Find the area of the triangle.", "A coin is flipped; probability of heads?"],
                       "domain": ["kept", None]})
    out = KeywordDomains().transform(df)
    assert out["domain"].to_list() == ["kept", "probability"]
    assert KeywordDomains(overwrite=True).transform(df)["domain"].to_list() == ["geometry", "probability"]
    assert "file_sha256" in canonical(KeywordDomains().params())["rules_file"]


def test_msc_label_set_and_reply_parsing():
    codes = msc_codes()
    assert len(codes) == 63 and codes[6] == {"code": "11", "name": "Number theory"}
    msgs = msc_messages("Find all primes p such that p+2 is prime.", codes)
    assert "11 Number theory" in msgs[1]["content"]
    assert parse_msc("Code: 05 (Combinatorics)", codes) == "05"
    assert parse_msc("I think 2023 or 99", codes) is None


@pytest.mark.slow
def test_msc_labelling_with_the_embedded_model(tmp_path):
    from curator.core.pipeline import Pipeline
    from curator.selection.domains import MscDomains

    df = pl.DataFrame({"problem": ["Find all primes p such that p + 2 is prime.", "Already labelled."],
                       "domain": [None, "kept"], "source": ["s", "s"]})
    out = Pipeline("msc", df, [MscDomains(max_tokens=6)]).run(tmp_path / "o", quiet=True)
    valid = {c["code"] for c in msc_codes()}
    assert out["domain"][1] == "kept"
    assert out["domain"][0] is None or out["domain"][0] in valid  # a tiny model may not answer with a code


# -- the ASCII word boundary after joining gives the Unicode boundary's counts -----------------------
def _unicode_counts(problems: pl.Series, rules: dict) -> pl.DataFrame:
    from curator.selection.domains import keyword_pattern

    return pl.DataFrame({"p": problems}).select([pl.col("p").fill_null("").str.count_matches(
        keyword_pattern(rules[n])).alias(n) for n in rules])


def _labels_from(counts: pl.DataFrame, fallback: str) -> list[str]:
    names = counts.columns
    return [names[max(range(len(r)), key=lambda i: (r[i], -i))] if max(r) > 0 else fallback for r in counts.rows()]


from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

PIECES = ["triangle", "Triangle", "三角形", "概率", "probability", "é", "数", "prime", "_", " ", "mod ", "die ",
          "f(x)", "[asy]", "x", "2", "。", "circle", "圆", "α", "base ", "Σ", "combination"]


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=10).map("".join), min_size=1, max_size=10))
def test_fast_boundaries_label_as_the_unicode_pattern(texts):
    rules, fallback = load_keyword_rules()
    problems = pl.Series(texts, dtype=pl.String)
    assert classify_domains(problems, rules, fallback).to_list() == _labels_from(_unicode_counts(problems, rules),
                                                                                fallback)


def test_fast_boundaries_on_the_bundled_problems():
    from curator.core.io import read_table

    rules, fallback = load_keyword_rules()
    for f in (SAMPLE_PROBLEMS, SAMPLE_PROBLEMS.parent / "handwritten_problems.jsonl"):
        problems = read_table(f)["problem"]
        assert classify_domains(problems, rules, fallback).to_list() == _labels_from(
            _unicode_counts(problems, rules), fallback)

def test_an_edited_rules_file_is_read_again(tmp_path):
    rules = tmp_path / "rules.json"
    rules.write_text('{"domains": {"geometry": ["triangle"]}, "fallback": "misc"}')
    df = pl.DataFrame({"problem": ["A triangle and a coin."]})
    stage = KeywordDomains(rules_file=rules)
    assert stage.transform(df)["domain"].to_list() == ["geometry"]
    key = canonical(stage.params())
    rules.write_text('{"domains": {"probability": ["coin"]}, "fallback": "misc"}')  # edited in place
    assert stage.transform(df)["domain"].to_list() == ["probability"]
    assert canonical(stage.params()) != key  # and the stage reruns


def test_keywords_match_at_word_starts_case_insensitively_and_ties_go_to_the_first_domain():
    rules = {"algebra": ["root"], "number theory": ["prime", "素数"], "geometry": ["angle"]}
    problems = pl.Series(["Square ROOT of 9", "Is 7 PRIME?", "rectangle area", "求素数", "root angle", None])
    assert classify_domains(problems, rules, "other").to_list() == [
        "algebra", "number theory", "other", "number theory", "algebra", "other"]  # "rectangle" is no "angle"


def test_a_broken_rules_file_names_the_file_and_the_fix(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(ValueError, match=r"cannot read domain rules .*bad\.json.*pass another rules="):
        load_keyword_rules(bad)
