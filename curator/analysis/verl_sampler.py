"""A verl sampler for Kimi k1.5's prioritized sampling (``data.sampler.class_path``).

verl builds its training sampler from ``data.sampler.class_path`` / ``class_name``, passing
``data_source`` (its RL dataset) and ``data_config``, and after each step calls ``update(batch)``
on curriculum samplers. This sampler draws prompts with probability proportional to
``max(1 - s_i, floor)``, where s_i starts from the pool's pass rate (the ``sampling_weight``
the verl export writes into ``extra_info``) and follows the rewards of the rollouts verl shows
it. verl requires ``data.dataloader_num_workers=0`` for such samplers, so that an update
reaches the next draw::

    data.sampler.class_path=pkg://curator.analysis.verl_sampler \\
    data.sampler.class_name=PrioritizedSampler data.dataloader_num_workers=0

(or the file path of this module as ``class_path``). Optional ``data_config`` keys:
``priority_floor`` (0.05), ``priority_momentum`` (1.0: the latest batch's success rate
replaces the old one; smaller values average), ``priority_chunk`` (indices drawn per weight
refresh, 64) and ``seed``.
"""

from __future__ import annotations

from collections.abc import Iterator, Sized
from typing import Any

import numpy as np

try:  # the base verl checks with isinstance when it is installed
    from verl.experimental.dataset.sampler import AbstractCurriculumSampler as _Base  # type: ignore
except Exception:  # noqa: BLE001 - verl absent or an older layout: a plain sampler works the same
    _Base = object  # type: ignore[assignment,misc]

DEFAULT_FLOOR = 0.05


def _config(data_config: Any, key: str, default: Any) -> Any:
    getter = getattr(data_config, "get", None)
    value = getter(key, default) if callable(getter) else default
    return default if value is None else value


def initial_success(data_source: Sized) -> tuple[np.ndarray, dict[int, int]]:
    """Success rates and a map from verl's ``index`` to position, from the dataset's ``extra_info``."""
    n = len(data_source)
    success = np.zeros(n)
    where: dict[int, int] = {}
    frame = getattr(data_source, "dataframe", None)
    infos: list[Any] = []
    if frame is not None:
        try:
            infos = list(frame["extra_info"])
        except (KeyError, TypeError, ValueError):
            infos = []
    for pos in range(n):
        info = infos[pos] if pos < len(infos) and isinstance(infos[pos], dict) else {}
        weight = info.get("sampling_weight")
        rate = info.get("pass_rate")
        if weight is not None:
            success[pos] = 1.0 - float(weight)
        elif rate is not None:
            success[pos] = float(rate)
        where[int(info.get("index", pos))] = pos
    return success, where


class PrioritizedSampler(_Base):  # type: ignore[misc,valid-type]
    """Draws dataset positions with probability proportional to ``max(1 - success, floor)``."""

    def __init__(self, data_source: Sized, data_config: Any = None) -> None:
        self.data_source = data_source
        self.floor = float(_config(data_config, "priority_floor", DEFAULT_FLOOR))
        self.momentum = float(_config(data_config, "priority_momentum", 1.0))
        self.chunk = int(_config(data_config, "priority_chunk", 64))
        self.rng = np.random.default_rng(int(_config(data_config, "seed", 1)))
        self.success, self.position = initial_success(data_source)

    def weights(self) -> np.ndarray:
        """Current sampling probabilities (sum to 1)."""
        w = np.maximum(1.0 - np.clip(self.success, 0.0, 1.0), self.floor)
        total = w.sum()
        return w / total if total > 0 else np.full(w.size, 1.0 / max(w.size, 1))

    def __len__(self) -> int:
        return len(self.success)

    def __iter__(self) -> Iterator[int]:
        drawn = 0
        while drawn < len(self):
            size = min(self.chunk, len(self) - drawn)
            for pos in self.rng.choice(len(self), size=size, p=self.weights()):
                yield int(pos)
            drawn += size

    def update(self, batch: Any) -> None:
        """Success rates from a finished step: per prompt, the mean reward of its rollouts in [0, 1].

        Reads ``batch.non_tensor_batch["index"]`` and the sequence reward (``token_level_scores``
        summed over tokens, as verl stores rule rewards; a ``score`` or ``acc`` array otherwise).
        """
        index = np.asarray(batch.non_tensor_batch["index"]).astype(np.int64)
        scores = _sequence_scores(batch)
        sums: dict[int, list[float]] = {}
        for i, s in zip(index.tolist(), scores.tolist(), strict=True):
            pos = self.position.get(int(i))
            if pos is not None:
                sums.setdefault(pos, []).append(min(max(float(s), 0.0), 1.0))
        for pos, vals in sums.items():
            self.success[pos] = (1 - self.momentum) * self.success[pos] + self.momentum * float(np.mean(vals))


def _sequence_scores(batch: Any) -> np.ndarray:
    tensors = getattr(batch, "batch", None)
    if tensors is not None:
        for key in ("token_level_scores", "token_level_rewards"):
            try:
                values = tensors[key]
            except (KeyError, TypeError):
                continue
            summed = values.sum(-1)
            summed = summed.detach().cpu().numpy() if hasattr(summed, "detach") else np.asarray(summed)
            return summed.astype(np.float64)
    extra = getattr(batch, "non_tensor_batch", {})
    for key in ("acc", "score"):
        if key in extra:
            return np.asarray(extra[key], dtype=np.float64)
    raise ValueError("PrioritizedSampler.update: the batch has no token_level_scores, acc or score to read")
