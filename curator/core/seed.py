"""The run's seed: the CLI's ``--seed`` reaches the recipe's ``seed`` parameter.

Recipes draw every random choice from their ``seed`` param (Generate's per-sample seeds,
rejection sampling, balancing, selection). ``--seed N`` is shorthand for ``--param seed=N``;
an explicit ``--param seed=...`` wins. ``run.json`` records the seed that was used.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

from curator.core.params import load_pipeline_module


def _has_seed_param(pipeline_file: str | Path) -> bool:
    params_cls = getattr(load_pipeline_module(pipeline_file), "Params", None)
    return params_cls is not None and any(f.name == "seed" for f in dataclasses.fields(params_cls))


def seed_overrides(pipeline_file: str | Path, overrides: list[str], seed: int | None) -> list[str]:
    """``overrides`` plus ``seed=N`` when ``--seed`` was given, the recipe takes a seed, and no
    ``--param seed=`` says otherwise."""
    if seed is None or any(o.split("=", 1)[0].strip() == "seed" for o in overrides):
        return overrides
    return [*overrides, f"seed={seed}"] if _has_seed_param(pipeline_file) else overrides


def effective_seed(pipeline: Any, seed: int | None) -> int:
    """The seed the run uses: the recipe's ``seed`` param when it has one, else ``--seed`` (default 0)."""
    value = getattr(getattr(pipeline, "params", None), "seed", None)
    if isinstance(value, int):
        return value
    return seed if seed is not None else 0
