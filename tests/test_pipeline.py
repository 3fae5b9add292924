"""The runner: funnel accounting, caching, partial reruns, the plan."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import polars as pl
import pytest

from curator import Filter, Map, Pipeline, SampleFilter, Stage, StageOutput
from curator.core.funnel import FunnelError, read_funnel
from curator.core.table import SAMPLES_DTYPE

CALLS: dict[str, int] = {}


def _count(name: str) -> None:
    CALLS[name] = CALLS.get(name, 0) + 1


@dataclass
class DropShort(Filter):
    min_chars: int = 10
    needs: ClassVar[tuple[str, ...]] = ("problem",)

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        _count(self.name)
        return df.select(
            pl.when(pl.col("problem").str.len_chars() < self.min_chars).then(pl.lit("too short")).otherwise(None)
        ).to_series()


@dataclass
class DropWithoutAnswer(Filter):
    needs: ClassVar[tuple[str, ...]] = ("answer",)

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        _count(self.name)
        return df.select(pl.when(pl.col("answer").is_null()).then(pl.lit("no answer")).otherwise(None)).to_series()


@dataclass
class AddLength(Map):
    adds: ClassVar[tuple[str, ...]] = ("length",)
    scale: int = 1

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        _count(self.name)
        return df.with_columns((pl.col("problem").str.len_chars() * self.scale).alias("length"))


@dataclass
class NeedsScore(Map):
    needs: ClassVar[tuple[str, ...]] = ("score",)

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        return df


@dataclass
class LosesRows(Stage):
    scope: ClassVar[str] = "global"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        return StageOutput(df.head(1))


@dataclass
class DropOddSamples(SampleFilter):
    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        return samples.select(
            pl.when(pl.col("sample_idx") % 2 == 1).then(pl.lit("odd sample")).otherwise(None)
        ).to_series()


def problems(n: int = 20) -> pl.DataFrame:
    rows = []
    for i in range(n):
        rows.append({
            "problem": ("short" if i % 4 == 0 else f"a longer problem number {i}"),
            "answer": None if i % 5 == 0 else str(i),
            "source": "test",
        })
    return pl.DataFrame(rows)


def run(stages: list[Stage], out: Path, source: pl.DataFrame | None = None) -> pl.DataFrame:
    return Pipeline("t", problems() if source is None else source, stages).run(out, quiet=True)


def test_funnel_adds_up_with_two_filters(tmp_path: Path) -> None:
    out = run([DropShort(), DropWithoutAnswer(), AddLength()], tmp_path)
    funnel = read_funnel(tmp_path / "funnel.json")
    assert [s.stage for s in funnel] == ["load", "drop_short", "drop_without_answer", "add_length"]
    for s in funnel:
        assert s.rows_in == s.rows_out + sum(s.dropped.values())
    for before, after in zip(funnel, funnel[1:], strict=False):
        assert before.rows_out == after.rows_in
    assert funnel[1].dropped == {"too short": 5}
    assert funnel[2].dropped == {"no answer": 3}  # rows 5 and 15 (0 and 10 were already too short... 10 is long)
    assert out.height == funnel[-1].rows_out == 12
    rejects = pl.read_parquet(tmp_path / "rejects" / "01-drop_short.parquet")
    assert set(rejects.columns) >= {"id", "problem", "stage", "reason"}
    assert rejects["stage"].unique().to_list() == ["drop_short"]


def test_rerun_of_unchanged_pipeline_runs_no_stage(tmp_path: Path) -> None:
    stages = [DropShort(), DropWithoutAnswer(), AddLength()]
    first = run(stages, tmp_path)
    CALLS.clear()
    second = run([DropShort(), DropWithoutAnswer(), AddLength()], tmp_path)
    assert CALLS == {}
    assert all(s.cached for s in read_funnel(tmp_path / "funnel.json")[1:])  # [0]: an in-memory source
    assert first.equals(second)


def test_changing_one_parameter_reruns_that_stage_and_successors_only(tmp_path: Path) -> None:
    run([DropShort(), AddLength(), DropWithoutAnswer()], tmp_path)
    CALLS.clear()
    run([DropShort(), AddLength(scale=2), DropWithoutAnswer()], tmp_path)
    assert CALLS == {"add_length": 1, "drop_without_answer": 1}
    cached = {s.stage: s.cached for s in read_funnel(tmp_path / "funnel.json")}
    assert cached == {"load": False, "drop_short": True, "add_length": False, "drop_without_answer": False}


def test_from_stage_forces_a_rerun_of_that_stage_and_after(tmp_path: Path) -> None:
    p = Pipeline("t", problems(), [DropShort(), AddLength(), DropWithoutAnswer()])
    p.run(tmp_path, quiet=True)
    CALLS.clear()
    p.run(tmp_path, quiet=True, from_stage="add_length")
    assert CALLS == {"add_length": 1, "drop_without_answer": 1}
    with pytest.raises(ValueError, match="no such stage"):
        p.run(tmp_path, quiet=True, from_stage="nope")


def test_dry_run_plan_names_the_missing_column() -> None:
    plan = Pipeline("t", problems(), [AddLength(), NeedsScore()]).plan()
    assert plan.missing == [("needs_score", "score")]
    assert Pipeline("t", problems(), [AddLength()]).plan().missing == []


def test_running_a_pipeline_with_a_missing_column_fails_before_any_stage(tmp_path: Path) -> None:
    CALLS.clear()
    with pytest.raises(ValueError, match="needs column 'score'"):
        run([AddLength(), NeedsScore()], tmp_path)
    assert CALLS == {}


def test_a_stage_that_loses_rows_without_a_reason_fails_loudly(tmp_path: Path) -> None:
    with pytest.raises(FunnelError, match="unaccounted"):
        run([LosesRows()], tmp_path)


def test_sample_filter_keeps_rows_and_counts_dropped_samples(tmp_path: Path) -> None:
    df = problems(4)
    samples = [[{"text": f"s{j}", "seed": j} for j in range(3)] for _ in range(4)]
    df = df.with_columns(pl.Series("samples", samples, dtype=SAMPLES_DTYPE))
    out = run([DropOddSamples()], tmp_path, source=df)
    assert out.height == 4
    assert out["samples"].list.len().to_list() == [2, 2, 2, 2]
    stats = read_funnel(tmp_path / "funnel.json")[1]
    assert stats.samples_in == 12 and stats.samples_out == 8 and stats.samples_dropped == {"odd sample": 4}
    srej = pl.read_parquet(tmp_path / "rejects" / "01-drop_odd_samples.samples.parquet")
    assert srej.height == 4 and set(srej["text"]) == {"s1"}


@dataclass
class FailsOnThirdBatch(Map):
    batch_size: ClassVar[int] = 5
    fail: bool = False
    not_params: ClassVar[tuple[str, ...]] = ("label", "fail")

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        _count("batch")
        if self.fail and CALLS["batch"] == 3:
            raise RuntimeError("boom")
        return df.with_columns(pl.lit(1).alias("seen"))


def test_an_interrupted_row_stage_resumes_at_the_first_unfinished_batch(tmp_path: Path) -> None:
    CALLS.clear()
    with pytest.raises(RuntimeError, match="stage 'fails_on_third_batch' failed on batch 3 of 4"):
        run([FailsOnThirdBatch(fail=True)], tmp_path)
    CALLS.clear()
    out = run([FailsOnThirdBatch(fail=False)], tmp_path)
    assert CALLS["batch"] == 2  # batches 1 and 2 came from the cache
    assert out.height == 20 and out["seen"].sum() == 20


def test_function_stages_are_keyed_by_their_code(tmp_path: Path) -> None:
    from curator import filter_stage
    from curator.core.fingerprint import stage_fingerprint

    def keep_all(df: pl.DataFrame) -> pl.Series:
        return pl.Series([None] * df.height, dtype=pl.String)

    def drop_all(df: pl.DataFrame) -> pl.Series:
        return pl.Series(["x"] * df.height, dtype=pl.String)

    a = stage_fingerprint(filter_stage(keep_all, name="f"), "up")
    b = stage_fingerprint(filter_stage(drop_all, name="f"), "up")
    assert a != b
    assert a == stage_fingerprint(filter_stage(keep_all, name="f"), "up")
    assert a != stage_fingerprint(filter_stage(keep_all, name="f"), "other upstream")
