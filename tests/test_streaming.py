"""Sharded, streaming execution (datatrove's local executor): same build as the local runner.

Row stages run per shard and never see the whole table; global stages see only the columns
they declare; a rerun resumes from finished shards and batches.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import ClassVar

import polars as pl
import pytest
from scale_stages import (
    FirstPerBucket,
    LongestFirst,
    NotTooLong,
    ProblemLength,
    assert_same_build,
    logged_ids,
)

from curator import Pipeline
from curator.core.sources import ReadProblems
from curator.core.stage import Stage, StageOutput
from curator.core.stage_cache import CacheEntry
from curator.executors import ProcessesExecutor
from curator.executors.shards import _projection, read_rows, shard_range


def _pipeline(log: str = "") -> Pipeline:
    return Pipeline("scale", ReadProblems(), [NotTooLong(log=log), ProblemLength(), FirstPerBucket(),
                                              LongestFirst()])


def test_shards_cover_every_row_once_in_order(tmp_path):
    files, start = [], 0
    for i, n in enumerate([3, 0, 7, 5]):
        f = tmp_path / f"p{i}.parquet"
        pl.DataFrame({"x": list(range(start, start + n))}, schema={"x": pl.Int64}).write_parquet(f)
        files.append(f)
        start += n
    counts = [3, 0, 7, 5]
    for tasks in (1, 2, 4, 20):
        got = [read_rows(files, counts, *shard_range(15, r, tasks)) for r in range(tasks)]
        assert pl.concat(got)["x"].to_list() == list(range(15))


def test_global_stage_sees_only_declared_columns():
    assert _projection(FirstPerBucket(), ["id", "problem", "samples", "problem_chars"]) == ["id", "problem_chars"]
    assert _projection(FirstPerBucket(), ["id", "problem_chars"]) is None  # nothing to leave out


def test_processes_executor_builds_what_the_local_runner_builds(tmp_path):
    local = _pipeline().run(tmp_path / "local", quiet=True)
    sharded = _pipeline().run(tmp_path / "sharded", executor=ProcessesExecutor(tasks=3, workers=2), quiet=True)
    assert local.equals(sharded)  # same rows in the same order: shards are contiguous, gathered in order
    assert_same_build(tmp_path / "local", tmp_path / "sharded")


def test_local_run_reuses_a_sharded_cache(tmp_path):
    work = tmp_path / "work"
    _pipeline().run(tmp_path / "a", work_dir=work, executor=ProcessesExecutor(tasks=2, workers=1), quiet=True)
    _pipeline().run(tmp_path / "b", work_dir=work, quiet=True)
    assert_same_build(tmp_path / "a", tmp_path / "b")
    assert all(s["cached"] for s in __import__("json").loads((tmp_path / "b/funnel.json").read_text())["stages"][1:])


def test_failed_shard_resumes_without_redoing_finished_ones(tmp_path):
    log = tmp_path / "applied.txt"
    work = tmp_path / "work"

    class Flaky(NotTooLong):
        """Fails on shard 2's rows while a marker file exists (a crash midway)."""

        def reasons(self, df: pl.DataFrame) -> pl.Series:
            if (tmp_path / "crash").exists() and df["id"].is_in(crash_ids).any():
                raise RuntimeError("worker crashed")
            return super().reasons(df)

    table = ReadProblems().load().table
    crash_ids = table["id"][60:62].to_list()  # inside shard 2 of 3
    (tmp_path / "crash").write_text("")
    pipe = Pipeline("scale", ReadProblems(), [Flaky(log=str(log), label="not_too_long"), ProblemLength()])
    with pytest.raises(Exception, match="did not finish|worker crashed"):
        pipe.run(tmp_path / "out", work_dir=work, executor=ProcessesExecutor(tasks=3, workers=1), quiet=True)
    first = logged_ids(log)
    assert set(table["id"][:54].to_list()) <= set(first)  # shards 0 and 1 finished
    (tmp_path / "crash").unlink()
    log.write_text("")
    pipe.run(tmp_path / "out", work_dir=work, executor=ProcessesExecutor(tasks=3, workers=1), quiet=True)
    again = logged_ids(log)
    assert set(again) <= set(table["id"][54:].to_list()), "finished shards were redone"
    assert not set(again) & set(table["id"][54:59].to_list()), "finished batches of the failed shard were redone"
    entry = CacheEntry(next((work / "stages").glob("not_too_long-*")))
    assert entry.complete and entry.kept().height + (entry.rejects().height if entry.rejects() is not None else 0) == 82


# -- sample stages over a Parquet file in bounded memory -------------------------------------------
def _chains() -> pl.DataFrame:
    """Problems with long chains: correct, wrong, truncated, mixed-language, looping, failed."""
    from curator.core.table import SAMPLES_DTYPE, conform

    blank = dict.fromkeys(SAMPLES_DTYPE.inner.to_schema())
    step_en = "We compute the product of {a} and {b} and then subtract {c} to get the value.\n"
    step_zh = "我们先计算{a}乘以{b}，再减去{c}，得到结果。\n"
    rows, golds, langs = [], [], []
    for i in range(23):
        a, b, c = i + 2, i % 5 + 3, i % 4
        gold = str(a * b - c)
        zh = i % 3 == 0
        step = (step_zh if zh else step_en).format(a=a, b=b, c=c)
        body = step * (20 + i)
        final = f"答案是 $\\boxed{{{gold}}}$。" if zh else f"So the answer is $\\boxed{{{gold}}}$."
        chains = [
            {"text": f"<think>{body}</think>{final}", "reasoning": body, "final": final, "finish_reason": "stop"},
            {"text": f"<think>{body}</think>\\boxed{{{int(gold) + 1}}}", "finish_reason": "stop"},
            {"text": f"<think>{body}", "finish_reason": "length", "status": "truncated"},
            {"text": f"<think>{body}Let me double check this step again in English now.{body}</think>{final}"
             if zh else f"<think>{body}我们再检查一遍这个步骤的计算。{body}</think>{final}", "finish_reason": "stop"},
            {"text": f"<think>{'Let me reconsider whether the sum is correct here.' * 60}</think>{final}"},
            {"text": None, "status": "failed"},
        ]
        rows.append([{**blank, "status": "ok", **s} for s in chains[: 3 + i % 4]])
        golds.append(gold if i != 7 else None)
        langs.append(None if i % 5 == 0 else ("zh" if zh else "en"))
    df = conform(pl.DataFrame({"problem": [f"Problem {i}: compute it." if langs[i] != "zh" else f"第{i}题：计算。"
                                           for i in range(len(golds))], "answer": golds, "language": langs}))
    return df.with_columns(pl.Series("samples", rows, dtype=SAMPLES_DTYPE))


def _sample_stages() -> list:
    from curator.answers.verify import Verify
    from curator.selection.rejection_sampling import RejectionSample
    from filters.language import LanguageConsistency
    from filters.readability import Readability

    return [Verify(workers=0), Readability(workers=2), LanguageConsistency(workers=2),
            RejectionSample(policy="random", max_per_problem=1, seed=3)]


def test_streamed_sample_stages_build_what_the_runner_builds(tmp_path):
    from curator.core.streaming import stream_stages

    df = _chains()
    df.write_parquet(tmp_path / "in.parquet")
    expected = Pipeline("s", df, _sample_stages(), finishers=()).run(tmp_path / "run", quiet=True)
    res = stream_stages(_sample_stages(), tmp_path / "in.parquet", tmp_path / "stream", batch_rows=5)
    assert res.batches == 5
    got = res.kept()
    assert got.columns == expected.columns
    assert got.equals(expected)
    runner = json.loads((tmp_path / "run" / "funnel.json").read_text())["stages"][1:]
    for st, ref in zip(res.stats, runner, strict=True):
        assert (st.rows_in, st.rows_out, st.dropped, st.samples_in, st.samples_out, st.samples_dropped) == \
            (ref["rows_in"], ref["rows_out"], ref["dropped"], ref["samples_in"], ref["samples_out"],
             ref["samples_dropped"]), st.stage
    rejects = pl.concat([pl.read_parquet(p) for p in sorted((tmp_path / "stream" / "sample_rejects").rglob("*.parquet"))],
                        how="diagonal_relaxed")
    assert rejects.height == sum(sum(s.samples_dropped.values()) for s in res.stats) - sum(
        s.samples_dropped.get("row dropped", 0) for s in res.stats)


def test_streaming_refuses_global_stages(tmp_path):
    from curator.core.streaming import stream_stages

    _chains().write_parquet(tmp_path / "in.parquet")
    with pytest.raises(ValueError, match="global stage"):
        stream_stages([FirstPerBucket()], tmp_path / "in.parquet", tmp_path / "out")


def test_two_batch_workers_write_the_parts_one_writes(tmp_path):
    from curator.core.streaming import stream_stages

    _chains().write_parquet(tmp_path / "in.parquet")
    one = stream_stages(_sample_stages(), tmp_path / "in.parquet", tmp_path / "one", batch_rows=5)
    two = stream_stages(_sample_stages(), tmp_path / "in.parquet", tmp_path / "two", batch_rows=5, workers=2)
    assert two.batches == one.batches
    assert two.kept().equals(one.kept())
    for a, b in zip(one.stats, two.stats, strict=True):
        assert (a.rows_in, a.rows_out, a.dropped, a.samples_out, a.samples_dropped) == \
            (b.rows_in, b.rows_out, b.dropped, b.samples_out, b.samples_dropped)
    for part in sorted((tmp_path / "one").rglob("part-*.parquet")):
        assert pl.read_parquet(part).equals(pl.read_parquet(tmp_path / "two" / part.relative_to(tmp_path / "one")))


def test_a_global_stage_that_did_not_declare_reads_gets_every_column():
    """A stage reading ``if "answer" in df.columns`` must see the column a local run shows it: the
    sharded Dedup once ranked survivors without gold answers and kept one row more than a local run."""
    from filters.dedup import Dedup

    cols = ["id", "problem", "answer", "solution", "samples", "meta"]
    assert _projection(Dedup(), cols) == ["id", "problem", "answer", "solution"]

    @dataclass
    class Undeclared(Stage):
        scope: ClassVar[str] = "global"
        needs: ClassVar[tuple[str, ...]] = ("problem",)

        def apply(self, df: pl.DataFrame) -> StageOutput:
            return StageOutput(df)

    assert _projection(Undeclared(), cols) is None


@pytest.mark.parametrize("group_rows", [3, 7, 1000])
def test_parquet_batches_give_every_row_once_in_order_whatever_the_row_groups(tmp_path, group_rows):
    from curator.core.streaming import parquet_batches

    path = tmp_path / "t.parquet"
    pl.DataFrame({"x": list(range(100))}).write_parquet(path, row_group_size=group_rows)
    for rows in (1, 10, 32, 500):
        got = list(parquet_batches(path, rows))
        assert pl.concat(got)["x"].to_list() == list(range(100))
        assert all(b.height == rows for b in got[:-1]) and 0 < got[-1].height <= rows
