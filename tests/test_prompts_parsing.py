"""Prompt building and response parsing (property tests for the parser)."""

from __future__ import annotations

import json

from hypothesis import given
from hypothesis import strategies as st

from curator.generation.parsing import split_reasoning, to_sample
from curator.generation.prompts import TEMPLATES, PromptTemplate, get_template, row_messages
from curator.generation.types import Completion

no_tags = st.text().filter(lambda s: "<think>" not in s and "</think>" not in s)


@given(no_tags, no_tags, no_tags)
def test_think_tags_split_reasoning_from_final(before, reasoning, final):
    r, f = split_reasoning(f"{before}<think>{reasoning}</think>{final}")
    assert r == reasoning.strip()
    assert f == final.strip()


@given(no_tags, no_tags)
def test_only_closing_tag_means_the_template_opened_it(reasoning, final):
    assert split_reasoning(f"{reasoning}</think>{final}") == (reasoning.strip(), final.strip())


@given(no_tags)
def test_unclosed_think_is_all_reasoning(reasoning):
    assert split_reasoning(f"<think>{reasoning}") == (reasoning.strip(), "")


@given(no_tags)
def test_text_without_tags_is_all_final(text):
    assert split_reasoning(text) == (None, text.strip())


@given(st.text(), st.text(min_size=1).filter(lambda s: s.strip()))
def test_provider_reasoning_field_wins(text, field):
    r, f = split_reasoning(text, field)
    assert r == field.strip()
    assert "<think>" not in f and "</think>" not in f


@given(st.text())
def test_parser_never_raises_and_keeps_raw_text(text):
    s = to_sample(Completion(index=0, text=text, finish_reason="stop"))
    assert s["text"] == text and s["status"] == "ok"


def test_statuses():
    assert to_sample(Completion(index=0, text="x", finish_reason="length", completion_tokens=5))["status"] == "truncated"
    failed = to_sample(Completion(index=0, error="http 500: boom"))
    assert failed["status"] == "failed" and failed["error"] == "http 500: boom" and failed["text"] is None


def test_r1_template_and_chinese_variant():
    en = row_messages({"problem": "What is 2+2?", "language": "en"}, "r1")
    assert [m["role"] for m in en] == ["user"]  # DeepSeek: no system prompt for R1-family models
    assert en[-1]["content"].startswith("What is 2+2?") and "\\boxed{}" in en[-1]["content"]
    think = row_messages({"problem": "What is 2+2?", "language": "en"}, "think")
    assert think[0]["role"] == "system" and "<think>" in think[0]["content"]
    zh = row_messages({"problem": "2+2 等于几？", "language": "zh"}, "r1")
    assert "请逐步推理" in zh[-1]["content"]


def test_multiple_choice_lists_options_from_meta():
    meta = json.dumps({"choices": ["21", "27", "29"]})
    msgs = row_messages({"problem": "Which is prime?", "meta": meta}, "multiple_choice")
    assert "A. 21" in msgs[-1]["content"] and "C. 29" in msgs[-1]["content"]


def test_problem_with_braces_is_not_formatted():
    msgs = row_messages({"problem": "Simplify {x} + {{y}}"}, "brief")
    assert msgs[-1]["content"].startswith("Simplify {x} + {{y}}")


def test_custom_and_unknown_templates():
    tpl = PromptTemplate("mine", "Q: {problem}")
    assert get_template(tpl).messages("hi") == [{"role": "user", "content": "Q: hi"}]
    assert set(TEMPLATES) >= {"r1", "r1_zh", "multiple_choice", "brief"}
    try:
        get_template("nope")
    except ValueError as err:
        assert "r1" in str(err)
    else:
        raise AssertionError("unknown template accepted")
