"""OpenRLHF's reward-function file: ``reward_func(queries, prompts, labels)``.

OpenRLHF loads a Python file given as ``--remote_rm_url /path/to/this/file.py`` and calls
``reward_func`` with the full texts (prompt + response), the prompts, and the values of the
``--label_key`` column; it takes back a dict with ``rewards`` (a tensor, for advantages),
``scores`` (a tensor in 0..1, for dynamic filtering) and ``extra_logs`` (tensors to log).

A label is the gold answer, or the JSON object ``curator.publish.exports.GRPOPrompts``
writes in its ``label`` column: ``{"answer", "answer_kind", "options", "language",
"max_response_length"}``. Rewards use accuracy only unless ``CURATOR_REWARD_WEIGHTS`` (JSON,
e.g. ``{"accuracy": 1, "format": 0.2}``) says otherwise: OpenRLHF passes no settings.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from typing import Any

from curator.rewards.rules import check_weights, combine
from curator.rewards.scoring import Target, score_batch, target_from

#: environment variable with the weights of the combined reward (JSON object)
WEIGHTS_ENV = "CURATOR_REWARD_WEIGHTS"


def label_target(label: Any) -> Target:
    """A ``Target`` from one label: a JSON object with ``answer`` and row fields, or the gold itself."""
    if isinstance(label, str) and label.lstrip().startswith("{"):
        try:
            data = json.loads(label)
        except ValueError:
            data = None
        if isinstance(data, dict) and "answer" in data:
            return target_from(data["answer"], data)
    if isinstance(label, dict):
        return target_from(label.get("answer"), label)
    return target_from(label)


def response_of(query: str, prompt: str) -> str:
    """The response part of a query (OpenRLHF passes prompt + response)."""
    return query[len(prompt):] if prompt and query.startswith(prompt) else query


def reward_func(queries: Sequence[str], prompts: Sequence[str], labels: Sequence[Any], **kwargs: Any) -> dict:
    """Rewards for a batch: accuracy through ``grade`` (worker processes), plus weighted parts."""
    import torch

    weights = check_weights(json.loads(os.environ[WEIGHTS_ENV]) if os.environ.get(WEIGHTS_ENV) else None)
    texts = [response_of(q, p) for q, p in zip(queries, prompts, strict=True)]
    parts = score_batch(texts, [label_target(lb) for lb in labels])
    acc = [p.accuracy or 0.0 for p in parts]
    return {
        "rewards": torch.tensor([combine(p, weights) for p in parts], dtype=torch.float32),
        "scores": torch.tensor(acc, dtype=torch.float32),
        "extra_logs": {"accuracy": torch.tensor(acc, dtype=torch.float32),
                       "format": torch.tensor([p.format for p in parts], dtype=torch.float32)},
    }
