"""Regenerate the bundled sample problem set (``curator/data/sample_problems.jsonl``).

    python -m curator.data.make_sample

It mixes one-digit additions (the embedded 135M model solves some of them, so pass rates
are spread out) with harder reasoning-gym families it cannot solve, Chinese problems and
the quality / dedup / decontamination traps in ``handwritten_problems.jsonl``. Seeded: the
same reasoning-gym version gives the same file.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).parent
OUT = HERE / "sample_problems.jsonl"

#: (reasoning-gym family, how many, domain)
FAMILIES: list[tuple[str, int, str]] = [
    ("basic_arithmetic", 8, "arithmetic"),
    ("chain_sum", 6, "arithmetic"),
    ("gcd", 5, "number_theory"),
    ("lcm", 5, "number_theory"),
    ("simple_equations", 6, "algebra"),
    ("fraction_simplification", 4, "arithmetic"),
    ("prime_factorization", 3, "number_theory"),
    ("leg_counting", 3, "word_problems"),
    ("gsm_symbolic", 4, "word_problems"),
]
N_ADDITIONS = 16
#: declared per row (kept in ``meta``) so data cards inherit real licenses, never guessed ones
PROJECT_LICENSE = "apache-2.0"  # problems written for this project
REASONING_GYM_LICENSE = "apache-2.0"  # reasoning-gym's package metadata: Apache-2.0
SEED = 20261121


def additions(n: int, rng: random.Random) -> list[dict]:
    """'What is a + b?' with one-digit operands: the items a 135M model sometimes gets right."""
    pairs = sorted({(rng.randint(1, 9), rng.randint(1, 9)) for _ in range(n * 3)})
    rng.shuffle(pairs)
    return [
        {"problem": f"What is {a} + {b}?", "answer": str(a + b), "source": "sample/additions",
         "domain": "arithmetic", "language": "en", "license": PROJECT_LICENSE}
        for a, b in pairs[:n]
    ]


def gym_items() -> list[dict]:
    try:
        import reasoning_gym  # the optional `sample` extra: only this script needs it
    except ImportError:
        raise SystemExit("regenerating the sample needs reasoning-gym: pip install 'reasoning-curator[sample]'") from None

    rows = []
    for family, n, domain in FAMILIES:
        for item in reasoning_gym.create_dataset(family, size=n, seed=SEED):
            meta = {k: v for k, v in item["metadata"].items() if isinstance(v, (int, float, str))}
            rows.append({"problem": item["question"], "answer": str(item["answer"]),
                         "source": f"reasoning-gym/{family}", "domain": domain, "language": "en", "meta": meta,
                         "license": REASONING_GYM_LICENSE})
    return rows


def handwritten() -> list[dict]:
    rows = []
    for line in (HERE / "handwritten_problems.jsonl").read_text(encoding="utf-8").splitlines():
        if line.strip():
            row = json.loads(line)
            row.setdefault("source", "sample/handwritten")
            row.setdefault("license", PROJECT_LICENSE)
            rows.append(row)
    return rows


def main() -> None:
    rng = random.Random(SEED)
    rows = additions(N_ADDITIONS, rng) + gym_items() + handwritten()
    with OUT.open("w", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"wrote {len(rows)} problems to {OUT}")


if __name__ == "__main__":
    main()
