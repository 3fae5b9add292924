"""Code reward for trainers: run the completion's program on the prompt's tests in the same sandbox as Verify.

The RL exports carry each prompt's tests (verl ``reward_model.ground_truth``, TRL's ``tests``
column), so the reward a trainer computes is the verdict the curation computed for the same
program: the pool's pass rates equal the trainer's accuracy reward on the same samples.

    reward = CodeReward(workers=8)
    trainer = GRPOTrainer(..., reward_funcs=[reward])     # TRL: called with completions=, tests=
    score = reward.score(completion_text, dump_tests)      # verl compute_score's body
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from curator.code.execute import CodeExecutor
from curator.code.extract import extract_program
from curator.code.sandbox import SandboxConfig
from curator.code.testcases import CallTests, StdioTests, Tests, parse_tests


def _text(completion: Any) -> str:
    """A completion as text: a string, or TRL's conversational form (a list of messages)."""
    if isinstance(completion, str):
        return completion
    if isinstance(completion, Sequence) and completion and isinstance(completion[-1], dict):
        return str(completion[-1].get("content") or "")
    return str(completion or "")


class CodeReward:
    """1.0 when every test passes, else 0.0 (``partial=True``: the fraction of tests passed).

    Holds one executor (isolation detected once, verdicts cached by content) for a whole
    training run; ``cache`` makes the verdicts durable across restarts.
    """

    __name__ = "code_reward"  # TRL logs reward functions by name

    def __init__(self, partial: bool = False, workers: int = 2, sandbox: SandboxConfig | None = None,
                 cache: str | None = None, language: str = "python") -> None:
        self.partial, self.language = partial, language
        self.executor = CodeExecutor(sandbox, workers=workers, cache=cache)

    def scores(self, completions: Sequence[Any], tests: Sequence[str | dict | Tests]) -> list[float]:
        """One reward per (completion, tests) pair, run in parallel; unreadable tests score 0."""
        items = []
        for completion, t in zip(completions, tests, strict=True):
            parsed = t if isinstance(t, (StdioTests, CallTests)) else parse_tests(t)
            items.append((extract_program(_text(completion), self.language), parsed))
        runnable = [(i, it) for i, it in enumerate(items) if it[1] is not None]
        verdicts = self.executor.run([it for _, it in runnable])
        out = [0.0] * len(items)
        for (i, _), v in zip(runnable, verdicts, strict=True):
            out[i] = v.fraction if self.partial else float(v.correct)
        return out

    def score(self, completion: Any, tests: str | dict | Tests) -> float:
        """One completion's reward (verl's ``compute_score(solution_str, ground_truth)``)."""
        return self.scores([completion], [tests])[0]

    def __call__(self, completions: Sequence[Any], tests: Sequence[str], **_: Any) -> list[float]:
        """TRL reward-function form: dataset columns arrive as keyword lists, ``tests`` among them."""
        return self.scores(completions, tests)

    def close(self) -> None:
        self.executor.close()
