"""The options column and the prompt specs: every accepted option layout, one prompt per item
kind and language, and the same prompt in generation, the probe and every export."""

from __future__ import annotations

import json

import polars as pl
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.items import default_columns, item_fields, normalize_items
from curator.core.options import gold_letter, options_json, parse_options, render_options, shuffle_options
from curator.generation.prompt_spec import R1_ZERO_EN, SPECS
from curator.generation.prompts import row_messages
from curator.publish.exports import GRPOPrompts, SFTMessages, VerlParquet

ABCD = {"A": "21", "B": "27", "C": "29", "D": "33"}
TAL = [[{"aoVal": k, "content": f"{v} "}] for k, v in ABCD.items()]

LAYOUTS = [
    ({"A": "21", "B": "27", "C": "29", "D": "33"}, ABCD),  # MedQA dict
    ({"D": "33", "C": "29", "B": "27", "A": "21"}, ABCD),  # any key order
    (["21", "27", "29", "33"], ABCD),  # a plain list
    (json.dumps(["21", "27", "29", "33"]), ABCD),  # a JSON string
    (json.dumps(ABCD), ABCD),
    (["(A)21", "(B)27", "(C)29", "(D)33"], ABCD),  # AGIEval / Gaokao
    (["A. 21", "B. 27", "C. 29", "D. 33"], ABCD),
    (["（A）21", "（B）27", "（C）29", "（D）33"], ABCD),
    (TAL, ABCD),  # TAL-SCQ5K nested one-element lists
    (json.dumps(TAL, ensure_ascii=False), ABCD),
    ([{"aoVal": k, "content": v} for k, v in ABCD.items()], ABCD),
    ({"label": ["A", "B", "C", "D"], "text": ["21", "27", "29", "33"]}, ABCD),  # ARC
    ("(A) 21 (B) 27 (C) 29 (D) 33", ABCD),  # inline
    ("A. 21  B. 27  C. 29  D. 33", ABCD),
    (None, None), ("", None), ([], None), ("no options here", None),
]


@pytest.mark.parametrize("value,expected", LAYOUTS)
def test_every_option_layout_parses_to_letters(value, expected):
    assert parse_options(value) == expected


def test_render_layout_per_language():
    assert render_options(ABCD).splitlines()[0] == "A. 21"
    assert render_options(ABCD, "zh").splitlines()[2] == "（C）29"


def test_gold_letter_from_answer_idx_letter_or_text():
    assert gold_letter("29", ABCD, "C") == "C"
    assert gold_letter("29", ABCD) == "C"
    assert gold_letter("(C)", ABCD) == "C"
    assert gold_letter("31", ABCD) is None


@settings(max_examples=60, deadline=None)
@given(st.lists(st.text(alphabet="xyz0123456789 ", min_size=1, max_size=8).map(str.strip).filter(bool),
                min_size=2, max_size=10, unique=True), st.integers(0, 9), st.integers(0, 1000))
def test_shuffle_keeps_the_gold_text_and_the_option_set(texts, gold_i, seed):
    opts = parse_options(texts)
    assert opts is not None and parse_options(options_json(opts)) == opts
    gold = "ABCDEFGHIJ"[gold_i % len(texts)]
    new, new_gold = shuffle_options(opts, gold, seed, key="item")
    assert new[new_gold] == opts[gold] and sorted(new.values()) == sorted(opts.values())
    assert shuffle_options(opts, gold, seed, key="item") == (new, new_gold)  # seeded


def test_public_layouts_map_and_normalise():
    assert default_columns(["question", "options", "answer", "answer_idx", "meta_info"]) == {"question": "problem"}
    assert default_columns(["problem", "answer_option_list", "answer_value"]) == {"answer_value": "answer"}
    meta = json.dumps({"options": {"A": "x", "B": "Ampicillin"}, "answer_idx": "B"})
    answer, options, new_meta = item_fields("Ampicillin", meta, None)
    assert answer == "B" and json.loads(options) == {"A": "x", "B": "Ampicillin"}
    assert json.loads(new_meta)["answer_text"] == "Ampicillin" and "options" not in json.loads(new_meta)


def test_language_is_set_on_every_row():
    df = pl.DataFrame({"problem": ["小红有 8 支铅笔，又买了 5 支，一共几支？", "What is 2+2?"], "answer": ["13", "4"],
                       "language": [None, None], "meta": [None, None]}, schema_overrides={"language": pl.String})
    out = normalize_items(df)
    assert out["language"].to_list() == ["zh", "en"] and "options" in out.columns


# -- prompt specs ----------------------------------------------------------------------------------

ZH = {"problem": "小红有 8 支铅笔，又买了 5 支，一共几支？", "language": "zh"}
EN = {"problem": "What is 8 + 5?", "language": "en"}
MC_EN = {"problem": "Which is prime?", "language": "en", "options": options_json(ABCD)}
MC_ZH = {"problem": "下列哪个数是质数？", "language": "zh", "options": options_json(ABCD)}


@pytest.mark.parametrize("name", sorted(SPECS))
def test_one_prompt_per_kind_and_language(name):
    spec = SPECS[name]
    for kind in ("math", "choice"):
        for lang in ("en", "zh"):
            assert (kind, lang) in spec.instructions
    msgs = {k: row_messages(r, name)[-1]["content"] for k, r in
            {"en": EN, "zh": ZH, "mc_en": MC_EN, "mc_zh": MC_ZH}.items()}
    assert "A. 21" in msgs["mc_en"] and "（A）21" in msgs["mc_zh"]
    if name != "plain":
        assert msgs["en"] != msgs["zh"].replace(ZH["problem"], EN["problem"])  # a Chinese instruction


def test_chinese_problem_gets_the_chinese_instruction_and_no_english_one():
    for name in ("r1", "boxed"):
        text = row_messages(ZH, name)[-1]["content"]
        assert "\\boxed{}" in text and "Let's think" not in text and "Please reason" not in text
    assert "请逐步推理" in row_messages({"problem": ZH["problem"]}, "r1")[-1]["content"]  # language detected


def test_r1_has_no_system_prompt_and_r1_zero_is_the_base_model_template():
    assert [m["role"] for m in row_messages(EN, "r1")] == ["user"]
    zero = row_messages(EN, "r1_zero")
    assert len(zero) == 1 and zero[0]["content"].startswith(R1_ZERO_EN.split("{question}")[0])
    assert "<answer> </answer>" in zero[0]["content"] and zero[0]["content"].endswith("Assistant:")


def test_probe_prompt_equals_exported_prompt_for_the_same_item(tmp_path):
    """Generate (and the probe, which is a Generate) and the verl / GRPO exports call one builder."""
    rows = [ZH, EN, MC_EN, MC_ZH]
    df = pl.DataFrame([{**r, "id": str(i), "answer": "C" if "options" in r else "13", "source": "t",
                        "options": r.get("options"), "meta": None} for i, r in enumerate(rows)])
    for template in ("brief", "r1", "boxed", "r1_zero"):
        sent = [row_messages(r, template) for r in df.select("problem", "options", "language", "meta").to_dicts()]
        verl = VerlParquet(template=template).table(df, "train").to_pylist()
        grpo = GRPOPrompts(template=template).rows(df)["prompt"].to_list()
        assert [r["prompt"] for r in verl] == sent == grpo
    extra = VerlParquet().table(df, "train").to_pylist()[2]["extra_info"]
    assert json.loads(extra["options"]) == ABCD and extra["language"] == "en"


def test_sft_user_turn_carries_the_options():
    df = pl.DataFrame([{**MC_ZH, "id": "1", "answer": "C", "source": "t", "meta": None, "domain": None,
                        "samples": [{"text": "<think>29</think> \\boxed{C}", "reasoning": "29", "final": "\\boxed{C}",
                                     "correct": True, "status": "ok"}]}])
    msgs = SFTMessages().rows(df)["messages"].to_list()[0]
    assert msgs[0]["content"].startswith(MC_ZH["problem"]) and "（C）29" in msgs[0]["content"]
