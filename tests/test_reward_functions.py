"""curator.rewards: the functions verl, TRL and OpenRLHF call grade exactly like the curation stages."""

from __future__ import annotations

import json
import multiprocessing as mp
import time
from concurrent.futures import ProcessPoolExecutor, ThreadPoolExecutor

import polars as pl
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.answers import grade
from curator.answers.verify import Verify
from curator.core.table import SAMPLES_DTYPE
from curator.publish.exports import GRPOPrompts, VerlParquet
from curator.rewards import openrlhf_reward, trl_reward
from curator.rewards.batch import RewardGrader, grading_view, shared_grader
from curator.rewards.rules import (
    answer_tag_format,
    answer_tag_response,
    check_weights,
    language_consistency,
    soft_overlong,
)
from curator.rewards.verl_reward import KEYS, compute_score, compute_score_batch
from filters.language import target_language_ratio

#: sympy builds this tower exactly; math-verify's comparison never comes back on its own
PATHOLOGICAL = r"<think>x</think> The answer is \boxed{10^{10^{10^{10}}}}"
OPTIONS = {"A": "21", "B": "29", "C": "31", "D": "35"}


def sample(text: str) -> dict:
    return {"text": text, "status": "ok"}


def pool_table() -> pl.DataFrame:
    """Items in the layouts of MATH, MedQA/TAL-SCQ5K (choice with option texts) and CMath (Chinese)."""
    rows = [
        {"id": "thousands", "problem": "How many grams are in 1 kg?", "answer": "1000", "meta": None,
         "samples": [sample("<think>1 kg is 1000 g</think> The answer is \\boxed{1,000}."),
                     sample("<think>hmm</think> \\boxed{100}"), sample("<think>1 kg is 1000 g and")]},
        {"id": "units", "problem": "A square has area 25 cm^2. What is its side?", "answer": "5", "meta": None,
         "samples": [sample("<think>sqrt 25</think> \\boxed{5\\text{ cm}}"), sample("<think>x</think> \\boxed{25}")]},
        {"id": "interval", "problem": "Solve 1 < x <= 2.", "answer": "(1,2]", "meta": None,
         "samples": [sample("<think>x</think> \\boxed{(1, 2]}"), sample("<think>x</think> \\boxed{[1, 2]}")]},
        {"id": "choice", "problem": "Which is prime and between 25 and 30?", "answer": "B",
         "meta": json.dumps({"options": OPTIONS}),
         "samples": [sample("<think>29 is prime</think> \\boxed{B}"), sample("<think>so</think> The answer is 29."),
                     sample("<think>x</think> \\boxed{A}")]},
        {"id": "cmath", "problem": "小明有3盒铅笔，每盒4支，一共有多少支？", "answer": "12", "meta": None,
         "samples": [sample("<think>每盒4支，3盒就是12支。</think>所以答案是12支。"),
                     sample("<think>3 boxes of 4</think> \\boxed{7}")]},
        {"id": "proof", "problem": "Prove that there are infinitely many primes.", "answer": "See the proof above.",
         "meta": None, "samples": [sample("<think>Euclid</think> \\boxed{\\infty}")]},
    ]
    return pl.DataFrame(rows).with_columns(pl.col("samples").cast(SAMPLES_DTYPE))


# -- rules ----------------------------------------------------------------------------------


@given(st.integers(0, 5000), st.integers(1, 4000), st.integers(0, 4000))
def test_soft_overlong_is_dapos_formula(length, max_length, cache):
    cache = min(cache, max_length)
    got = soft_overlong(length, max_length, cache)
    start = max_length - cache
    if length <= start:
        assert got == 0.0
    elif length <= max_length:
        assert got == pytest.approx((start - length) / cache)
    else:
        assert got == -1.0
    assert -1.0 <= got <= 0.0
    assert soft_overlong(length + 1, max_length, cache) <= got  # longer never scores better


def test_language_reward_is_the_filters_ratio_on_the_reasoning():
    text = "<think>我们先计算。Let me check this. 所以是 4。</think> The answer is \\boxed{4}."
    reasoning = "我们先计算。Let me check this. 所以是 4。"
    assert language_consistency(text, "zh") == target_language_ratio(reasoning, "zh")
    assert 0 < language_consistency(text, "zh") < 1
    assert language_consistency(text, None) is None


@pytest.mark.parametrize("text,fmt,graded", [
    ("<think>2+2</think>\n<answer>4</answer>", 1.0, "\\boxed{4}"),
    ("<think>2+2</think><answer>\\boxed{4}</answer>", 1.0, "\\boxed{4}"),
    ("2+2</think> <answer>4</answer>", 1.0, "\\boxed{4}"),  # the template opened <think>
    ("<think>2+2</think> The answer is 4", 0.0, None),
    ("<answer>4</answer>", 0.0, "\\boxed{4}"),
    ("<think>2+2</think><answer> </answer>", 0.0, None),
    ("<think>a</think><answer>4</answer> trailing", 0.0, "\\boxed{4}"),
])
def test_answer_tag_variant(text, fmt, graded):
    assert answer_tag_format(text) == fmt
    assert answer_tag_response(text) == graded


_PLAIN = st.text(st.characters(blacklist_characters="<>", blacklist_categories=("Cs",)), min_size=1, max_size=40)


@given(_PLAIN, _PLAIN, st.sampled_from(["zh", "en", "ru"]))
def test_answer_tag_and_language_invariants(reasoning, answer, target):
    text = f"<think>{reasoning}</think><answer>{answer}</answer>"
    expected = 1.0 if reasoning.strip() and answer.strip() else 0.0
    assert answer_tag_format(text) == expected
    graded = answer_tag_response(text)
    assert graded is None if not answer.strip() else answer.strip() in graded
    ratio = language_consistency(text, target)
    assert 0.0 <= ratio <= 1.0 and ratio == target_language_ratio(reasoning, target)
    assert trl_reward.completion_text([{"role": "assistant", "content": text}]) == text


_PIECES = st.sampled_from(["<think>", "</think>", " so ", "\\boxed{4}", "\\boxed{5}", "The answer is 4.", "答案是4",
                           "(B)", "\n", "$x=4$", "<answer>4</answer>", "wait", "", "  "])


@settings(deadline=None, max_examples=200)  # the first call imports math-verify
@given(st.lists(_PIECES, max_size=8).map("".join), st.sampled_from([("4", "math", None), ("B", "choice", OPTIONS)]))
def test_grading_view_never_changes_the_grade(text, case):
    gold, kind, options = case
    assert grade(grading_view(text), gold, kind, options=options) == grade(text, gold, kind, options=options)


def test_unknown_weight_names_are_an_error():
    with pytest.raises(ValueError, match="unknown part"):
        check_weights({"acuracy": 1.0})


# -- verl -----------------------------------------------------------------------------------


def test_compute_score_grades_like_grade_and_returns_floats():
    cases = [("<think>x</think> \\boxed{1,000}", "1000", None), ("\\boxed{29}", "B", {"options": json.dumps(OPTIONS)}),
             ("所以答案是12支。", "12", {"language": "zh"}), ("<think>x</think>\\boxed{7}", "12", None)]
    for text, gold, info in cases:
        got = compute_score("lighteval/MATH", text, gold, info)
        assert set(got) == set(KEYS) and all(isinstance(v, float) for v in got.values())
        options = json.loads(info["options"]) if info and "options" in info else None
        assert got["acc"] == float(grade(text, gold, "choice" if options else "math", options=options))
        assert got["score"] == got["acc"]  # default weights: accuracy only


def test_compute_score_weights_and_overlong_from_reward_kwargs():
    info = {"language": "en", "max_response_length": 10}
    got = compute_score("x", "<think>so</think> \\boxed{4}", "4", info,
                        weights={"accuracy": 1, "format": 0.5, "overlong": 1})
    assert got["overlong"] == 0.0 and got["score"] == 1.5  # no tokenizer: length unknown, no penalty


def test_verl_batch_reads_our_parquet_and_matches_the_pools_pass_rate(tmp_path):
    df = pool_table()
    verified = Verify(workers=2, timeout_s=5).apply(df).kept
    files = VerlParquet(max_response_length=4096).write(df, tmp_path)
    rows = pq.read_table(tmp_path / files[0].path).to_pylist()
    assert rows[3]["extra_info"]["answer_kind"] == "choice" and json.loads(rows[3]["extra_info"]["options"]) == OPTIONS
    assert rows[4]["extra_info"]["language"] == "zh" and rows[0]["extra_info"]["max_response_length"] == 4096
    assert rows[0]["data_source"] == "lighteval/MATH"
    texts, golds, infos, where = [], [], [], []
    for r, (row, samples) in enumerate(zip(rows, df["samples"].to_list(), strict=True)):
        for s in samples:
            texts.append(s["text"])
            golds.append(row["reward_model"]["ground_truth"])
            infos.append(row["extra_info"])
            where.append(r)
    scores = compute_score_batch([rows[w]["data_source"] for w in where], texts, golds, infos)
    for r, rate in enumerate(verified["pass_rate"].to_list()):
        acc = [s["acc"] for s, w in zip(scores, where, strict=True) if w == r]
        if rate is None:
            assert verified["id"][r] == "proof"
        else:
            assert sum(acc) / len(acc) == pytest.approx(rate), verified["id"][r]


# -- TRL ------------------------------------------------------------------------------------


def test_trl_accuracy_mean_equals_pass_rate_for_plain_and_conversational(tmp_path):
    df = pool_table()
    verified = Verify(workers=2, timeout_s=5).apply(df).kept
    rows = GRPOPrompts().rows(df)
    for conversational in (False, True):
        for r, samples in enumerate(df["samples"].to_list()):
            n = len(samples)
            texts = [s["text"] for s in samples]
            completions = [[{"role": "assistant", "content": t}] for t in texts] if conversational else texts
            cols = {c: [rows[c][r]] * n for c in ("answer", "answer_kind", "options", "language", "solution")}
            rewards = trl_reward.accuracy_reward(completions, prompts=[rows["prompt"][r]] * n, **cols)
            rate = verified["pass_rate"][r]
            if rate is None:
                assert rewards == [None] * n
            else:
                assert sum(rewards) / n == pytest.approx(rate), rows["answer"][r]


def test_trl_reward_funcs_and_weights():
    funcs, weights = trl_reward.reward_funcs({"accuracy": 1.0, "format": 0.2, "overlong": 0.5}, max_length=8,
                                             cache_length=4)
    assert [f.__name__ for f in funcs] == ["accuracy_reward", "think_format_reward", "soft_overlong_reward"]
    assert weights == [1.0, 0.2, 0.5]
    completions = ["<think>a</think> \\boxed{4}", "\\boxed{5}"]
    ids = [[1] * 3, [1] * 7]
    kw = {"answer": ["4", "4"], "completion_ids": ids}
    assert [f(completions, **kw) for f in funcs] == [[1.0, 0.0], [1.0, 0.0], [0.0, -0.75]]
    combined = trl_reward.combined_reward({"accuracy": 1.0, "format": 0.2, "overlong": 0.5}, max_length=8,
                                          cache_length=4)
    assert combined(completions, **kw) == pytest.approx([1.2, -0.375])


def test_trl_answer_tag_variant():
    funcs, _ = trl_reward.reward_funcs({"accuracy": 1, "format": 1}, answer_format="answer_tag")
    completions = ["<think>2+2</think><answer>4</answer>", "<think>2+2</think><answer>5</answer>", "4"]
    assert [f(completions, answer=["4"] * 3) for f in funcs] == [[1.0, 0.0, 0.0], [1.0, 1.0, 0.0]]


# -- OpenRLHF -------------------------------------------------------------------------------


def test_openrlhf_reward_func_reads_our_labels():
    rows = GRPOPrompts().rows(pool_table())
    prompt = "User: which is prime?\nAssistant: "
    queries = [prompt + "<think>29 is prime</think> \\boxed{B}", prompt + "<think>x</think> \\boxed{C}"]
    label = rows["label"][3]
    assert json.loads(label)["answer_kind"] == "choice"
    out = openrlhf_reward.reward_func(queries, [prompt, prompt], [label, label])
    assert out["rewards"].tolist() == [1.0, 0.0] and out["scores"].tolist() == [1.0, 0.0]
    assert set(out["extra_logs"]) == {"accuracy", "format"}
    plain = openrlhf_reward.reward_func(["Q: 1+1? A: \\boxed{2}"], ["Q: 1+1? A: "], ["2"])
    assert plain["rewards"].tolist() == [1.0]


# -- safe inside a trainer --------------------------------------------------------------------


def _batch(n: int = 24) -> tuple[list[str], list[str]]:
    texts = [f"<think>t</think> \\boxed{{{i % 7}}}" for i in range(n)]
    return texts, [str(i % 5) for i in range(n)]


def _expected(texts: list[str], golds: list[str]) -> list[float]:
    return [float(grade(t, g)) for t, g in zip(texts, golds, strict=True)]


def _acc_in_child(args: tuple[list[str], list[str]]) -> list[float]:
    return [s["acc"] for s in compute_score_batch([None] * len(args[0]), args[0], args[1], None)]


def test_time_limit_holds_when_called_from_threads():
    texts, golds = _batch()
    texts[3] = PATHOLOGICAL
    grader = RewardGrader(workers=2, timeout_s=1.5)
    try:
        t0 = time.monotonic()
        with ThreadPoolExecutor(2) as ex:
            futs = [ex.submit(grader.grade, texts, golds, ["math"] * len(texts), [None] * len(texts))
                    for _ in range(2)]
            results = [f.result(timeout=60) for f in futs]
        assert time.monotonic() - t0 < 30
        for res in results:
            assert res[3].error == "timeout" and res[3].accuracy == 0.0
            assert [g.accuracy for i, g in enumerate(res) if i != 3] == [
                e for i, e in enumerate(_expected(texts, golds)) if i != 3]
        assert grader.timeouts == 2
    finally:
        grader.close()


def test_time_limit_holds_in_a_process_pool_and_plain_pools_grade():
    texts, golds = _batch()
    slow = list(texts)
    slow[5] = PATHOLOGICAL
    with ProcessPoolExecutor(1, mp_context=mp.get_context("spawn")) as ex:
        got = ex.submit(_acc_in_child, (slow, golds)).result(timeout=120)
    assert got[5] == 0.0 and got[:5] == _expected(texts, golds)[:5]
    with mp.get_context("spawn").Pool(1) as pool:  # daemonic workers: graded in-process under the alarm
        assert pool.apply(_acc_in_child, ((texts, golds),)) == _expected(texts, golds)


def test_shared_grader_is_one_per_setting():
    assert shared_grader() is shared_grader()
    assert shared_grader(workers=0) is not shared_grader()


def test_docstring_examples_run():
    import doctest

    from curator.rewards import batch, rules, scoring

    for module in (batch, rules, scoring):
        result = doctest.testmod(module)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_code_rows_are_scored_by_their_tests_in_the_same_batch(tmp_path):
    tests = json.dumps({"inputs": ["1\n", "5\n"], "outputs": ["2\n", "6\n"]})
    df = pl.DataFrame([
        {"id": "inc", "problem": "Read n and print n+1.", "answer": None, "tests": tests,
         "meta": json.dumps({"answer_kind": "code"})},
        {"id": "add", "problem": "What is 2+2?", "answer": "4", "tests": None, "meta": None},
    ])
    rows = pq.read_table(tmp_path / VerlParquet(ability="code").write(df, tmp_path)[0].path).to_pylist()
    assert rows[0]["extra_info"]["answer_kind"] == "code" and rows[0]["reward_model"]["ground_truth"] == tests
    right = "<think>x</think>\n```python\nprint(int(input()) + 1)\n```"
    wrong = "<think>x</think>\n```python\nprint(0)\n```"
    got = compute_score_batch([r["data_source"] for r in rows] * 2, [right, "\\boxed{4}", wrong, "\\boxed{5}"],
                              [r["reward_model"]["ground_truth"] for r in rows] * 2, [r["extra_info"] for r in rows] * 2)
    assert [g["acc"] for g in got] == [1.0, 1.0, 0.0, 0.0]
    grpo = GRPOPrompts().rows(df)
    assert trl_reward.accuracy_reward([right, wrong], **{c: [grpo[c][0]] * 2 for c in grpo.columns}) == [1.0, 0.0]
