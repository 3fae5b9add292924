"""A test double for a strong teacher model: answers the bundled problems in R1's format.

It is NOT a model. It looks the gold answer up in the bundled sample and answers it
correctly with a per-problem probability (spread from 0 to 1 so pass rates, difficulty
bins, rejection sampling, pools and selections see non-trivial data), deterministically per
(problem, seed). Some chains are deliberately flawed - a Chinese chain with an English
sentence, a repetitive chain - so the readability and language filters have work to do.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

from curator.core.sources import SAMPLE_PROBLEMS
from curator.core.table import normalize_problem_text

EN_STEPS = [
    "First, I restate what is given and what is asked.",
    "Since the numbers are small, I can add them directly.",
    "Perhaps it helps to split the larger number into tens and ones.",
    "Let me verify the partial result by counting up from the smaller number.",
    "Therefore the intermediate value carries over to the next step.",
    "Let me check whether any term was dropped along the way.",
    "Alternatively, I might reorder the terms to make the sum easier.",
    "Next, combine the remaining quantities into a single expression.",
    "So the operations reduce to one arithmetic computation.",
    "Because each step preserves equality, the simplification is valid.",
    "I should double-check the sign of every term before finishing.",
    "Thus the expression simplifies cleanly without fractions.",
]
ZH_STEPS = [
    "首先，明确题目给出的条件和要求的量。",
    "因为数字比较小，可以直接计算。",
    "也许可以把较大的数拆成十位和个位。",
    "检查一下：从较小的数开始数，结果一致。",
    "所以中间结果可以带入下一步。",
    "再确认没有遗漏任何一项。",
    "接着把剩下的量合并成一个算式。",
    "因此整个算式化简为一次计算。",
    "最后验算一遍，每一步都成立。",
]

#: per-problem probability of a correct answer, chosen by hashing the problem
SKILLS = (0.0, 0.25, 0.5, 0.75, 1.0, 0.6, 0.4, 0.9)


def _key(text: str) -> str:
    return re.sub(r"\s+", "", normalize_problem_text(text)).lower()


def _load(path: Path = SAMPLE_PROBLEMS) -> dict[str, dict[str, Any]]:
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return {_key(r["problem"]): r for r in rows}


class ScriptedTeacher:
    """Callable: an OpenAI chat request (dict) -> list of ``n`` completion texts."""

    def __init__(self, path: Path = SAMPLE_PROBLEMS) -> None:
        self.problems = _load(path)

    def find(self, prompt: str) -> dict[str, Any] | None:
        key = _key(prompt)
        best = None
        for pkey, row in self.problems.items():
            if pkey and pkey in key and (best is None or len(pkey) > len(_key(best["problem"]))):
                best = row
        return best

    @staticmethod
    def skill(problem: str) -> float:
        h = int(hashlib.sha256(problem.encode()).hexdigest(), 16)
        return SKILLS[h % len(SKILLS)]

    def __call__(self, request: dict[str, Any]) -> list[str]:
        messages = request.get("messages", [])
        prompt = " ".join(m.get("content", "") for m in messages if m.get("role") == "user")
        n = int(request.get("n") or 1)
        seed = int(request.get("seed") or 0)
        row = self.find(prompt)
        return [self.answer(row, prompt, seed + i) for i in range(n)]

    def answer(self, row: dict[str, Any] | None, prompt: str, seed: int) -> str:
        if row is None:
            return "<think>\nI do not recognise this problem.\n</think>\nThe final answer is \\boxed{0}."
        rng = random.Random(f"{row['problem']}|{seed}")
        gold = row.get("answer")
        correct = gold is not None and rng.random() < self.skill(row["problem"])
        final = str(gold) if correct else self.wrong(gold, rng)
        zh = row.get("language") == "zh"
        steps = rng.randint(2, 9)
        flaw = rng.random()
        if zh:
            body = "\n".join(rng.sample(ZH_STEPS, min(steps, len(ZH_STEPS))))
            if flaw < 0.2:
                body += "\nWait, let me double check this in English to be sure."
            return f"<think>\n首先理解题意。\n{body}\n验证：结果符合题意。\n</think>\n所以答案是 \\boxed{{{final}}}。"
        body = "\n".join(rng.sample(EN_STEPS, steps))
        if flaw < 0.1:
            body += "\n" + "\n".join(["I keep going around in circles here."] * 12)
        return (f"<think>\nLet me understand the problem first.\n{body}\n</think>\n"
                f"We computed the required quantity step by step. The final answer is \\boxed{{{final}}}.")

    @staticmethod
    def wrong(gold: Any, rng: random.Random) -> str:
        try:
            return str(int(str(gold)) + rng.choice([-2, -1, 1, 3]))
        except (TypeError, ValueError):
            letters = "ABCD"
            if isinstance(gold, str) and gold in letters:
                return rng.choice([c for c in letters if c != gold])
            return "7"
