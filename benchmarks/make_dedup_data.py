"""Writes the dedup and decontamination evaluation sets under benchmarks/data/ from real problems.

Sources: the 270 competition problems of CHAMP (PyPI ``champ-dataset``, MIT), problems from
reasoning-gym families (templated generators, so distinct problems share long phrases), and
Gaokao-style Chinese problems written for this project (``benchmarks/data/gaokao_written.jsonl``,
in GAOKAO-Bench's field layout: benchmark items and distinct problems that share their
formulaic stems). On these, the edits real corpora carry are applied (instruction suffixes and
prefixes, numbering, markdown bold, doubled whitespace, LaTeX spacing, one-word paraphrase) and
numeric variants are made (one number changed: another problem for dedup, still contamination).

    python benchmarks/make_dedup_data.py        # seeded: the same files every time
    python benchmarks/make_dedup_data.py --seed 2026 --suffix _heldout   # a second draw, never tuned on

Outputs:
- ``dedup_real.jsonl``: ``id, problem, group, kind (base|dup|variant), pair, edits, source, lang``;
  a ``dup`` row belongs to its base's group, a ``variant`` row is its own group (``pair`` = base).
- ``decontam_benchmark.jsonl``: benchmark items ``id, problem, lang, source``.
- ``decontam_rows.jsonl``: rows to decontaminate ``problem, contaminated, kind, item, edits, lang,
  source``; kind = copy | edited | numeric | numeric_edited | distinct (shares the benchmark's
  family or stem) | other. A row that equals a benchmark item once digits are removed counts as
  a numeric variant (contaminated) even when it came from the distinct pool.
"""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"
SEED = 14

# --- the edits real corpora carry ------------------------------------------------------------------
SUFFIXES_EN = [
    "Please reason step by step, and put your final answer within \\boxed{}.",  # R1 / open-r1
    "Let's think step by step and output the final answer within \\boxed{}.",  # DeepScaleR
    "Give your answer in simplest form.",
    "Express your answer as a common fraction.",
    "Return your final response within \\boxed{}.",  # OpenThoughts / NuminaMath
]
PREFIXES_EN = ["Problem: ", "Question: ", "Problem 3. ", "3. ", "**Problem.** ", "12) "]
SUFFIXES_ZH = ["请逐步推理，并把最终答案放在\\boxed{}中。", "请写出解答过程。"]
PREFIXES_ZH = ["问题：", "例2．", "题目：", "5. "]
PARAPHRASE_EN = [("Find", "Determine"), ("What is", "Compute"), ("smallest", "minimum"), ("largest", "greatest"),
                 ("How many", "What number of"), ("Let", "Suppose"), ("integers", "whole numbers"),
                 ("maximum", "largest"), ("minimum", "smallest"), ("value", "number"), ("Calculate", "Compute"),
                 ("number of", "count of"), ("real", "real-valued")]
PARAPHRASE_ZH = [("求", "试求"), ("多少", "几"), ("已知", "设"), ("的值", "的大小"), ("大小", "值"), ("计算", "求")]
_NUM = re.compile(r"(?<![\d.^_])\d+(?![\d.])")
PHRASES_FILE = Path(__file__).resolve().parent.parent / "curator" / "data" / "boilerplate_phrases.txt"


def _wrappers() -> list[re.Pattern]:
    """The corpus wrappers a generator puts around every item: corpora copy them verbatim, so the
    edits below change the problem, never a wrapper."""
    lines = PHRASES_FILE.read_text(encoding="utf-8").split("[phrases]", 1)[1].splitlines()
    return [re.compile(r"\s+".join(re.escape(w) for w in line.split())) for line in lines
            if line.strip() and not line.startswith("#") and len(line) > 30]


WRAPPERS = _wrappers()


def _protected(text: str, start: int, end: int) -> bool:
    return any(m.start() < end and start < m.end() for w in WRAPPERS for m in w.finditer(text))


def edit(text: str, zh: bool, rng: random.Random, kinds: list[str] | None = None) -> tuple[str, list[str]]:
    """One or two corpus edits; returns the text and what was done."""
    options = ["suffix", "prefix", "bold", "space", "latex", "paraphrase", "numbering"]
    done: list[str] = []
    for kind in kinds or rng.sample(options, rng.choice([1, 1, 2])):
        before = text
        if kind == "suffix":
            text = text.rstrip() + ("" if zh else " ") + rng.choice(SUFFIXES_ZH if zh else SUFFIXES_EN)
        elif kind == "prefix":
            text = rng.choice(PREFIXES_ZH if zh else PREFIXES_EN) + text
        elif kind == "numbering":
            text = f"{rng.randint(1, 30)}. " + text
        elif kind == "bold":
            spans = [m for m in re.finditer(r"(?<!\S)[^\s*]+ [^\s*]+(?!\S)", text)
                     if not _protected(text, m.start(), m.end())]
            if spans and not zh:
                m = rng.choice(spans)
                text = f"{text[:m.start()]}**{m.group()}**{text[m.end():]}"
            else:
                text = f"**{text}**"
        elif kind == "space":
            text = re.sub(r" ", lambda m: "  " if rng.random() < 0.4 else " ", text) if " " in text else \
                text.replace("，", "， ", 2)
            text = "  " + text + " \n"
        elif kind == "latex":
            text = re.sub(r"\(([^()]*)\)", r"\\left(\1\\right)", text, count=1)
            text = re.sub(r"(\d), (\d)", r"\1,\\,\2", text, count=2)
            text = text.replace("=", " = ", 1) if "=" in text else text + "~"
        elif kind == "paraphrase":
            spots = [(m.start(), a, b) for a, b in (PARAPHRASE_ZH if zh else PARAPHRASE_EN)
                     for m in re.finditer(re.escape(a), text) if not _protected(text, m.start(), m.end())]
            if spots:
                at, a, b = rng.choice(spots)
                text = text[:at] + b + text[at + len(a):]
            else:
                text = text.rstrip() + ("" if zh else " ") + rng.choice(SUFFIXES_ZH if zh else SUFFIXES_EN)
                kind = "suffix"
        if text != before:
            done.append(kind)
    return text, done


def numeric_variant(text: str, rng: random.Random) -> str | None:
    """One number changed (not a list-numbering prefix): another problem with another answer."""
    spots = [m for m in _NUM.finditer(text) if m.start() > 0 and not _protected(text, m.start(), m.end())]
    if not spots:
        return None
    m = rng.choice(spots)
    old = int(m.group())
    new = old + rng.randint(1, 9)
    return text[:m.start()] + str(new) + text[m.end():]


# --- sources -----------------------------------------------------------------------------------------
def champ_problems() -> list[dict]:
    """CHAMP's 270 problems (``_text``: the statement without markup)."""
    try:
        from champ_dataset import load
    except ImportError as err:
        raise SystemExit(f"champ-dataset is not installed ({err}); pip install 'reasoning-curator[bench]'") from err
    dataset = load("v0")
    return [{"problem": p.text, "source": f"champ:{p.identifier}", "lang": "en"}
            for p in sorted(dataset.problems.values(), key=lambda p: p.identifier)]


RG_FAMILIES = ["basic_arithmetic", "gsm_symbolic", "fraction_simplification", "gcd", "lcm", "prime_factorization",
               "simple_equations", "leg_counting", "decimal_arithmetic", "count_primes", "power_function",
               "products", "polynomial_equations", "time_intervals"]


def rg_problems(per_family: int, seed: int) -> list[dict]:
    """Problems of reasoning-gym families that exist in the installed version."""
    import reasoning_gym

    rows: list[dict] = []
    for family in RG_FAMILIES:
        try:
            data = reasoning_gym.create_dataset(family, size=per_family, seed=seed)
        except Exception:  # noqa: BLE001, S112 - a family this reasoning-gym version lacks
            continue
        for k, item in enumerate(data):
            rows.append({"problem": item["question"], "source": f"rg:{family}:{k}", "lang": "en"})
    return rows


def gaokao_written() -> list[dict]:
    rows = [json.loads(line) for line in (DATA / "gaokao_written.jsonl").read_text(encoding="utf-8").splitlines()
            if line.strip()]
    return [{"problem": r["question"], "source": f"gaokao:{r['index']}", "lang": "zh", "role": r["role"],
             "stem": r["stem"]} for r in rows]


def _digitless(text: str) -> str:
    """Equal for texts that differ only in their numbers (and whitespace, ``$``, ``\\dfrac`` spelling)."""
    text = re.sub(r"\\[dt]frac", r"\\frac", text.lower()).replace("$", "")
    return re.sub(r"\s+", "", re.sub(r"\d+(?:\.\d+)?", "0", text))


# --- the sets ------------------------------------------------------------------------------------------
def dedup_set(rng: random.Random, champ: list[dict], rg: list[dict], zh: list[dict]) -> list[dict]:
    bases: list[dict] = []
    seen: set[str] = set()
    for r in champ + rg + zh:
        key = re.sub(r"\s+", " ", r["problem"].strip().lower())
        if key not in seen:  # reasoning-gym may repeat an item; one base per text
            seen.add(key)
            bases.append(r)
    rows: list[dict] = []
    for g, b in enumerate(bases):
        rows.append({"problem": b["problem"], "group": g, "kind": "base", "pair": -1, "edits": [],
                     "source": b["source"], "lang": b["lang"]})
    order = list(range(len(bases)))
    rng.shuffle(order)
    dup_from = order[: len(order) * 2 // 5]
    variant_from = order[len(order) * 2 // 5: len(order) * 3 // 5]
    for g in dup_from:
        b = bases[g]
        for _ in range(rng.choice([1, 1, 1, 2, 3])):  # some groups of 4, as corpora merged from several sources
            text, done = edit(b["problem"], b["lang"] == "zh", rng)
            rows.append({"problem": text, "group": g, "kind": "dup", "pair": -1, "edits": done,
                         "source": b["source"], "lang": b["lang"]})
    digitless = {_digitless(b["problem"]) for b in bases}
    taken = {re.sub(r"\s+", " ", b["problem"]) for b in bases}
    for g in variant_from:
        b = bases[g]
        text = numeric_variant(b["problem"], rng)
        if text is None or re.sub(r"\s+", " ", text) in taken or _digitless(text) not in digitless:
            continue
        taken.add(re.sub(r"\s+", " ", text))
        rows.append({"problem": text, "group": len(bases) + len(rows), "kind": "variant", "pair": g, "edits": [],
                     "source": b["source"], "lang": b["lang"]})
        if rng.random() < 0.3:  # a variant with a corpus edit is a duplicate of the variant
            edited, done = edit(text, b["lang"] == "zh", rng)
            rows.append({"problem": edited, "group": rows[-1]["group"], "kind": "dup", "pair": -1, "edits": done,
                         "source": b["source"], "lang": b["lang"]})
    rng.shuffle(rows)
    for i, r in enumerate(rows):
        r["id"] = f"d{i:05d}"
    return rows


def decontam_sets(rng: random.Random, champ: list[dict], rg: list[dict], zh: list[dict]) -> tuple[list, list]:
    champ = champ[:]
    rng.shuffle(champ)
    bench_en = champ[:80]
    rest_en = champ[80:]
    rg_bench_idx = set(rng.sample(range(len(rg)), min(40, len(rg))))
    bench_rg = [r for i, r in enumerate(rg) if i in rg_bench_idx]
    per_family: dict[str, int] = {}
    rest_rg = []
    for i, r in enumerate(rg):  # at most 10 siblings a family: most are numeric variants of each other
        family = r["source"].split(":")[1]
        if i not in rg_bench_idx and per_family.get(family, 0) < 10:
            per_family[family] = per_family.get(family, 0) + 1
            rest_rg.append(r)
    bench_zh = [r for r in zh if r["role"] == "benchmark"]
    rest_zh = [r for r in zh if r["role"] == "distinct"]
    bench = [{"id": f"b{i:03d}", "problem": r["problem"], "lang": r["lang"], "source": r["source"]}
             for i, r in enumerate(bench_en + bench_rg + bench_zh)]
    digitless_item = {_digitless(b["problem"]): b["id"] for b in bench}
    rows: list[dict] = []
    for b in bench:
        zh_item = b["lang"] == "zh"
        roll = rng.random() * (0.6 if zh_item else 1.0)  # every Chinese item gets a copy or an edit
        if roll < 0.2:
            rows.append({"problem": b["problem"], "kind": "copy", "edits": []})
        elif roll < 0.6:
            text, done = edit(b["problem"], zh_item, rng)
            rows.append({"problem": text, "kind": "edited", "edits": done})
        if rng.random() < (0.8 if zh_item else 0.5):
            variant = numeric_variant(b["problem"], rng)
            if variant is not None:
                if rng.random() < 0.4:
                    variant, done = edit(variant, zh_item, rng)
                    rows.append({"problem": variant, "kind": "numeric_edited", "edits": done})
                else:
                    rows.append({"problem": variant, "kind": "numeric", "edits": []})
        for r in rows:
            r.setdefault("item", b["id"])
            r.setdefault("lang", b["lang"])
            r.setdefault("source", b["source"])
            r.setdefault("contaminated", True)
    for r, kind in [(x, "distinct") for x in rest_zh + rest_rg] + [(x, "other") for x in rest_en]:
        item = digitless_item.get(_digitless(r["problem"]))
        rows.append({"problem": r["problem"], "kind": "numeric" if item else kind, "edits": [],
                     "item": item, "lang": r["lang"], "source": r["source"], "contaminated": item is not None})
    rng.shuffle(rows)
    return bench, rows


def _write(path: Path, rows: list[dict]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    print(f"wrote {path.name}: {len(rows)} rows")


def main() -> None:
    import argparse

    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=SEED, help="another seed draws other edits and variants")
    ap.add_argument("--suffix", default="", help="file name suffix, e.g. _heldout for a second draw")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    champ, rg, zh = champ_problems(), rg_problems(30, args.seed), gaokao_written()
    _write(DATA / f"dedup_real{args.suffix}.jsonl", dedup_set(rng, champ, rg, zh))
    bench, rows = decontam_sets(random.Random(args.seed + 1), champ, rg, zh)
    _write(DATA / f"decontam_benchmark{args.suffix}.jsonl", bench)
    _write(DATA / f"decontam_rows{args.suffix}.jsonl", rows)


if __name__ == "__main__":
    main()
