"""The executors' pieces on their own, without an engine: settings, shard arithmetic, the work
as bytes, the accounting they share with the local runner, and the datatrove methods they extend."""

from __future__ import annotations

import inspect
import json
from pathlib import Path

import polars as pl
import pytest
from hypothesis import given
from hypothesis import strategies as st

from curator.core.accounting import gather_outputs, merge_stats, reason_counts, samples_count, sum_info
from curator.core.funnel import StageStats
from curator.core.io import write_table
from curator.core.stage import Filter, RunContext, StageOutput
from curator.executors.config import ProcessesExecutor, RayExecutor, SlurmExecutor, executor_config
from curator.executors.shards import Segment, Slot, read_rows, run_shard, shard_range
from curator.executors.steps import dumps, loads


class OddFilter(Filter):
    """Drops odd numbers (a real stage, defined in a test file so it travels by value)."""

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        return pl.Series([("odd" if int(p) % 2 else None) for p in df["problem"]], dtype=pl.String)


# -- settings ---------------------------------------------------------------------------------------

def test_executor_config_by_name_keeps_given_options_and_refuses_unknown_names():
    assert executor_config("processes", tasks=8, workers=None) == ProcessesExecutor(tasks=8)
    assert executor_config("ray", address="auto").address == "auto"
    slurm = SlurmExecutor(partition="gpu", submit=False)
    assert executor_config(slurm) is slurm
    with pytest.raises(ValueError, match="unknown executor 'dask'.*processes, ray or slurm"):
        executor_config("dask")
    assert [c.name for c in (ProcessesExecutor(), RayExecutor(), slurm)] == ["processes", "ray", "slurm"]


# -- shard arithmetic -------------------------------------------------------------------------------

@given(st.integers(0, 5000), st.integers(1, 64))
def test_shards_partition_the_rows_in_order(total, tasks):
    ranges = [shard_range(total, r, tasks) for r in range(tasks)]
    assert ranges[0][0] == 0 and ranges[-1][1] == total
    assert all(a[1] == b[0] for a, b in zip(ranges, ranges[1:], strict=False))
    sizes = [hi - lo for lo, hi in ranges]
    assert max(sizes) - min(sizes) <= 1  # balanced to one row


def test_read_rows_crosses_part_boundaries(tmp_path):
    files, counts = [], []
    for i, n in enumerate((3, 0, 4, 2)):
        path = tmp_path / f"part-{i}.parquet"
        write_table(pl.DataFrame({"x": list(range(sum(counts), sum(counts) + n))}, schema={"x": pl.Int64}), path)
        files.append(path)
        counts.append(n)
    assert read_rows(files, counts, 2, 8)["x"].to_list() == [2, 3, 4, 5, 6, 7]
    assert read_rows(files, counts, 9, 9).height == 0


# -- one shard, as a worker runs it ------------------------------------------------------------------

def test_a_shard_runs_from_bytes_and_is_not_redone(tmp_path):
    upstream = tmp_path / "stages" / "load" / "fp"
    upstream.mkdir(parents=True)
    write_table(pl.DataFrame({"problem": [str(i) for i in range(10)]}), upstream / "part-00000.kept.parquet")
    stage = OddFilter()
    slot = Slot(1, stage, "fp1", tmp_path / "stages" / "odd_filter" / "fp1")
    segment = Segment([slot], upstream, tasks=2, key="01-odd")
    ctx = RunContext(tmp_path, tmp_path / "out")
    seg2, ctx2 = loads(dumps((segment, ctx)))  # what a datatrove worker receives
    stats = run_shard(seg2, 1, ctx2)[0]
    assert (stats.rows_in, stats.rows_out, stats.dropped) == (5, 2, {"odd": 3})  # rows 5..9
    counts = slot.entry.shard(segment.shard_name(1)).root / "counts.json"
    assert json.loads(counts.read_text())["rows_out"] == 2
    again = run_shard(seg2, 1, ctx2)[0]  # finished: read back, not recomputed
    assert again == stats


# -- the accounting both runners use ------------------------------------------------------------------

def test_shard_stats_add_up_to_the_whole_stage():
    df = pl.DataFrame({"problem": [str(i) for i in range(10)]})
    stage = OddFilter()
    whole = gather_outputs(stage, "fp", [stage.apply(df)], rows_in=10, samples_in=0)[1]
    parts = [gather_outputs(stage, "fp", [stage.apply(df.slice(o, 5))], rows_in=5, samples_in=0)[1] for o in (0, 5)]
    merged = merge_stats(stage, "fp", parts)
    merged.check()
    assert (merged.rows_in, merged.rows_out, merged.dropped) == (whole.rows_in, whole.rows_out, whole.dropped)


def test_counts_of_reasons_samples_and_info():
    rej = pl.DataFrame({"reason": ["a", "b", "a"], "samples": [[{"t": 1}], [], [{"t": 2}, {"t": 3}]]})
    assert reason_counts(rej) == {"a": 2, "b": 1} and reason_counts(None) == {}
    assert samples_count(rej) == 3 and samples_count(pl.DataFrame({"x": [1]})) == 0
    assert sum_info([{"n": 1, "flag": True}, {"n": 2, "flag": False}]) == {"n": 3, "flag": False}


def test_dropped_rows_take_their_samples_with_them():
    out = StageOutput(pl.DataFrame({"samples": [[{"t": 1}]]}),
                      pl.DataFrame({"samples": [[{"t": 2}, {"t": 3}]], "reason": ["x"]}))
    _, stats = gather_outputs(OddFilter(), "fp", [out], rows_in=2, samples_in=3)
    assert stats.samples_dropped == {"row dropped": 2}
    stats.check()
    assert isinstance(stats, StageStats)


# -- datatrove: the two methods the quiet executors extend ---------------------------------------------

def test_the_extended_datatrove_methods_have_the_signatures_we_call():
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.executor.ray import RayPipelineExecutor

    local = inspect.signature(LocalPipelineExecutor._launch_run_for_rank)
    assert list(local.parameters)[:5] == ["self", "rank", "ranks_q", "completed", "completed_lock"]
    ray = inspect.signature(RayPipelineExecutor._run_for_rank)
    assert list(ray.parameters)[:4] == ["self", "rank", "local_rank", "node_rank"]


def test_pyproject_pins_the_datatrove_that_is_tested():
    import re
    from importlib.metadata import version

    from packaging.specifiers import SpecifierSet

    text = (Path(__file__).resolve().parents[1] / "pyproject.toml").read_text()
    spec = SpecifierSet(re.search(r'"datatrove([^"]*)"', text)[1])
    assert any(s.operator == "<" for s in spec), "datatrove needs an upper bound: curator.executors.quiet extends private methods"
    assert version("datatrove") in spec
