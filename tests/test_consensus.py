"""curator.selection.consensus and curator.answers.judge: agreement with a reference model, pseudo-labels, a strict judge.

Reference and judge models are reached through the generation layer's openai backend talking
to a real HTTP server on loopback whose answers are scripted per problem.
"""

from __future__ import annotations

import json
import re

import polars as pl
import pytest

from curator import Pipeline
from curator.answers.judge import Judge, parse_verdict
from curator.core.table import SAMPLES_DTYPE, conform
from curator.generation import make_backend
from curator.selection.consensus import Consensus, decide
from tests.servers.openai_fake import serve


def _table(problems, golds, samples=None, extra=None):
    df = conform(pl.DataFrame({"problem": problems, "answer": golds, **(extra or {})}))
    if samples is not None:
        blank = dict.fromkeys(SAMPLES_DTYPE.inner.to_schema())
        full = [[{**blank, "status": "ok", **s} for s in row] for row in samples]
        df = df.with_columns(pl.Series("samples", full, dtype=SAMPLES_DTYPE))
    return df


def test_decide_with_gold():
    assert decide("4", ["4"]).agrees is True
    d = decide("4", ["5"])
    assert (d.agrees, d.reason, d.reference_answer) == (False, "disagrees with reference", "5")
    assert decide("4", [None]).reason == "reference gave no answer"
    assert decide("4", ["4", "4.0", "5"]).reference_frac == pytest.approx(2 / 3)  # maj@3
    assert decide(r"\frac12", ["0.5"]).agrees is True
    assert decide("Prove it by induction.", ["4"]).reason == "ungradable gold"


def test_decide_without_gold_is_a_pseudo_label_above_tau():
    d = decide(None, ["7", "7.0", "8", r"\frac{14}{2}"], tau=0.5)
    assert (d.label, d.reference_frac, d.reason) == ("7", 0.75, None)
    d = decide(None, ["7", "8", "9", "7"], tau=0.6)
    assert d.label is None and "tau=0.6" in d.reason
    assert decide(None, ["7"], pseudo_label=False).reason == "no gold"


def test_stage_from_a_reference_column_records_every_row(tmp_path):
    df = _table(["a", "b", "c", "d"], ["4", "C", None, "10"],
                extra={"ref": ["4", "B", "12", None],
                       "meta": [None, json.dumps({"options": {"B": "x", "C": "y"}}), None, None]})
    out = Pipeline("c", df, [Consensus(reference_column="ref")]).run(tmp_path / "o", quiet=True)
    assert out["problem"].to_list() == ["a", "c"]
    assert out["agrees_with_reference"].to_list() == [True, None]
    assert out["pseudo_label"].to_list() == [False, True]
    assert out["answer"].to_list() == ["4", "12"]
    rejects = pl.read_parquet(tmp_path / "o" / "rejects" / "01-consensus.parquet")
    assert sorted(rejects["reason"].to_list()) == ["disagrees with reference", "reference gave no answer"]
    assert rejects.filter(pl.col("problem") == "b")["reference_answer"].to_list() == ["B"]
    assert rejects.filter(pl.col("problem") == "b")["agrees_with_reference"].to_list() == [False]


def test_stage_pseudo_labels_from_the_rows_own_samples():
    df = _table(["a", "b"], [None, None], samples=[
        [{"text": r"\boxed{3}"}, {"text": r"\boxed{3.0}"}, {"text": r"\boxed{4}"}],
        [{"text": r"\boxed{1}"}, {"text": r"\boxed{2}"}, {"text": r"\boxed{3}"}]])
    out = Consensus(tau=0.6).apply(df)
    assert out.kept["answer"].to_list() == ["3"]
    assert out.kept["reference_frac"].to_list() == [pytest.approx(2 / 3)]
    assert "tau=0.6" in out.rejects["reason"][0]


def _reference_model(req):
    """A scripted reference: right on problems mentioning 'easy', wrong otherwise."""
    prompt = req["messages"][-1]["content"]
    n = int(re.search(r"(\d+) \+ (\d+)", prompt).group(1)) + int(re.search(r"(\d+) \+ (\d+)", prompt).group(2))
    if "easy" not in prompt:
        n += 1 + req["choice_index"] % 2  # wrong, and not even consistently
    return f"<think>adding</think> The sum is \\boxed{{{n}}}."


def test_stage_with_a_backend_greedy_and_maj_at_k(tmp_path):
    df = _table(["easy: 2 + 2", "hard: 3 + 4", "no gold: 1 + 1 easy"], ["4", "7", None])
    with serve(_reference_model) as server:
        backend = make_backend("openai", model="reference", base_url=server.base_url)
        out = Pipeline("c", df, [Consensus(backend=backend)]).run(tmp_path / "o", quiet=True)
        assert out["problem"].to_list() == ["easy: 2 + 2", "no gold: 1 + 1 easy"]
        assert out["reference_answer"].to_list() == ["4", "2"]
        assert out["answer"].to_list() == ["4", "2"]
        first = server.requests
        Pipeline("c", df, [Consensus(backend=backend)]).run(tmp_path / "o", quiet=True)
        assert server.requests == first  # cached stage: no new request
        maj = Consensus(backend=backend, k=4, temperature=0.8, tau=0.75).apply(df)
        assert maj.kept["problem"].to_list() == ["easy: 2 + 2", "no gold: 1 + 1 easy"]
        hard = maj.rejects.filter(pl.col("problem") == "hard: 3 + 4")
        assert hard["reference_frac"].to_list() == [0.5] and hard["agrees_with_reference"].to_list() == [False]


@pytest.mark.parametrize("reply,verdict", [
    ('{"verdict": "correct"}', True),
    ('  {"verdict": "INCORRECT", "reason": "sign"} ', False),
    ('<think>hmm</think>{"verdict": "correct"}', True),
    ('```json\n{"verdict": "correct"}\n```', True),
    ("correct", None),
    ('The verdict is {"verdict": "correct"}', None),
    ('{"verdict": "probably"}', None),
    ('{"verdict": true}', None),
    ('["correct"]', None),
    ("", None),
    (None, None),
])
def test_parse_verdict_is_strict(reply, verdict):
    got, err = parse_verdict(reply)
    assert got is verdict
    assert (err is None) == (verdict is not None)


def _judge(req):
    user = req["messages"][-1]["content"]
    if "Student answer:\nParis" in user:
        return '{"verdict": "correct"}'
    if "Student answer:\nLyon" in user:
        return '{"verdict": "incorrect"}'
    return "I think it is right."  # a judge that ignores the format


def test_judge_stage_fills_only_what_rules_could_not_grade():
    df = _table(["capital of France?", "capital of France?", "2+2"], ["the city of Paris"] * 2 + ["4"], samples=[
        [{"text": "Answer: Paris", "extracted": "Paris", "correct": None},
         {"text": "Answer: Lyon", "extracted": "Lyon", "correct": None}],
        [{"text": "Answer: Nice", "extracted": "Nice", "correct": None}],
        [{"text": r"\boxed{4}", "extracted": "4", "correct": True}]])
    df = df.with_columns(pl.Series("n_correct", [0, 0, 1]), pl.Series("pass_at_1", [0.0, 0.0, 1.0]))
    with serve(_judge) as server:
        out = Judge(backend=make_backend("openai", model="judge", base_url=server.base_url)).apply(df)
        assert server.requests == 3  # the rule-graded sample was not sent
    rows = out.kept["samples"].to_list()
    assert [s["judge_verdict"] for s in rows[0]] == [True, False]
    assert [s["correct"] for s in rows[0]] == [True, False]
    assert rows[1][0]["correct"] is None and "not JSON" in rows[1][0]["judge_error"]
    assert rows[2][0]["correct"] is True and rows[2][0]["judge_verdict"] is None
    assert out.kept["n_correct"].to_list() == [1, None, 1]
    assert out.info == {"judged": 3, "judge_failures": 1, "judge_correct": 1}


def _consensus_judge(req):
    user = req["messages"][-1]["content"]
    if "Reference answer:\nthe city of Paris" in user and "Student answer:\nParis" in user:
        return '{"verdict": "correct"}'
    if "Reference answer:\nSee the proof in the appendix" in user:
        return "It looks fine to me."  # ignores the format: a recorded failure, never a pass
    return '{"verdict": "incorrect"}'


def test_consensus_asks_the_judge_only_where_rules_cannot_decide(tmp_path):
    df = _table(["capital of France?", "capital of Italy?", "prove it", "2 + 2"],
                ["the city of Paris", "Rome", "See the proof in the appendix", "4"],
                extra={"reference": ["Paris", "Milan", "QED", "5"]})
    with serve(_consensus_judge) as server:
        judge = make_backend("openai", model="judge", base_url=server.base_url)
        out = Pipeline("cj", df, [Consensus(reference_column="reference", judge=judge)]).run(tmp_path / "o", quiet=True)
        assert server.requests == 3  # the numeric disagreement (4 vs 5) is the rules' call
        stages = json.loads((tmp_path / "o/funnel.json").read_text())["stages"]
        Pipeline("cj", df, [Consensus(reference_column="reference", judge=judge)]).run(tmp_path / "o", quiet=True)
        assert server.requests == 3  # cached
    assert out["problem"].to_list() == ["capital of France?"]
    assert out["agreement_by"].to_list() == ["judge"] and out["agrees_with_reference"].to_list() == [True]
    rejects = pl.read_parquet(tmp_path / "o/rejects/01-consensus.parquet").sort("problem")
    assert dict(zip(rejects["problem"], rejects["reason"], strict=True)) == {
        "2 + 2": "disagrees with reference",
        "capital of Italy?": "disagrees with reference (judge)",
        "prove it": "ungradable gold; judge: judge reply is not JSON: 'It looks fine to me.'",
    }
    assert dict(zip(rejects["problem"], rejects["agreement_by"], strict=True)) == {
        "2 + 2": "rules", "capital of Italy?": "judge", "prove it": None}
    consensus = next(s for s in stages if s["stage"] == "consensus")
    assert consensus["info"]["judged"] == 3 and consensus["info"]["judge_failures"] == 1
