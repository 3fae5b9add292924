"""pipelines/code_rl_pool.py end to end over real HTTP, with a scripted stand-in for a policy model.

The stand-in (a test double, not a model) answers each bundled stdin/stdout problem with its
reference program, a broken program, or either by choice index, so the pool sees 0/k, k/k
and mixed problems. Everything after the HTTP response is the real pipeline: extraction, the
sandbox, Verify, Difficulty (drop 0/k and k/k), the curriculum and the RL exports.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl

from curator import load_pipeline
from curator.code.sources import CODE_STDIO
from tests.servers.openai_fake import serve

PIPELINE = Path(__file__).resolve().parents[1] / "pipelines" / "code_rl_pool.py"
ROWS = [json.loads(line) for line in CODE_STDIO.read_text().splitlines()]


def scripted_policy(req: dict[str, Any]) -> str:
    """Problem i: always right (i % 3 == 0), right on even choices (1), never right (2)."""
    prompt = req["messages"][-1]["content"]
    i = next(n for n, r in enumerate(ROWS) if r["question"] in prompt)
    right = {0: True, 1: req["choice_index"] % 2 == 0, 2: False}[i % 3]
    program = ROWS[i]["solutions"][0] if right else "print('no idea')\n"
    return f"<think>\nI read the input and compute the answer.\n</think>\nSolution:\n```python\n{program}```\n"


def test_code_rl_pool_keeps_only_problems_with_mixed_results(tmp_path: Path) -> None:
    with serve(scripted_policy) as server:
        params = {"backend": "openai", "model": "scripted-policy", "endpoints": server.base_url,
                  "limit": "6", "k": "2", "allow_weak_sandbox": "true"}
        out = load_pipeline(PIPELINE, params).run(tmp_path / "out", quiet=True)
    assert sorted(out["id"].to_list()) == sorted(ROWS[i]["id"] for i in (1, 4))
    stages = {s["stage"]: s for s in json.loads((tmp_path / "out" / "funnel.json").read_text())["stages"]}
    verify = stages["verify"]["info"]
    assert verify["code_isolation"] in ("bwrap", "unshare", "none")
    assert verify["code_samples_graded"] == 12 and verify["code_statuses"] == {"ok": 6, "wrong answer": 6}
    assert sum(stages["difficulty"]["dropped"].values()) == 4  # two 0/k, two k/k, each with its reason
    outputs = {o["config"]: o for o in json.loads((tmp_path / "out" / "outputs.json").read_text())}
    verl = pl.read_parquet(tmp_path / "out" / outputs["verl"]["path"])
    assert all(json.loads(r["ground_truth"])["kind"] == "stdio" for r in verl["reward_model"].to_list())
    grpo = pl.read_parquet(tmp_path / "out" / outputs["grpo"]["path"])
    assert "tests" in grpo.columns


def test_rejection_sampling_has_code_rows() -> None:
    pipe = load_pipeline(PIPELINE.with_name("rejection_sampling.py"), {"code": "true"})
    verify = next(s for s in pipe.stages if s.name == "verify")
    generate = next(s for s in pipe.stages if s.name == "generate")
    assert verify.kind == "code" and generate.template.name == "code"
