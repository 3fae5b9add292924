"""Curriculum splits: ordered by difficulty, disjoint or cumulative, written one file per stage."""

from __future__ import annotations

import json

import numpy as np
import polars as pl
import pytest

from curator.core.pipeline import Pipeline
from curator.selection.curriculum import Curriculum, CurriculumOutput, assign_splits, iter_splits
from curator.selection.difficulty import Difficulty


def rated(n: int = 500, seed: int = 0) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    # pass rates from 16 samples: only 17 distinct values, so ties across stage boundaries are common
    rates = rng.integers(0, 17, n) / 16
    return pl.DataFrame({"id": [f"{i:05d}" for i in range(n)], "problem": [f"p{i}" for i in range(n)],
                         "pass_rate": rates, "difficulty": 1 - rates})


@pytest.mark.parametrize("n_stages", [2, 5])
def test_disjoint_stages_are_ordered_and_partition_the_table(n_stages):
    out = assign_splits(rated(), n_stages, "disjoint")
    assert out["splits"].list.len().max() == 1
    ranges = (out.group_by("split").agg(pl.col("difficulty").min().alias("lo"), pl.col("difficulty").max().alias("hi"),
                                        pl.len().alias("n")).sort("split"))
    assert ranges["split"].to_list() == [f"stage{i + 1}" for i in range(n_stages)]
    assert (ranges["hi"].head(n_stages - 1).to_numpy() < ranges["lo"].tail(n_stages - 1).to_numpy()).all()
    assert ranges["n"].sum() == 500


def test_cumulative_stages_nest():
    out = assign_splits(rated(), 3, "cumulative")
    parts = {name: set(part["id"]) for name, part in iter_splits(out, "splits")}
    assert parts["stage1"] < parts["stage2"] < parts["stage3"]
    assert parts["stage3"] == set(out["id"])
    # one row per problem: the table did not grow, ``split`` is where a row enters
    assert out.height == 500
    assert set(out.filter(pl.col("split") == "stage1")["id"]) == parts["stage1"]


def test_light_r1_everything_then_hardest_n():
    df = rated()
    out = assign_splits(df, hardest_n=40, names=("all", "hard"))
    parts = dict(iter_splits(out, "splits"))
    assert parts["all"].height == 500 and parts["hard"].height == 40
    assert parts["hard"]["difficulty"].min() >= df["difficulty"].sort(descending=True)[39]


def test_difficulty_edges_and_rows_without_difficulty_are_rejected():
    df = pl.DataFrame({"id": list("abcde"), "difficulty": [0.1, 0.4, 0.5, 0.9, None]})
    out = Curriculum(n_stages=2, edges=(0.0, 0.5, 1.0), names=("easy", "hard")).apply(df)
    assert out.kept["split"].to_list() == ["easy", "easy", "hard", "hard"]
    assert out.rejects["reason"].to_list() == ["no difficulty"]
    stages = out.info["stages"]
    assert [s["split"] for s in stages] == ["easy", "hard"]
    assert stages[0]["difficulty_max"] == 0.4 and stages[1]["difficulty_min"] == 0.5


def test_wrong_names_count_is_a_clear_error():
    with pytest.raises(ValueError, match="3 stages need 3 names"):
        assign_splits(rated(), 3, names=("a", "b"))


def test_pipeline_writes_one_file_per_stage_with_ranges_in_the_funnel(tmp_path):
    df = rated(200).drop("difficulty", "pass_rate").with_columns(
        pl.Series("samples", [[{"correct": bool(j < i % 5)} for j in range(4)] for i in range(200)]))
    pipe = Pipeline("curriculum", df, [Difficulty(drop_unsolved=True, drop_saturated=True),
                                       Curriculum(n_stages=2, mode="cumulative")],
                    outputs=[CurriculumOutput(config="curriculum")])
    out = pipe.run(tmp_path / "o", quiet=True)
    files = json.loads((tmp_path / "o" / "outputs.json").read_text())
    assert [f["split"] for f in files] == ["stage1", "stage2"]
    assert files[1]["rows"] == out.height
    stage1 = pl.read_parquet(tmp_path / "o" / files[0]["path"])
    assert stage1.height == files[0]["rows"] < out.height
    funnel = json.loads((tmp_path / "o" / "funnel.json").read_text())
    info = funnel["stages"][-1]["info"]
    assert info["mode"] == "cumulative" and info["stages"][0]["difficulty_max"] <= info["stages"][1]["difficulty_max"]
