"""R1 readability rules: each reason, on real sample rows through the stage."""

from __future__ import annotations

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.pipeline import Pipeline
from curator.core.table import SAMPLE_FIELDS
from filters.readability import (
    Readability,
    ReadabilityRules,
    ascii_ngram_fractions,
    readability_reason,
    readability_reasons,
    repeated_line_fraction,
    repeated_ngram_fraction,
    repeated_ngram_fraction_reference,
)

GOOD = "<think>We add 2 and 2.\nThat gives 4.</think>\nSo the answer is $\\boxed{4}$."
LOOP = "Let me reconsider whether the sum is correct here.\n"


@pytest.mark.parametrize(("kwargs", "reason"), [
    (dict(text=GOOD), None),
    (dict(text=None, status="failed"), "generation failed"),
    (dict(text=GOOD, finish_reason="length"), "truncated"),
    (dict(text=GOOD, status="truncated"), "truncated"),
    (dict(text="We add 2 and 2. \\boxed{4}"), "missing <think>"),
    (dict(text="<think>We add 2 and 2, then we keep going"), "unclosed <think>"),
    (dict(text="<think>We add 2 and 2.</think> It is four."), "no final answer"),
    (dict(text="<think>x</think> four", extracted="4"), None),
    (dict(text="<think>```python\nprint(2+2)\n```</think> \\boxed{4}"), "code block"),
    (dict(text="<think>```python\nprint(2+2)\n```</think> \\boxed{4}", domain="code"), None),
    (dict(text="<think>" + "word " * 700 + "</think> \\boxed{4}"), "long paragraph"),
    (dict(text="<think>" + LOOP * 10 + "</think> \\boxed{4}"), "repetition (lines)"),
    (dict(text="<think>" + "we check the sum of two and two once more and " * 30 + "</think> \\boxed{4}"),
     "repetition (n-grams)"),
])
def test_each_reason(kwargs, reason):
    assert readability_reason(**kwargs) == reason


def test_provider_reasoning_field_counts_as_think():
    assert readability_reason("The answer is \\boxed{4}.", reasoning="2 + 2 = 4", final="\\boxed{4}") is None


def test_rules_switch_off():
    rules = ReadabilityRules(require_think=False, require_final_answer=False)
    assert readability_reason("plain text", rules=rules) is None
    looping = "<think>" + LOOP * 10 + "</think> \\boxed{4}"
    assert readability_reason(looping, rules=ReadabilityRules(max_repeated_line_frac=None)) == "repetition (n-grams)"
    assert readability_reason(looping, rules=ReadabilityRules(max_repeated_line_frac=None,
                                                               max_repeated_ngram_frac=None)) is None


def test_normal_cot_revisits_are_not_repetition():
    cot = "\n".join(f"Step {i}: we compute {i} * {i} = {i * i}, then check it again." for i in range(40))
    assert repeated_line_fraction(cot) == 0.0
    assert repeated_ngram_fraction(cot) < 0.3
    zh = "我们先计算第一项，然后计算第二项。" + "".join(f"第{i}步得到{i * 3}。" for i in range(30))
    assert readability_reason(f"<think>{zh}</think> \\boxed{{4}}") is None


def test_stage_drops_samples_keeps_rows(tmp_path):
    def sample(text, **kw):
        s = {k: None for k in SAMPLE_FIELDS}
        s.update(text=text, **kw)
        return s

    df = pl.DataFrame({"id": ["a"], "problem": ["2+2?"], "answer": ["4"], "samples": [[
        sample(GOOD), sample("no think \\boxed{4}"), sample(GOOD, finish_reason="length")]]})
    out = Pipeline("read", df, [Readability()]).run(tmp_path / "o", quiet=True)
    assert out.height == 1 and len(out["samples"][0]) == 1
    rej = pl.read_parquet(next((tmp_path / "o" / "rejects").glob("*.samples.parquet")))
    assert sorted(rej["reason"].to_list()) == ["missing <think>", "truncated"]


# -- the n-gram count without n-grams gives the same share ---------------------------------------------
WORDS = st.lists(st.sampled_from(["we", "check", "the", "sum", "again", "x", "我", "们", "2", "+", "\n", " ", "é"]),
                 max_size=300).map(" ".join)


@settings(max_examples=200, deadline=None)
@given(WORDS, st.integers(1, 12))
def test_repeated_ngram_fraction_matches_the_tuple_count(text, n):
    assert repeated_ngram_fraction(text, n) == repeated_ngram_fraction_reference(text, n)


def test_repeated_ngram_fraction_on_a_long_chain():
    chain = "\n".join(f"Step {i % 97}: we compute {i % 13} * {i % 7} and check it again." for i in range(3000))
    assert len(chain) > 100_000
    assert repeated_ngram_fraction(chain) == repeated_ngram_fraction_reference(chain)
    loop = "<think>" + LOOP * 400 + "</think> \\boxed{4}"
    assert repeated_ngram_fraction(loop) == repeated_ngram_fraction_reference(loop) > 0.9


def test_reasons_over_a_pool_are_the_same_as_in_process():
    from curator.core.workers import process_pool

    def sample(text, **kw):
        s = {k: None for k in SAMPLE_FIELDS}
        s.update(text=text, **kw)
        return s

    texts = [GOOD, "no think \\boxed{4}", "<think>" + LOOP * 10 + "</think> \\boxed{4}", "<think>x</think> four"]
    flat = pl.DataFrame([sample(t) for t in texts * 200], schema=SAMPLE_FIELDS)
    pool = process_pool(2)
    try:
        assert readability_reasons(flat, pool=pool).to_list() == readability_reasons(flat).to_list()
    finally:
        pool.shutdown()


ASCII_WORDS = st.lists(st.sampled_from(["we", "Check", "the", "SUM", "again", "x", "2", "+", "\n", " ", "a_b", "--",
                                        "x2y", "10", "$", "\\frac"]), max_size=200).map(" ".join)


@settings(max_examples=150, deadline=None)
@given(st.lists(ASCII_WORDS, max_size=8), st.integers(1, 12))
def test_ascii_ngram_fractions_in_polars_match_the_tuple_count(texts, n):
    assert ascii_ngram_fractions(texts, n) == [repeated_ngram_fraction_reference(t, n) for t in texts]


def test_stage_reasons_match_the_row_function_on_long_chains():
    def sample(text, **kw):
        s = {k: None for k in SAMPLE_FIELDS}
        s.update(text=text, **kw)
        return s

    chain = "\n".join(f"Step {i % 97}: we compute {i % 13} * {i % 7} and check it again." for i in range(400))
    texts = [f"<think>{chain}</think> \\boxed{{4}}", "<think>" + LOOP * 10 + "</think> \\boxed{4}",
             "<think>" + "we check the sum of two and two once more and " * 30 + "</think> \\boxed{4}",
             "<think>我们" + chain + "</think> \\boxed{4}", GOOD]
    flat = pl.DataFrame([sample(t) for t in texts], schema=SAMPLE_FIELDS)
    assert readability_reasons(flat).to_list() == [readability_reason(t) for t in texts]


def test_safe_chars_agree_between_python_and_polars():
    """Every character the polars path accepts lowercases and tokenizes as Python's ``re`` does."""
    import re

    from filters.readability import _TOKEN, SAFE_CHARS

    safe = re.compile(f"[{SAFE_CHARS}]")
    chars = [chr(c) for c in range(0x10000) if not 0xD800 <= c <= 0xDFFF and safe.match(chr(c))]
    lowered = [c.lower() for c in chars]
    assert pl.Series(chars).str.to_lowercase().to_list() == lowered
    assert pl.Series(lowered).str.extract_all(_TOKEN.pattern).to_list() == [_TOKEN.findall(c) for c in lowered]


def _split_sample(reasoning, final, **kw):
    s = {k: None for k in SAMPLE_FIELDS}
    s.update(text=f"<think>{reasoning}</think>{final}" if final is not None else f"<think>{reasoning}",
             reasoning=reasoning, final=final, **kw)
    return s


PIECES = st.sampled_from(["we add two and two", "所以答案是", "\n", " ", "\u3000", "\x1f", "\t", "²", "é", "Σ", "```",
                          "\r\n", "\u2028", "Let me reconsider whether the sum is correct here.\n", "\\boxed{4}",
                          "\\boxed\x1f{4}", "</think>", "x" * 40, "答", "$x^2$", "."])


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.lists(PIECES, max_size=60).map("".join), st.one_of(st.none(), st.lists(
    PIECES, max_size=6).map("".join)), st.sampled_from([None, "length"]), st.sampled_from([None, "4", " "])),
    min_size=1, max_size=6), st.integers(1, 4))
def test_batch_reasons_are_the_row_function_on_split_samples(rows, n):
    """The polars path (reasoning + final of safe characters) and the Python path agree everywhere."""
    rules = ReadabilityRules(max_paragraph_chars=60, ngram=n, min_line_chars=5)
    samples = [_split_sample(r, f, finish_reason=fr, extracted=ex) for r, f, fr, ex in rows]
    flat = pl.DataFrame(samples, schema=SAMPLE_FIELDS)
    expected = [readability_reason(s["text"], s["reasoning"], s["final"], s["extracted"], s["finish_reason"],
                                   s["status"], None, rules) for s in samples]
    assert readability_reasons(flat, rules).to_list() == expected


def test_batch_reasons_on_long_split_chains():
    chain = "\n".join(f"Step {i % 97}: we compute {i % 13} * {i % 7} and check it again." for i in range(400))
    zh = "\n".join(f"第{i % 89}步，我们计算{i % 13}乘以{i % 7}，再检查一遍。" for i in range(400))
    cases = [(chain, "So the answer is $\\boxed{4}$."), (zh, "答案是 $\\boxed{4}$。"), (LOOP * 40, "\\boxed{4}"),
             ("we check the sum of two and two once more and " * 30, "\\boxed{4}"), ("word " * 700, "\\boxed{4}"),
             (chain + "\n" + "我们再检查一遍。" * 3, "\\boxed{4}"), (chain, "It is four.")]
    samples = [_split_sample(r, f) for r, f in cases]
    flat = pl.DataFrame(samples, schema=SAMPLE_FIELDS)
    got = readability_reasons(flat).to_list()
    assert got == [readability_reason(s["text"], s["reasoning"], s["final"]) for s in samples]
    assert got == [None, None, "repetition (lines)", "repetition (n-grams)", "long paragraph", None, "no final answer"]
