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
from hypothesis import given, settings
from hypothesis import strategies as hs
from scale_stages import (
    FirstPerBucket,
    LongestFirst,
    NotTooLong,
    ProblemLength,
    assert_same_build,
    logged_ids,
    long_chains,
    sample_row_stages,
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
def test_streamed_sample_stages_build_what_the_runner_builds(tmp_path):
    from curator.core.streaming import stream_stages

    df = long_chains()
    df.write_parquet(tmp_path / "in.parquet")
    expected = Pipeline("s", df, sample_row_stages(), finishers=()).run(tmp_path / "run", quiet=True)
    res = stream_stages(sample_row_stages(), tmp_path / "in.parquet", tmp_path / "stream", batch_rows=5)
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

    long_chains().write_parquet(tmp_path / "in.parquet")
    with pytest.raises(ValueError, match="global stage"):
        stream_stages([FirstPerBucket()], tmp_path / "in.parquet", tmp_path / "out")


def test_two_batch_workers_write_the_parts_one_writes(tmp_path):
    from curator.core.streaming import stream_stages

    long_chains().write_parquet(tmp_path / "in.parquet")
    one = stream_stages(sample_row_stages(), tmp_path / "in.parquet", tmp_path / "one", batch_rows=5)
    two = stream_stages(sample_row_stages(), tmp_path / "in.parquet", tmp_path / "two", batch_rows=5, workers=2)
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


@settings(max_examples=60, deadline=None)
@given(n=hs.integers(0, 60), group_rows=hs.integers(1, 25), rows=hs.integers(1, 30), data=hs.data())
def test_a_batch_read_on_its_own_is_the_batch_read_in_order(tmp_path_factory, n, group_rows, rows, data):
    """Batch workers read their own batches (``ParquetRows``), in whatever order they are given them:
    each must be the frame ``parquet_batches`` yields at that position."""
    from curator.core.streaming import ParquetRows, parquet_batches

    path = tmp_path_factory.mktemp("rows") / "t.parquet"
    pl.DataFrame({"x": list(range(n)), "s": [f"row {i}" * (i % 4) for i in range(n)]}).write_parquet(
        path, row_group_size=group_rows)
    in_order = list(parquet_batches(path, rows))
    reader = ParquetRows(path, rows)
    assert len(reader) == len(in_order) == -(-n // rows)
    order = data.draw(hs.lists(hs.sampled_from(range(len(reader))), max_size=12) if len(reader) else hs.just([]))
    for b in [*range(0, len(reader), 2), *order]:  # one worker's share of a round robin, then any order
        assert reader.batch(b).equals(in_order[b])
    with pytest.raises(IndexError, match="no batch"):
        reader.batch(len(reader))


def test_streaming_an_input_without_rows_or_not_parquet_says_which_file(tmp_path):
    """Nothing from nothing is not a success; a file that is not Parquet is named, not a traceback."""
    from curator.core.io import InputError
    from curator.core.streaming import stream_stages

    long_chains().head(0).write_parquet(tmp_path / "empty.parquet")
    with pytest.raises(InputError, match=r"empty\.parquet: the Parquet file has no rows"):
        stream_stages(sample_row_stages(), tmp_path / "empty.parquet", tmp_path / "out")
    (tmp_path / "chains.jsonl").write_text('{"problem": "x"}\n')
    for workers in (1, 2):
        with pytest.raises(InputError, match=r"chains\.jsonl: not a readable Parquet file"):
            stream_stages(sample_row_stages(), tmp_path / "chains.jsonl", tmp_path / "out", workers=workers)
    with pytest.raises(InputError, match=r"missing\.parquet: not a readable Parquet file"):
        stream_stages(sample_row_stages(), tmp_path / "missing.parquet", tmp_path / "out")
