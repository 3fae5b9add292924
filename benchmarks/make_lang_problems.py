"""Build the multilingual problem set for the problem-language detectors (benchmarks/language.py).

    python benchmarks/make_lang_problems.py      # writes benchmarks/data/lang_problems.jsonl

English: the 270 competition problems of PyPI ``champ-dataset`` (v0) and seeded items of
several reasoning-gym families. Chinese: problems written for this project in the exact
field layouts of CMath (``question``/``golden``) and GAOKAO-Bench (``question``/``answer``
list), read through those layouts. French, German, Spanish, Italian, Portuguese, Russian,
Japanese, Korean, Vietnamese: short problems written for this project
(``benchmarks/data/lang_problems_handwritten.jsonl``). Each row: problem, language, source.
"""

from __future__ import annotations

import json
from pathlib import Path

DATA = Path(__file__).parent / "data"
HAND = DATA / "lang_problems_handwritten.jsonl"
OUT = DATA / "lang_problems.jsonl"
#: reasoning-gym families with English statements, items per family
GYM = [("basic_arithmetic", 10), ("gsm_symbolic", 20), ("leg_counting", 10), ("simple_equations", 10),
       ("prime_factorization", 10), ("fraction_simplification", 10), ("gcd", 10), ("lcm", 10),
       ("time_intervals", 10), ("decimal_arithmetic", 10)]
SEED = 19


def champ() -> list[dict]:
    import champ_dataset

    ds = champ_dataset.load("v0")
    return [{"problem": p.text, "language": "en", "source": f"champ/{p.category}"}
            for p in ds.problems.values()]


def gym() -> list[dict]:
    import reasoning_gym

    rows = []
    for family, n in GYM:
        for item in reasoning_gym.create_dataset(family, size=n, seed=SEED):
            rows.append({"problem": item["question"], "language": "en", "source": f"reasoning-gym/{family}"})
    return rows


def handwritten() -> list[dict]:
    rows = []
    for line in HAND.read_text(encoding="utf-8").splitlines():
        rec = json.loads(line)
        item = rec["item"]
        if rec["layout"] == "cmath":  # CMath: id, grade, reasoning_step, question, golden, num_digits
            problem = item["question"]
        elif rec["layout"] == "gaokao":  # GAOKAO-Bench: year, category, question, answer (list), analysis
            problem = item["question"]
        else:
            problem = item["problem"]
        rows.append({"problem": problem, "language": rec["language"], "source": f"handwritten/{rec['layout']}"})
    return rows


def main() -> None:
    rows = champ() + gym() + handwritten()
    with OUT.open("w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    counts: dict[str, int] = {}
    for r in rows:
        counts[r["language"]] = counts.get(r["language"], 0) + 1
    print(f"wrote {OUT} ({len(rows)} problems: {counts})")


if __name__ == "__main__":
    main()
