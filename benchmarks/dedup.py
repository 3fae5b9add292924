"""Near-duplicate problem dedup: this project vs datatrove, datasketch, an 8-gram rule and rapidfuzz.

Two sets, each method on each, in one run (methods alternate order between rounds; the load
average is printed at the start and end of every round):

- ``real``: benchmarks/data/dedup_real.jsonl (benchmarks/make_dedup_data.py): CHAMP competition
  problems, reasoning-gym families and Gaokao-style Chinese problems, with the edits real
  corpora carry (instruction suffixes/prefixes, numbering, bold, whitespace, LaTeX spacing,
  one-word paraphrase) and numeric variants;
- ``generated``: templated word problems (English and Chinese) with planted near-duplicates
  (whitespace, punctuation, casing, LaTeX spacing, word swaps, synonyms) and numeric variants.

    python benchmarks/dedup.py --sets real,generated --n 50000 --dups 5000 --variants 2000
    python benchmarks/dedup.py --sets scale --methods ours --scale 50000,200000   # growth

Precision / recall count removed rows against the true groups (one survivor per group);
"groups lost" counts groups of which every member was removed; "variants removed" counts
numeric-variant pairs (a problem and the same text with one number changed) of which a method
lost either problem (every row of its group removed).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import resource
import sys
import tempfile
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
REAL = Path(__file__).resolve().parent / "data" / "dedup_real.jsonl"

NAMES = ["Alice", "Bob", "Carmen", "Dmitri", "Elena", "Farid", "Grace", "Hiro", "Ines", "Jamal", "Kofi", "Lena",
         "Mateo", "Nadia", "Omar", "Priya", "Quinn", "Rosa", "Sven", "Tariq", "Uma", "Victor", "Wen", "Yara"]
ITEMS = ["apples", "marbles", "stickers", "pencils", "books", "coins", "cookies", "stamps", "shells", "cards",
         "tickets", "beads", "balloons", "candles", "buttons", "paintings", "bottles", "plants"]
PLACES = ["market", "school", "library", "garden", "museum", "harbor", "bakery", "station", "park", "farm"]
EN = [
    "{n1} has {a} {i1}. {n2} gives {n1} {b} more {i1} at the {p}, and then {n1} buys {c} {i2}. "
    "How many {i1} does {n1} have now?",
    "A {p} sells {i1} for ${a} each and {i2} for ${b} each. {n1} buys {c} {i1} and {d} {i2}. "
    "How much money does {n1} spend in total?",
    "In a right triangle the legs measure {a} and {b} units. Find the length of the hypotenuse, "
    "and give your answer in simplest radical form as {n1} would at the {p}.",
    "Let $f(x) = {a}x^2 + {b}x - {c}$. {n1} evaluates $f\\left({d}\\right)$ on a worksheet from the {p}. "
    "What value does {n1} obtain?",
    "{n1} drives {a} kilometers to the {p} at {b} km/h and returns at {c} km/h. "
    "What is the average speed of the whole trip in km/h?",
    "The sum of {a} consecutive integers is {b}. {n1} writes them on cards at the {p}. "
    "What is the largest of these integers?",
    "Find the number of positive divisors of ${a} \\cdot {b}$ that are also multiples of {c}, "
    "as asked by {n1} in the {p} math club.",
    "A bag from the {p} contains {a} red {i1}, {b} blue {i1} and {c} green {i1}. {n1} draws two {i1} "
    "without replacement. What is the probability that both are red?",
]
ZH = [
    "{n1}有{a}个{i1}，{n2}又给了{n1}{b}个，后来{n1}在{p}用掉了{c}个。请问{n1}现在还有多少个{i1}？",
    "一个长方形的长是{a}厘米，宽是{b}厘米。{n1}把它的长增加{c}厘米，求新长方形的面积是多少平方厘米？",
    "已知等差数列的首项为{a}，公差为{b}。{n1}在{p}计算它的前{c}项之和，结果是多少？",
]
ZH_ITEMS = ["苹果", "铅笔", "本子", "邮票", "贝壳", "糖果"]
ZH_PLACES = ["学校", "商店", "图书馆", "公园", "车站"]
SYNONYMS = [("How many", "What number of"), ("Find", "Determine"), ("What is", "Compute"), ("buys", "purchases"),
            ("gives", "hands"), ("total", "all"), ("请问", "问"), ("求", "计算")]


SYLLABLES = ["ka", "lo", "mi", "ren", "su", "ta", "vo", "zel", "ni", "dra", "po", "qui", "ber", "sha", "tor",
             "el", "an", "gri", "fu", "mo"]
ADJECTIVES = ["red", "tiny", "old", "shiny", "wooden", "striped", "rare", "heavy", "silver", "paper", "glass",
              "purple", "frozen", "golden", "broken", "spotted", "square", "round", "fancy", "plain"]
ZH_NAMES = list("明华丽强军伟芳敏静磊洋艳勇杰娟涛超秀霞刚平")


def _name(rng: random.Random) -> str:
    return "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 3))).capitalize()


def _fill(rng: random.Random, zh: bool, top: int = 999) -> tuple[str, dict]:
    """Templates with wide slots: two fills of one template share few word 5-grams."""
    slots = {k: rng.randint(2, top) for k in "abcd"}
    if zh:
        slots.update(n1="小" + rng.choice(ZH_NAMES) + rng.choice(ZH_NAMES), n2="小" + rng.choice(ZH_NAMES),
                     i1=rng.choice(ZH_ITEMS), i2=rng.choice(ZH_ITEMS), p=rng.choice(ZH_PLACES))
        slots["template"] = t = rng.randrange(len(ZH))
        return ZH[t].format(**slots), slots
    slots.update(n1=_name(rng), n2=_name(rng), i1=f"{rng.choice(ADJECTIVES)} {rng.choice(ITEMS)}",
                 i2=f"{rng.choice(ADJECTIVES)} {rng.choice(ITEMS)}", p=f"{rng.choice(ADJECTIVES)} {rng.choice(PLACES)}")
    slots["template"] = t = rng.randrange(len(EN))
    return EN[t].format(**slots), slots


def perturb(text: str, rng: random.Random) -> str:
    """One or two edits a person would call 'the same problem'."""
    for _ in range(rng.randint(1, 2)):
        kind = rng.choice(["space", "punct", "case", "latex", "swap", "synonym"])
        if kind == "space":
            text = re.sub(" ", lambda m: "  " if rng.random() < 0.3 else " ", text) + " "
        elif kind == "punct":
            text = text.replace(", ", " ", 1).rstrip("?") + "."
        elif kind == "case":
            text = text.lower() if rng.random() < 0.5 else text.upper()
        elif kind == "latex":
            text = text.replace("\\left(", "(").replace("\\right)", ")").replace("$", "$ ") if "$" in text \
                else text.replace(" ", "  ", 3)
        elif kind == "swap":
            words = text.split(" ")
            i = rng.randrange(1, max(2, len(words) - 2))
            if len(words) > 3 and not any(ch.isdigit() for ch in words[i] + words[i + 1]):
                words[i], words[i + 1] = words[i + 1], words[i]
            text = " ".join(words)
        else:
            a, b = rng.choice(SYNONYMS)
            text = text.replace(a, b, 1)
    return text


def make_set(n: int, dups: int, variants: int, seed: int = 0, top: int = 999) -> pl.DataFrame:
    """``top``: the largest number in a slot; 40 makes problems share numbers as real corpora do."""
    rng = random.Random(seed)
    rows: list[dict] = []
    seen: set[str] = set()
    while len(rows) < n - dups - variants:
        zh = rng.random() < 0.15
        text, slots = _fill(rng, zh, top)
        key = f"{zh} {slots['template']} " + " ".join(re.findall(r"\d+", text))  # template + numbers: one problem
        if key not in seen:  # (two fills that differ only in names, items or places are the same problem)
            seen.add(key)
            rows.append({"problem": text, "group": len(rows), "kind": "base", "pair": -1,
                         "template": f"{zh} {slots['template']}"})
    n_base = len(rows)
    planted_from = rng.sample(range(n_base // 2), dups)  # first half: dup sources
    for src in planted_from:
        rows.append({"problem": perturb(rows[src]["problem"], rng), "group": src, "kind": "dup", "pair": -1,
                     "template": rows[src]["template"]})
    for k in range(variants):  # second half: variant sources, never dup sources
        src = n_base // 2 + k
        text, template = rows[src]["problem"], rows[src]["template"]
        nums = re.findall(r"\d+", text)
        for _ in range(50):  # a variant must not coincide with another base's numbers (that one is the same problem)
            old = rng.choice(nums)
            new = str(int(old) + rng.randint(1, 9))
            variant = re.sub(rf"(?<!\d){old}(?!\d)", new, text, count=1)
            key = f"{template} " + " ".join(re.findall(r"\d+", variant))
            if key not in seen:
                seen.add(key)
                rows.append({"problem": variant, "group": len(rows) + 10**7, "kind": "variant", "pair": src,
                             "template": template})
                break
    rng.shuffle(rows)
    df = pl.DataFrame(rows).with_row_index("idx")
    return df.with_columns(pl.format("p{}", pl.col("idx")).alias("id"), pl.lit(None, pl.String).alias("answer"))


def load_real(path: Path = REAL) -> pl.DataFrame:
    """The real-problem set written by benchmarks/make_dedup_data.py."""
    if not path.is_file():
        raise SystemExit(f"{path} missing: run python benchmarks/make_dedup_data.py")
    df = pl.read_ndjson(path).select("id", "problem", "group", "kind", "pair")
    return df.with_row_index("idx").with_columns(pl.lit(None, pl.String).alias("answer"))


def score(df: pl.DataFrame, removed: set[int]) -> dict:
    truth = df.group_by("group").agg(pl.col("idx"))
    tp = need = lost = 0
    for members in truth["idx"].to_list():
        r = sum(1 for m in members if m in removed)
        need += len(members) - 1
        tp += min(r, len(members) - 1)
        lost += r == len(members)
    fp = len(removed) - tp
    var = df.filter(pl.col("kind") == "variant")
    bases = df.filter(pl.col("kind") == "base")
    base_idx = dict(zip(bases["group"].to_list(), bases["idx"].to_list(), strict=True))
    group_of = dict(zip(df["idx"].to_list(), df["group"].to_list(), strict=True))
    kept_groups = {group_of[i] for i in group_of if i not in removed}
    pairs_hit = sum(1 for i, p in zip(var["idx"].to_list(), var["pair"].to_list(), strict=True)
                    if group_of[i] not in kept_groups or group_of[base_idx[p]] not in kept_groups)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / need if need else 1.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"removed": len(removed), "precision": precision, "recall": recall, "f1": f1,
            "groups_lost": lost, "variants_removed": pairs_hit}


# --- the methods ----------------------------------------------------------------------------------------
def ours(df: pl.DataFrame, engine: str = "numpy") -> set[int]:
    from filters.dedup import DedupParams, dedup_groups

    marks, _ = dedup_groups(df.select("id", "problem", "answer"), DedupParams(engine=engine))
    return set(df.filter(marks["dup_reason"].is_not_null())["idx"].to_list())


def datatrove_default(df: pl.DataFrame) -> set[int]:
    from datatrove.data import Document
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.dedup.minhash import (
        MinhashConfig,
        MinhashDedupBuckets,
        MinhashDedupCluster,
        MinhashDedupSignature,
    )

    config = MinhashConfig()
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        texts = df["problem"].to_list()

        def read(data, rank: int = 0, world_size: int = 1):
            for i, text in enumerate(texts):
                yield Document(text=text, id=str(i))

        common = dict(tasks=1, workers=1, logging_dir=str(tmp_path / "logs"))
        LocalPipelineExecutor([read,
                               MinhashDedupSignature(output_folder=str(tmp_path / "sigs"), config=config)],
                              **common).run()
        LocalPipelineExecutor([MinhashDedupBuckets(input_folder=str(tmp_path / "sigs"),
                                                   output_folder=str(tmp_path / "buckets"), config=config)],
                              tasks=config.num_buckets, workers=1, logging_dir=str(tmp_path / "logs2")).run()
        LocalPipelineExecutor([MinhashDedupCluster(input_folder=str(tmp_path / "buckets"),
                                                   output_folder=str(tmp_path / "remove"), config=config)],
                              **(common | {"logging_dir": str(tmp_path / "logs3")})).run()
        import struct

        removed_docs: set[int] = set()
        for f in (tmp_path / "remove").glob("*.remove"):
            removed_docs |= {d for (d,) in struct.iter_unpack("<I", f.read_bytes())}
    idx = df["idx"].to_list()
    return {idx[d] for d in removed_docs}


def datasketch_lsh(df: pl.DataFrame, threshold: float = 0.7, num_perm: int = 128) -> set[int]:
    from datasketch import MinHash, MinHashLSH

    lsh = MinHashLSH(threshold=threshold, num_perm=num_perm)
    removed = set()
    for idx, text in zip(df["idx"].to_list(), df["problem"].to_list(), strict=True):
        words = re.sub(r"\s+", " ", text.lower()).split()
        grams = {" ".join(words[i:i + 5]).encode() for i in range(max(1, len(words) - 4))}
        m = MinHash(num_perm=num_perm)
        m.update_batch(list(grams))
        if lsh.query(m):
            removed.add(idx)
        else:
            lsh.insert(str(idx), m)
    return removed


def ngram8(df: pl.DataFrame, n: int = 8) -> set[int]:
    """The decontamination rule used as dedup: a row sharing any word 8-gram with a kept row goes."""
    removed: set[int] = set()
    seen: set[int] = set()
    for idx, text in zip(df["idx"].to_list(), df["problem"].to_list(), strict=True):
        words = re.findall(r"[\u3400-\u9fff]|[^\W_]+", text.lower())
        grams = {hash(tuple(words[i:i + n])) for i in range(max(1, len(words) - n + 1))}
        if grams & seen:
            removed.add(idx)
        else:
            seen |= grams
    return removed


def rapidfuzz_blocked(df: pl.DataFrame, threshold: float = 95.0, block: int = 10) -> set[int]:
    """OpenThoughts' fuzz.ratio >= 95, compared within length blocks (each block vs itself and the next)."""
    import numpy as np
    from rapidfuzz import fuzz, process

    texts = [re.sub(r"\s+", " ", t.lower()).strip() for t in df["problem"].to_list()]
    idx = df["idx"].to_list()
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), idx[i]))
    blocks: dict[int, list[int]] = {}
    for i in order:
        blocks.setdefault(len(texts[i]) // block, []).append(i)
    removed: set[int] = set()
    for b, block_members in blocks.items():
        nxt = block_members + blocks.get(b + 1, [])
        choices = [texts[j] for j in nxt]
        for start in range(0, len(block_members), 500):  # bounded memory: 500 x block rows at a time
            members = block_members[start:start + 500]
            scores = process.cdist([texts[i] for i in members], choices, scorer=fuzz.ratio,
                                   score_cutoff=threshold, dtype=np.uint8, workers=1)
            for a, row in enumerate(scores):
                i = members[a]
                for c in np.flatnonzero(row):
                    j = nxt[c]
                    if j != i and (len(texts[j]), idx[j]) < (len(texts[i]), idx[i]) and idx[j] not in removed:
                        removed.add(idx[i])
                        break
    return removed


METHODS = {"ours": ours, "ours-datatrove": lambda d: ours(d, "datatrove"),
           "datatrove": datatrove_default, "datasketch": datasketch_lsh, "ngram8": ngram8,
           "rapidfuzz": rapidfuzz_blocked}


def _child(name: str, df: pl.DataFrame, queue) -> None:
    from loguru import logger

    logger.remove()  # datatrove logs every bucket
    t0, c0 = time.perf_counter(), time.process_time()
    removed = METHODS[name](df)
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    queue.put((removed, seconds, cpu, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024))


def measure(name: str, df: pl.DataFrame) -> tuple[set[int], float, float, float]:
    """Each method in a fresh process: wall and CPU seconds (all threads) of the method, peak RSS."""
    import multiprocessing as mp

    ctx = mp.get_context("spawn")
    queue = ctx.Queue()
    proc = ctx.Process(target=_child, args=(name, df, queue))
    proc.start()
    removed, seconds, cpu, peak = queue.get()
    proc.join()
    return removed, seconds, cpu, peak


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _row(set_name: str, name: str, r: dict) -> None:
    print(f"{set_name:<10}{name:<16}{r['removed']:>8}{r['precision']:>10.4f}{r['recall']:>8.4f}{r['f1']:>8.4f}"
          f"{r['groups_lost']:>6}{r['variants_removed']:>9}{r['seconds']:>9.2f}{r['cpu_s']:>8.2f}{r['peak_mib']:>13.0f}",
          flush=True)


def run_sets(sets: dict[str, pl.DataFrame], methods: list[str], rounds: int) -> list[dict]:
    results = []
    print(f"{'set':<10}{'method':<16}{'removed':>8}{'precision':>10}{'recall':>8}{'F1':>8}{'lost':>6}"
          f"{'variants':>9}{'seconds':>9}{'CPU s':>8}{'peak RSS MiB':>13}")
    for k in range(rounds):
        order = methods if k % 2 == 0 else methods[::-1]
        print(f"-- round {k + 1} ({', '.join(order)}; sets {'in order' if k % 2 == 0 else 'reversed'}); "
              f"{_load()}", flush=True)
        for set_name in (list(sets) if k % 2 == 0 else list(sets)[::-1]):
            df = sets[set_name]
            for name in order:
                removed, seconds, cpu, peak = measure(name, df)
                r = score(df, removed) | {"set": set_name, "method": name, "round": k + 1, "seconds": round(seconds, 2),
                                          "cpu_s": round(cpu, 2), "peak_mib": round(peak, 1)}
                results.append(r)
                _row(set_name, name, r)
        print(f"-- end of round {k + 1}; {_load()}", flush=True)
    return results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sets", default="real,generated", help="real, generated and/or scale")
    ap.add_argument("--real", type=Path, default=REAL, help="the real-problem set (e.g. dedup_real_heldout.jsonl)")
    ap.add_argument("--n", type=int, default=50_000)
    ap.add_argument("--dups", type=int, default=5_000)
    ap.add_argument("--variants", type=int, default=2_000)
    ap.add_argument("--scale", default="50000,200000", help="sizes for --sets scale (dups 10%%, variants 4%%)")
    ap.add_argument("--methods", default="ours,datasketch,datatrove,ngram8")
    ap.add_argument("--rounds", type=int, default=2, help="rounds; even rounds run the methods in reverse")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    wanted = args.sets.split(",")
    sets: dict[str, pl.DataFrame] = {}
    if "real" in wanted:
        sets["real"] = load_real(args.real)
        kinds = sets["real"]["kind"].value_counts().sort("kind").rows()
        print(f"real: {sets['real'].height:,} rows ({', '.join(f'{k} {c}' for k, c in kinds)})")
    if "generated" in wanted:
        sets["generated"] = make_set(args.n, args.dups, args.variants)
        print(f"generated: {args.n:,} problems, {args.dups:,} planted near-duplicates, "
              f"{args.variants:,} numeric variants")
    if "scale" in wanted:
        for size in (int(x) for x in args.scale.split(",")):
            sets[f"gen{size // 1000}k"] = make_set(size, size // 10, size // 25, seed=1, top=40)
    results = run_sets(sets, args.methods.split(","), args.rounds)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":  # datatrove's local executor starts worker processes
    main()
