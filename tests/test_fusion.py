"""Qwen3 thinking-mode fusion, R1 non-reasoning replies, judge scores and chain repair.

The model calls go to real backends: the embedded 135M model in process, or an
OpenAI-compatible HTTP server on 127.0.0.1 whose replies are scripted stand-ins for a strong
teacher, a judge and a rewriting model (the components under test are the stages).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jinja2
import polars as pl
import pytest
from jinja2.sandbox import ImmutableSandboxedEnvironment

from curator import load_pipeline
from curator.fusion.chat import EMPTY_THINK, assistant_turn, last_flag, multi_turn, single_turn
from curator.fusion.mix import domain_quota, fuse, plan_mix
from curator.fusion.replies import check_reply, without_thinking
from curator.generation import make_backend
from curator.generation.rewrite import Rewrite
from filters.reply_quality import JudgeReplies, parse_score
from tests.servers.openai_fake import serve
from tests.servers.scripted_teacher import ScriptedTeacher

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"

# A Qwen3-style chat template, as a tokenizer_config.json carries it: ChatML turns; the reasoning of
# an assistant turn is shown only after the last user query; a reply without reasoning after it
# gets the empty think block; enable_thinking=false writes that block into the generation prompt.
TOKENIZER_CONFIG = {"chat_template": (
    "{%- set ns = namespace(last_query_index=messages|length - 1) %}"
    "{%- for m in messages[::-1] %}{%- set index = (messages|length - 1) - loop.index0 %}"
    "{%- if m.role == 'user' and ns.last_query_index == messages|length - 1 %}"
    "{%- set ns.last_query_index = index %}{%- endif %}{%- endfor %}"
    "{%- for message in messages %}"
    "{%- if message.role == 'user' or message.role == 'system' %}"
    "{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>\\n' }}"
    "{%- elif message.role == 'assistant' %}"
    "{%- set content = message.content %}{%- set reasoning_content = '' %}"
    "{%- if '</think>' in content %}"
    "{%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}"
    "{%- set content = content.split('</think>')[-1].lstrip('\\n') %}{%- endif %}"
    "{%- if loop.index0 > ns.last_query_index %}"
    "{{- '<|im_start|>assistant\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n'"
    " + content.lstrip('\\n') }}"
    "{%- else %}{{- '<|im_start|>assistant\\n' + content }}{%- endif %}"
    "{{- '<|im_end|>\\n' }}{%- endif %}{%- endfor %}"
    "{%- if add_generation_prompt %}{{- '<|im_start|>assistant\\n' }}"
    "{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}"
    "{%- endif %}"
)}


def render(messages: list[dict[str, str]], **kwargs: Any) -> str:
    """Render like transformers' apply_chat_template: a sandboxed jinja environment."""
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, undefined=jinja2.StrictUndefined)
    return env.from_string(TOKENIZER_CONFIG["chat_template"]).render(messages=messages, add_generation_prompt=False,
                                                                     **kwargs)


def test_rows_render_into_qwen3s_exact_layout_for_both_modes():
    think = single_turn("What is 2 + 2?", "The answer is 4.", "2 + 2 = 4.", "think")
    assert render(think) == ("<|im_start|>user\nWhat is 2 + 2? /think<|im_end|>\n<|im_start|>assistant\n"
                             "<think>\n2 + 2 = 4.\n</think>\n\nThe answer is 4.<|im_end|>\n")
    no_think = single_turn("Capital of France?", "Paris.", "ignored in no_think mode", "no_think")
    assert no_think[1]["content"] == EMPTY_THINK + "Paris."
    assert render(no_think) == ("<|im_start|>user\nCapital of France? /no_think<|im_end|>\n<|im_start|>assistant\n"
                                "<think>\n\n</think>\n\nParis.<|im_end|>\n")
    # the generation prompt Qwen3 writes with thinking off ends in the same empty block the rows teach
    prompt = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True).from_string(
        TOKENIZER_CONFIG["chat_template"]).render(messages=no_think[:1], add_generation_prompt=True,
                                                  enable_thinking=False)
    assert prompt.endswith("<|im_start|>assistant\n" + EMPTY_THINK)


def test_multi_turn_rows_switch_modes_and_the_last_flag_wins():
    conv = multi_turn([("What is 3 + 4?", "7", "3 + 4 = 7", "think"), ("And in words?", "Seven.", None, "no_think")])
    assert last_flag(conv) == "no_think"
    text = render(conv)
    # Qwen3 drops the earlier turn's reasoning from history; the last reply has the empty block
    assert "3 + 4 = 7" not in text and text.count("<think>") == 1
    assert text.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\nSeven.<|im_end|>\n")
    back = multi_turn([("Hi", "Hello.", None, "no_think"), ("What is 5 + 5?", "10", "5 + 5 = 10", "think")])
    assert last_flag(back) == "think" and "<think>\n5 + 5 = 10\n</think>" in render(back)


def test_assistant_turn_and_reply_checks():
    assert assistant_turn("x", "  ")["content"] == EMPTY_THINK + "x"
    assert check_reply("<think>" + "word " * 200 + "</think>ok", None, "ok", "stop") == \
        "long reasoning in a non-thinking reply"
    assert check_reply("cut", None, "ok", "length") == "truncated"
    backend = without_thinking(make_backend("openai", model="m", base_url=["http://127.0.0.1:1/v1"]))
    assert backend.extra_body["chat_template_kwargs"] == {"enable_thinking": False}


@pytest.mark.parametrize("n_think, n_reply, ratio, multi", [(50, 50, 0.5, 0.0), (37, 90, 0.3, 0.1),
                                                            (10, 200, 0.8, 0.2), (64, 64, 0.0, 0.0)])
def test_the_mix_ratio_holds_within_one_row(n_think, n_reply, ratio, multi):
    plan = plan_mix(n_think, n_reply, ratio, multi)
    single = plan.think + plan.no_think
    assert abs(plan.think - ratio * single) <= 1
    assert plan.think + plan.multi <= n_think and plan.no_think + plan.multi <= n_reply
    assert abs(plan.multi - multi * plan.total) <= 1


def test_domain_shares_and_every_item_used_once():
    think = [{"id": f"t{i}", "problem": f"p{i}", "answer": "a", "reasoning": "r", "domain": "math" if i < 20 else "code"}
             for i in range(30)]
    reply = [{"id": f"r{i}", "problem": f"q{i}", "answer": "b", "domain": "writing" if i % 2 else "qa"}
             for i in range(30)]
    assert domain_quota({"math": 20, "code": 10}, 10, {"math": 0.3, "code": 0.7}) == {"math": 3, "code": 7}
    plan = plan_mix(30, 30, 0.5, 0.1, size=20)
    out = fuse(think, reply, plan, shares={"math": 0.5, "code": 0.5}, seed=1)
    assert len(out.rows) == 20
    ids = [i for r in out.rows for i in r["item_ids"]]
    assert len(ids) == len(set(ids)) == len(out.used)
    modes = [r["mode"] for r in out.rows]
    assert modes.count("multi_turn") == plan.multi and modes.count("think") == plan.think


def test_judge_scores_parse_strictly():
    assert parse_score('```json\n{"score": 9, "reason": "good"}\n```') == (9, "good", None)
    assert parse_score('{"score": 11}')[2] is not None and parse_score('{"score": true}')[2] is not None


def judge_server(req: dict[str, Any]) -> str:
    """Stand-in for a judge model: scores by a marker in the reply it is shown."""
    shown = req["messages"][-1]["content"]
    if "GOOD" in shown:
        return '{"score": 9, "reason": "answers the request"}'
    if "BAD" in shown:
        return '{"score": 3, "reason": "off-topic"}'
    return "I think this reply is fine."


def test_judge_drops_low_scores_and_unreadable_verdicts_with_reasons(tmp_path):
    df = pl.DataFrame({"id": ["a", "b", "c"], "problem": ["Say hi", "Say bye", "Say yo"]}).with_columns(
        pl.Series("samples", [[{"text": "GOOD hi", "status": "ok"}], [{"text": "BAD", "status": "ok"}],
                              [{"text": "yo", "status": "ok"}]]))
    with serve(judge_server) as server:
        stage = JudgeReplies(backend=make_backend("openai", model="judge", base_url=[server.base_url]), threshold=7)
        out = stage.apply(df)
    kept = out.kept["samples"].to_list()
    assert [len(s) for s in kept] == [1, 0, 0] and kept[0][0]["judge_score"] == 9
    reasons = dict(zip(out.sample_rejects["id"].to_list(), out.sample_rejects["reason"].to_list(), strict=True))
    assert reasons == {"b": "judge score below 7", "c": "judge reply unreadable"}


def rewriter(req: dict[str, Any]) -> str:
    """Stand-in for a rewriting model: a clean rewrite, one that changes the answer, one still mixed."""
    shown = req["messages"][-1]["content"]
    if "7 + 8" in shown:
        return "<think>\n7 + 8 = 15.\n</think>\nSummary: adding gives 15. The final answer is \\boxed{15}."
    if "9 + 7" in shown:
        return "<think>\n9 + 7 = 17.\n</think>\nSummary: adding gives 17. The final answer is \\boxed{17}."
    return "<think>\n2 + 7 等于 9，这是因为我们把两个数加起来。\n</think>\nThe final answer is \\boxed{9}."


def mixed(problem: str, answer: str) -> dict[str, Any]:
    reasoning = f"We add them. 然后我们把两个数相加得到结果，这一步非常简单。 So it is {answer}."
    return {"text": f"<think>{reasoning}</think> The final answer is \\boxed{{{answer}}}.", "reasoning": reasoning,
            "final": f"The final answer is \\boxed{{{answer}}}.", "extracted": answer, "correct": True,
            "status": "ok", "finish_reason": "stop"}


def test_rewrite_keeps_only_repairs_that_pass_again(tmp_path):
    problems = [("What is 7 + 8?", "15"), ("What is 9 + 7?", "16"), ("What is 2 + 7?", "9")]
    df = pl.DataFrame({"id": ["a", "b", "c"], "problem": [p for p, _ in problems], "answer": [a for _, a in problems],
                       "language": ["en"] * 3}).with_columns(
        pl.Series("samples", [[mixed(p, a)] for p, a in problems]))
    with serve(rewriter) as server:
        stage = Rewrite(backend=make_backend("openai", model="rw", base_url=[server.base_url]), max_tokens=128)
        out = stage.apply(df)
    s = {r["id"]: r["samples"][0] for r in out.kept.to_dicts()}
    assert s["a"]["rewrite_status"] == "accepted" and "然后" in s["a"]["original_text"]
    assert s["a"]["rewrite_trigger"].startswith("language mixing") and s["a"]["extracted"] == "15"
    assert s["b"]["rewrite_status"] == "rejected: answer changed" and s["b"]["text"] == mixed("", "16")["text"]
    assert s["c"]["rewrite_status"].startswith("rejected: still fails language mixing")
    assert out.info["rewrites_tried"] == 3 and out.info["rewrites_accepted"] == 1


@pytest.fixture(scope="module")
def teacher_url():
    teacher = ScriptedTeacher()

    def respond(req: dict[str, Any]) -> str:
        return teacher({**req, "n": 1, "seed": int(req.get("seed") or 0) + req["choice_index"]})[0]

    with serve(respond) as server:
        yield server.base_url


def replier(req: dict[str, Any]) -> str:
    """Stand-in for a general-purpose teacher: a short reply, with a short thought for some prompts."""
    prompt = req["messages"][-1]["content"]
    if len(prompt) % 3 == 0:
        return "<think>The user wants a brief answer.</think>" + f"Here is a short reply to: {prompt[:30]}"
    return f"Here is a short reply to: {prompt[:30]}"


@pytest.mark.slow
def test_non_reasoning_recipe_on_the_embedded_model(tmp_path):
    out = tmp_path / "replies"
    df = load_pipeline(PIPELINES / "non_reasoning.py", {"limit": "6", "max_tokens": "24"}).run(out, quiet=True)
    funnel = json.loads((out / "funnel.json").read_text())["stages"]
    check = next(s for s in funnel if s["stage"] == "check_replies")
    kept = sum(1 for row in df["samples"].to_list() for _ in row)
    assert check["samples_in"] == 6 and kept + sum(check["samples_dropped"].values()) == 6
    assert all((m is None) == (not row) for m, row in zip(df["messages"].to_list(), df["samples"].to_list(),
                                                           strict=True))


@pytest.mark.slow
def test_fusion_recipe_end_to_end(tmp_path, teacher_url):
    reasoning = tmp_path / "long_cot"
    load_pipeline(PIPELINES / "cold_start.py", {"backend": "openai", "model": "teacher", "endpoints": teacher_url,
                                                "k": "2", "limit": "60", "max_tokens": "256"}).run(reasoning, quiet=True)
    general = tmp_path / "replies"
    with serve(replier) as server:
        load_pipeline(PIPELINES / "non_reasoning.py", {"backend": "openai", "model": "teacher",
                                                       "endpoints": server.base_url}).run(general, quiet=True)
    out = tmp_path / "fused"
    df = load_pipeline(PIPELINES / "think_fusion.py", {"reasoning": str(reasoning), "general": str(general),
                                                       "think_ratio": "0.5", "multi_turn_share": "0.2"}).run(
        out, quiet=True)
    modes = df["mode"].to_list()
    single = modes.count("think") + modes.count("no_think")
    assert abs(modes.count("think") - 0.5 * single) <= 1 and modes.count("multi_turn") >= 1
    for msgs, mode in zip(df["messages"].to_list(), modes, strict=True):
        text = render(msgs)
        if mode == "no_think":
            assert text.endswith("<|im_end|>\n") and "<think>\n\n</think>\n\n" in text and "/no_think" in text
        if mode == "think":
            assert "/think" in text and "<think>\n\n</think>" not in text
    funnel = {s["stage"]: s for s in json.loads((out / "funnel.json").read_text())["stages"]}
    fuse_stats = funnel["fuse"]
    assert fuse_stats["rows_in"] == fuse_stats["rows_out"] + sum(fuse_stats["dropped"].values())
    import datasets

    loaded = datasets.load_dataset("json", data_files=str(out / "data/fused/train.jsonl"), split="train",
                                   cache_dir=str(tmp_path / "hf"))
    assert len(loaded) == df.height and set(loaded.column_names) >= {"messages", "mode", "domain"}
    card = (out / "README.md").read_text()
    assert "## Thinking / non-thinking mix" in card
    for mode in ("think", "no_think", "multi_turn"):
        assert f"Example ({mode})" in card
