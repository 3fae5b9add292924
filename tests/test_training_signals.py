"""Training signals from a build: Kimi k1.5 prioritized sampling (weights, verl sampler) and LIMR."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import polars as pl
import pyarrow.parquet as pq
import pytest

import curator.analysis.verl_sampler as sampler_module
from curator.analysis.limr import epoch_curves, limr_scores, limr_select, read_rollouts
from curator.publish.exports import GRPOPrompts, VerlParquet
from curator.selection.priority import PriorityWeights, priority_weights


def test_priority_weights_follow_one_minus_pass_rate_with_a_floor():
    df = pl.DataFrame({"pass_rate": [0.0, 0.25, 1.0, None]})
    out = PriorityWeights(floor=0.1).apply(df).kept
    assert out["sampling_weight"].to_list() == [1.0, 0.75, 0.1, 1.0]
    with pytest.raises(ValueError, match="floor"):
        priority_weights(pl.Series([0.5]), floor=2.0)


def pool_table() -> pl.DataFrame:
    df = pl.DataFrame({"id": ["a", "b", "c"], "problem": ["1+1?", "2+2?", "3+3?"], "answer": ["2", "4", "6"],
                       "source": ["s"] * 3, "pass_rate": [0.9, 0.5, 0.1]})
    return df.with_columns(priority_weights(df["pass_rate"], floor=0.05))


def test_exports_carry_the_weights(tmp_path):
    df = pool_table()
    VerlParquet().write(df, tmp_path)
    extra = pq.read_table(tmp_path / "data/verl/train.parquet").to_pylist()[0]["extra_info"]
    assert extra["sampling_weight"] == pytest.approx(0.1) and extra["index"] == 0
    grpo = GRPOPrompts().rows(df)
    assert grpo["sampling_weight"].to_list() == pytest.approx([0.1, 0.5, 0.9])


def load_like_verl(class_path: str, class_name: str) -> type:
    """verl's load_extern_type when verl is installed, else the same file-path import it does."""
    try:
        from verl.utils.import_utils import load_extern_type  # type: ignore
    except Exception:  # noqa: BLE001 - verl is an optional trainer, not a test dependency
        spec = importlib.util.spec_from_file_location("custom_module", class_path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        return getattr(module, class_name)
    return load_extern_type(class_path, class_name)


class Dataset:
    """The part of verl's RLHFDataset a sampler sees: ``len`` and the Parquet rows' ``extra_info``."""

    def __init__(self, parquet: Path) -> None:
        self.dataframe = {"extra_info": [r["extra_info"] for r in pq.read_table(parquet).to_pylist()]}

    def __len__(self) -> int:
        return len(self.dataframe["extra_info"])


def test_verl_sampler_draws_by_weight_and_learns_from_rewards(tmp_path):
    VerlParquet().write(pool_table(), tmp_path)
    cls = load_like_verl(sampler_module.__file__, "PrioritizedSampler")
    sampler = cls(data_source=Dataset(tmp_path / "data/verl/train.parquet"),
                  data_config={"seed": 3, "priority_floor": 0.05, "priority_chunk": 8})
    assert len(sampler) == 3
    assert sampler.weights() == pytest.approx(np.array([0.1, 0.5, 0.9]) / 1.5)
    draws = [i for _ in range(400) for i in sampler]
    counts = np.bincount(draws, minlength=3) / len(draws)
    assert counts == pytest.approx(np.array([0.1, 0.5, 0.9]) / 1.5, abs=0.03)
    # a step where prompt 2 (index 2) is now always solved and prompt 0 never: weights swap ends
    batch = SimpleNamespace(non_tensor_batch={"index": np.array([2, 2, 0, 0])},
                            batch={"token_level_scores": np.array([[0.0, 1.0], [1.0, 0.0], [0.0, 0.0], [0.0, 0.0]])})
    sampler.update(batch)
    w = sampler.weights()
    assert w[0] > w[1] > w[2] and w[2] == pytest.approx(0.05 / (1.0 + 0.5 + 0.05))


def test_limr_score_on_a_hand_computed_example():
    # epochs x problems: mean curve rbar = (0, 0.5, 2/3); sum (1 - rbar)^2 = 1 + 0.25 + 1/9 = 49/36
    curves = np.array([[0.0, 0.5, 1.0], [0.0, 0.0, 0.0], [0.0, 1.0, 1.0]])
    expected = [1 - (1 / 9) / (49 / 36), 1 - (0.25 + 4 / 9) / (49 / 36), 1 - (0.25 + 1 / 9) / (49 / 36)]
    assert limr_scores(curves) == pytest.approx(expected)


def test_limr_from_verl_rollout_dumps(tmp_path):
    logs = tmp_path / "rollouts"
    logs.mkdir()
    rewards = {"tracks": [0.0, 0.5, 1.0], "flat": [0.0, 0.0, 0.0], "early": [1.0, 1.0, 1.0]}
    for step in (1, 2, 3):
        lines = [json.dumps({"input": f"<|user|>{name}", "output": "...", "score": r[step - 1], "step": step})
                 for name, r in rewards.items() for _ in range(2)]
        (logs / f"{step}.jsonl").write_text("\n".join(lines) + "\n")
    table = limr_select(read_rollouts(logs), threshold=0.6)
    by_prompt = {row["prompt"]: row for row in table.to_dicts()}
    assert by_prompt["<|user|>tracks"]["keep"] and not by_prompt["<|user|>flat"]["keep"]
    assert by_prompt["<|user|>tracks"]["epochs"] == 3
    ids, curves = epoch_curves(read_rollouts(logs))
    assert curves.shape == (3, 3)


def test_limr_from_a_plain_table_and_clear_errors(tmp_path):
    plain = tmp_path / "r.csv"
    # mean curve (0, 0.75): x, z, w track it (score 0.94), y stays flat (score 0.47)
    rows = [(1, i, 0.0) for i in "xyzw"] + [(5, i, 0.0 if i == "y" else 1.0) for i in "xyzw"]
    pl.DataFrame(rows, schema=["step", "id", "reward"], orient="row").write_csv(plain)
    table = limr_select(read_rollouts(plain)).sort("id")
    assert table["id"].to_list() == ["w", "x", "y", "z"] and table["keep"].to_list() == [True, True, False, True]
    assert table["limr_score"].to_list() == pytest.approx([1 - 0.0625 / 1.0625] * 2 + [1 - 0.5625 / 1.0625]
                                                          + [1 - 0.0625 / 1.0625])
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "1.jsonl").write_text('{"input": "p", "step": 1, "score": 1}\n{"step": 1}\n')
    with pytest.raises(ValueError, match=r"1\.jsonl:2"):
        read_rollouts(bad)
    with pytest.raises(ValueError, match="missing"):
        (tmp_path / "t.csv").write_text("step,reward\n1,0\n")
        read_rollouts(tmp_path / "t.csv")
