"""curator.answers.verify: grading in worker processes, a per-item wall-clock limit, isolation."""

from __future__ import annotations

import json
import os
import threading
import time

import polars as pl
import pytest

from curator.answers.verify import TIMEOUT, Verify, VerifyPool, grade_item, row_kind
from curator.core.table import SAMPLES_DTYPE, conform

#: sympy builds this tower exactly; math-verify's comparison never comes back on its own
PATHOLOGICAL = r"The answer is \boxed{10^{10^{10^{10}}}}"


def crash_worker(code: int) -> None:
    """Dies the way a segfaulting C extension would: no exception, no cleanup."""
    os._exit(code)


def worker_pid() -> int:
    return os.getpid()


@pytest.fixture(scope="module")
def pool():
    with VerifyPool(workers=2, timeout_s=1.5) as p:
        yield p


def _items(n: int) -> list[tuple]:
    return [(f"so \\boxed{{{i}}}", str(i), "math", None) for i in range(n)]


def test_pathological_latex_costs_one_timeout_and_the_batch_is_graded(pool):
    items = _items(120)
    items[30] = (PATHOLOGICAL, "1", "math", None)
    items[31] = (PATHOLOGICAL, "2", "math", None)
    before = pool.timeouts
    t0 = time.monotonic()
    out = pool.map(grade_item, items)
    elapsed = time.monotonic() - t0
    assert [o.error for o in out[30:32]] == [TIMEOUT, TIMEOUT]
    assert pool.timeouts - before == 2
    others = [o for i, o in enumerate(out) if i not in (30, 31)]
    assert all(o.error is None and o.value == (str(i), True) for i, o in
               zip([i for i in range(120) if i not in (30, 31)], others, strict=True))
    assert elapsed < 2 * 1.5 + 10  # two time-outs, run back to back on one worker at worst


def test_the_pool_keeps_working_after_killing_workers(pool):
    out = pool.map(grade_item, _items(40))
    assert all(o.value[1] is True for o in out)


def test_a_crashing_worker_is_an_error_for_its_item_only(pool):
    out = pool.map(crash_worker, [(3,)])
    assert out[0].error is not None and "worker died" in out[0].error
    assert [o.value[1] for o in pool.map(grade_item, _items(5))] == [True] * 5


def test_grading_runs_in_other_processes_and_works_from_a_thread(pool):
    pids = {o.value for o in pool.map(worker_pid, [()] * 200)}
    assert os.getpid() not in pids
    result: dict[str, object] = {}

    def in_thread() -> None:  # math-verify's signal.alarm would raise here; the pool doesn't care
        result["out"] = pool.map(grade_item, [(r"\boxed{\frac{1}{2}}", "0.5", "math", None)])

    t = threading.Thread(target=in_thread)
    t.start()
    t.join(60)
    assert result["out"][0].value == (r"\frac{1}{2}", True)


def test_exceptions_inside_items_are_recorded(pool):
    out = pool.map(grade_item, [(r"\boxed{1}", "1", "no-such-kind", None)])
    assert out[0].value is None and "ValueError" in out[0].error


def test_inline_mode_grades_in_process():
    with VerifyPool(workers=0) as p:
        assert p.map(grade_item, _items(3))[2].value == ("2", True)


def test_row_kind_reads_meta():
    assert row_kind(json.dumps({"options": {"A": "1"}}), "math") == ("choice", {"A": "1"})
    assert row_kind(json.dumps({"answer_kind": "text"}), "math") == ("text", None)
    assert row_kind(None, "math") == ("math", None)
    assert row_kind("not json", "math") == ("math", None)


def _table(golds, samples, metas=None):
    df = conform(pl.DataFrame({"problem": [f"p{i}" for i in range(len(golds))], "answer": golds,
                               "meta": metas or [None] * len(golds)}))
    blank = dict.fromkeys(SAMPLES_DTYPE.inner.to_schema())
    full = [[{**blank, "status": "ok", **s} for s in row] for row in samples]
    return df.with_columns(pl.Series("samples", full, dtype=SAMPLES_DTYPE))


def test_verify_stage_fills_samples_and_row_columns():
    df = _table(["4", "C", None, r"\frac12", "9"], [
        [{"text": r"\boxed{4}"}, {"text": r"\boxed{5}"}, {"text": None, "status": "failed"}, {"text": "4"}],
        [{"text": "the answer is (C)"}, {"text": r"\boxed{29}"}],
        [{"text": r"\boxed{1}"}],
        [{"text": "<think>x</think>", "final": r"\boxed{0.5}"}, {"text": r"\boxed{50\%}"}, {"text": r"\boxed{1/3}"}],
        [{"text": PATHOLOGICAL}, {"text": r"\boxed{9}"}],
    ], [None, json.dumps({"options": {"A": "21", "C": "29"}}), None, None, None])
    stage = Verify(ks=(1, 2), timeout_s=1.5)
    out = stage.apply(df)
    kept = out.kept
    assert kept.height == df.height
    assert kept["n_samples"].to_list() == [3, 2, 1, 3, 2]
    assert kept["n_correct"].to_list() == [1, 2, None, 2, 1]
    assert kept["pass_rate"].to_list()[:2] == [pytest.approx(1 / 3), 1.0]
    assert kept["pass_at_2"].to_list()[0] == pytest.approx(2 / 3)
    assert kept["maj_answer"].to_list()[3] == "0.5" and kept["maj_frac"][3] == pytest.approx(2 / 3)
    assert kept["maj_correct"].to_list() == [True, True, None, True, True]  # the timed-out sample has no vote
    first = kept["samples"][0].to_list()
    assert [s["extracted"] for s in first] == ["4", "5", None, None]
    assert [s["correct"] for s in first] == [True, False, None, False]
    last = kept["samples"][4].to_list()
    assert last[0]["verify_error"] == TIMEOUT and last[0]["correct"] is None
    assert out.info["verify_timeouts"] == 1 and out.info["ungradable_rows"] == 1
    assert "pass_at_2" in stage.columns_added()


def test_verify_stage_in_a_pipeline(tmp_path):
    from curator import Pipeline

    df = _table(["4", "5"], [[{"text": r"\boxed{4}"}], [{"text": r"\boxed{4}"}, {"text": r"\boxed{5}"}]])
    out = Pipeline("v", df, [Verify(ks=(1,))]).run(tmp_path / "out", quiet=True)
    assert out["pass_rate"].to_list() == [1.0, 0.5]
    funnel = json.loads((tmp_path / "out" / "funnel.json").read_text())
    assert "verify_timeouts" in json.dumps(funnel)


# -- the tail and the shared verdicts change nothing ------------------------------------------------
from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

from curator.answers.grading import extract_answer  # noqa: E402
from curator.answers.verify import response_tail, sample_response  # noqa: E402

PIECES = ["<think>", "</think>", "\\boxed{4}", "\\boxed{", "}", "The answer is 5.", "答案是 7。", " ", "\n", "x = 3",
          "Final answer: $\\frac12$", "(C)", "answer is B", "\\fbox{9}", ", \\boxed{2}", "so"]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(PIECES), max_size=12).map("".join), st.sampled_from(["math", "choice", "text"]))
def test_extraction_from_the_tail_is_extraction_from_the_whole(text, kind):
    assert extract_answer(response_tail(text), kind) == extract_answer(text, kind)


def test_the_tail_of_a_long_chain_is_short():
    chain = "<think>" + "We keep checking the sum. " * 2000 + "</think>\nSo the answer is $\\boxed{4}$."
    assert response_tail(chain) == "</think>\nSo the answer is $\\boxed{4}$."
    assert response_tail(None) is None and response_tail("") == ""


def test_verify_stage_grades_as_the_per_sample_loop():
    golds = ["4", "C", None, r"\frac12", "9", "7", "12"]
    rows = [
        [{"text": r"\boxed{4}"}, {"text": r"\boxed{5}"}, {"text": None, "status": "failed"}, {"text": "4"}],
        [{"text": "the answer is (C)"}, {"text": r"\boxed{29}"}, {"text": "B"}],
        [{"text": r"\boxed{1}"}],
        [{"text": "<think>x</think>", "final": r"\boxed{0.5}"}, {"text": r"\boxed{50\%}"}, {"text": r"\boxed{1/3}"}],
        [{"text": r"\boxed{9}"}, {"text": r"<think>long \boxed{8}</think>   "}, {"text": "<think>never closed"}],
        [{"text": "<think>" + "so 7 " * 500 + "</think> The answer is 7."}] * 3 + [{"text": r"\boxed{7.0}"}],
        [],
    ]
    metas = [None, json.dumps({"options": {"A": "21", "C": "29"}}), None, None, None, None, None]
    df = _table(golds, rows, metas)
    kept = Verify(ks=(1,), workers=0).apply(df).kept
    kinds = [row_kind(m, "math") for m in metas]
    for r, samples in enumerate(kept["samples"].to_list()):
        for s in samples:
            if s["status"] == "failed":
                assert (s["extracted"], s["correct"], s["verify_error"]) == (None, None, None)
                continue
            expected = grade_item(sample_response(s), golds[r], *kinds[r])
            assert (s["extracted"], s["correct"], s["verify_error"]) == (*expected, None), (r, s["text"])
    assert kept["samples"].dtype == Verify(ks=(1,), workers=0).apply(df.head(1)).kept["samples"].dtype


def _pass_columns_loop(df: pl.DataFrame, ks, gradable) -> pl.DataFrame:
    """The per-row Python loop ``pass_columns`` replaced (judge and code grading used it)."""
    from curator.answers.grading import pass_at_k

    n_s, n_c, rate, at = [], [], [], {k: [] for k in ks}
    for samples, ok in zip(df["samples"].to_list(), gradable, strict=True):
        used = [s for s in samples or [] if s.get("status") != "failed"]
        n = len(used)
        c = sum(1 for s in used if s.get("correct") is True) if ok else None
        n_s.append(n)
        n_c.append(c)
        rate.append(c / n if c is not None and n else None)
        for k in ks:
            at[k].append(pass_at_k(n, c, k) if c is not None and n >= k else None)
    cols = [pl.Series("n_samples", n_s, pl.Int64), pl.Series("n_correct", n_c, pl.Int64),
            pl.Series("pass_rate", rate, pl.Float64)]
    return df.with_columns(cols + [pl.Series(f"pass_at_{k}", v, pl.Float64) for k, v in at.items()])


_SAMPLE = st.fixed_dictionaries({"status": st.sampled_from([None, "ok", "truncated", "failed"]),
                                 "correct": st.sampled_from([None, True, False])})


@settings(max_examples=60, deadline=None)
@given(st.lists(st.one_of(st.none(), st.lists(_SAMPLE, max_size=5)), max_size=6), st.data())
def test_pass_columns_from_rows_or_exploded_samples_is_the_per_row_loop(rows, data):
    from curator.answers.verify import pass_columns
    from curator.core.samples import explode_samples

    dtype = pl.List(pl.Struct({"status": pl.String, "correct": pl.Boolean}))
    df = pl.DataFrame({"id": [str(i) for i in range(len(rows))], "samples": pl.Series(rows, dtype=dtype)})
    gradable = data.draw(st.lists(st.booleans(), min_size=len(rows), max_size=len(rows)))
    ks = (1, 2, 4)
    want = _pass_columns_loop(df, ks, gradable)
    assert pass_columns(df, ks, gradable).equals(want)
    assert pass_columns(df, ks, gradable, explode_samples(df)).equals(want)
    assert pass_columns(df, ks, gradable).schema == want.schema
