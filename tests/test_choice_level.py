"""Multiple choice in RL pools (keep / drop / open, seeded shuffles) and difficulty from MATH levels."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curator.core.options import options_json
from curator.selection.choice import ChoiceItems, choice_item, resolve_policy
from curator.selection.level import LevelDifficulty, parse_level

OPTS = options_json({"A": "16", "B": "17", "C": "18", "D": "28"})


def table() -> pl.DataFrame:
    return pl.DataFrame({"id": ["1", "2", "3"], "problem": ["小明一共有多少支铅笔？", "Which of the following is 18?", "2+2?"],
                         "answer": ["C", "C", "4"], "options": [OPTS, OPTS, None], "meta": [None, None, None]},
                        schema_overrides={"options": pl.String, "meta": pl.String})


def test_keep_is_the_default_on_a_choice_source_and_names_are_checked():
    assert resolve_policy("", True) == "keep" and resolve_policy("", False) == "drop"
    with pytest.raises(ValueError, match="keep, drop or open"):
        resolve_policy("maybe", True)


def test_drop_rejects_choice_items_with_a_reason():
    out = ChoiceItems(policy="drop").apply(table())
    assert out.kept["id"].to_list() == ["3"] and set(out.rejects["reason"]) == {"multiple choice"}


def test_open_uses_the_gold_text_and_drops_stems_that_need_options():
    out = ChoiceItems(policy="open").apply(table())
    assert out.kept["answer"].to_list() == ["18", "4"] and out.kept["options"].null_count() == 2
    assert "stem needs its options" in out.rejects["reason"][0]
    assert json.loads(out.kept["meta"][0])["gold_letter"] == "C"


def test_shuffle_is_seeded_per_item_and_remaps_the_gold():
    a = ChoiceItems(policy="keep", shuffle=True, seed=3).apply(table()).kept
    b = ChoiceItems(policy="keep", shuffle=True, seed=3).apply(table()).kept
    assert a.equals(b)
    for row in a.filter(pl.col("options").is_not_null()).iter_rows(named=True):
        assert json.loads(row["options"])[row["answer"]] == "18"
    golds = {choice_item("q", "C", OPTS, None, "keep", True, s, "k")[0] for s in range(40)}
    assert len(golds) == 4  # the gold moves around: no position bias left


def test_level_difficulty_from_column_or_meta():
    assert [parse_level(x) for x in ("Level 1", "level 5", 3, "4", "Level ?", None)] == [1, 5, 3, 4, None, None]
    df = pl.DataFrame({"problem": ["a", "b", "c"], "meta": ['{"level": "Level 1"}', '{"level": "Level 5"}', None]})
    out = LevelDifficulty().apply(df)
    assert out.kept["difficulty"].to_list() == [0.0, 1.0] and out.kept["bin"].to_list() == ["level 1", "level 5"]
    assert out.rejects["reason"].to_list() == ["no difficulty level label"]


def test_level_curricula_still_drop_unsolved_and_saturated_problems():
    from pathlib import Path

    from curator import load_pipeline
    from curator.selection.rl_pool import PassRateWindow

    pipe = load_pipeline(Path(__file__).resolve().parent.parent / "pipelines" / "rl_pool.py",
                         {"difficulty_from": "level"})
    window = next(s for s in pipe.stages if isinstance(s, PassRateWindow))
    df = pl.DataFrame({"pass_rate": [0.0, 0.5, 1.0]})
    assert window.reasons(df).is_null().to_list() == [False, True, False]
    names = [s.name for s in pipe.stages]
    assert names.index(window.name) < names.index("level_difficulty")
