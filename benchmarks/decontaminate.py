"""Decontamination on real problems: precision and recall of each rule, English and Chinese.

Set: benchmarks/data/decontam_benchmark.jsonl (benchmark items: CHAMP competition problems,
reasoning-gym items, Gaokao-style Chinese items) and decontam_rows.jsonl (rows to check:
copies, corpus-edited copies and numeric variants of items = contaminated; the other CHAMP
problems, sibling reasoning-gym items and distinct Gaokao problems that share the items'
formulaic stems = clean), both written by benchmarks/make_dedup_data.py.

    python benchmarks/decontaminate.py                 # every rule, two rounds, alternate order
    python benchmarks/decontaminate.py --sweep         # + CJK n-gram length and overlap sweeps

Rules side by side: the current rule (any shared word 8-gram, CJK characters as words, plus
Light-R1's digit-free exact key), this project's recall mode (script-aware n-grams + exact),
its precision mode (shared n-grams must cover ``min_overlap`` of the item or the row), "more
than one shared n-gram", and datasketch MinHashLSH (Jaccard >= 0.5 on word 5-grams) as a
fuzzy peer.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import unicodedata
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

DATA = Path(__file__).resolve().parent / "data"
_WORD = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+")


def load(suffix: str = "") -> tuple[list[dict], list[dict]]:
    bench_path, rows_path = DATA / f"decontam_benchmark{suffix}.jsonl", DATA / f"decontam_rows{suffix}.jsonl"
    if not bench_path.is_file() or not rows_path.is_file():
        raise SystemExit("decontamination set missing: run python benchmarks/make_dedup_data.py")
    read = lambda p: [json.loads(x) for x in p.read_text(encoding="utf-8").splitlines() if x.strip()]  # noqa: E731
    return read(bench_path), read(rows_path)


# --- rules: each returns, per row, the matched item id or None ----------------------------------------
def current_rule(bench: list[dict], rows: list[dict], n: int = 8) -> list[str | None]:
    """The rule before this change: any shared word 8-gram (CJK characters are words) or exact."""
    grams: dict[int, str] = {}
    exact: dict[str, str] = {}
    for b in bench:
        words = _WORD.findall(unicodedata.normalize("NFKC", b["problem"]).lower())
        for i in range(len(words) - n + 1):
            grams.setdefault(hash(tuple(words[i:i + n])), b["id"])
        key = re.sub(r"[\W\d_]+", "", unicodedata.normalize("NFKC", b["problem"]).lower())
        if len(key) >= 20:
            exact.setdefault(key, b["id"])
    out: list[str | None] = []
    for r in rows:
        words = _WORD.findall(unicodedata.normalize("NFKC", r["problem"]).lower())
        hit = next((grams[g] for g in (hash(tuple(words[i:i + n])) for i in range(len(words) - n + 1))
                    if g in grams), None)
        key = re.sub(r"[\W\d_]+", "", unicodedata.normalize("NFKC", r["problem"]).lower())
        out.append(hit or exact.get(key))
    return out


def _ours_index(bench: list[dict], ngram: int, cjk_ngram: int | None, min_exact_chars: int = 20) -> Any:
    import polars as pl

    from filters.decontaminate import BenchmarkIndex

    items = pl.DataFrame({"item_id": [b["id"] for b in bench], "text": [b["problem"] for b in bench]})
    return BenchmarkIndex.build([("bench", items)], ngram, min_exact_chars, cjk_ngram)


def ours(bench: list[dict], rows: list[dict], ngram: int = 8, cjk_ngram: int | None = 18,
         min_overlap: float = 0.0, min_shared: int = 1, min_exact_chars: int = 12) -> list[str | None]:
    import polars as pl

    from filters.decontaminate import contamination

    index = _ours_index(bench, ngram, cjk_ngram, min_exact_chars)
    df = pl.DataFrame({"problem": [r["problem"] for r in rows]})
    if min_shared > 1:  # "more than one shared n-gram": count, then fall back to the exact rule
        from collections import Counter

        from filters.decontaminate import core_texts, exact_key, ngram_keys

        out: list[str | None] = []
        for core in core_texts(df["problem"].to_list()):
            shared: Counter[int] = Counter()
            for g in ngram_keys(core, ngram, cjk_ngram):
                shared.update(index.grams.get(g, ()))
            best = max(shared.items(), key=lambda x: x[1], default=(None, 0))
            label = index.labels[best[0]] if best[0] is not None and best[1] >= min_shared else \
                index.exact.get(exact_key(core))
            out.append(label.split(":", 1)[1] if label else None)
        return out
    marks, _ = contamination(df, index, None, min_overlap)
    return [x.split(":", 1)[1] if x else None for x in marks["contaminated_by"].to_list()]


def datasketch_rule(bench: list[dict], rows: list[dict], threshold: float = 0.5, n: int = 5) -> list[str | None]:
    from datasketch import MinHash, MinHashLSH

    def sketch(text: str) -> MinHash:
        words = _WORD.findall(unicodedata.normalize("NFKC", text).lower())
        m = MinHash(num_perm=128)
        m.update_batch([" ".join(words[i:i + n]).encode() for i in range(max(1, len(words) - n + 1))])
        return m

    lsh = MinHashLSH(threshold=threshold, num_perm=128)
    for b in bench:
        lsh.insert(b["id"], sketch(b["problem"]))
    return [min(lsh.query(sketch(r["problem"])), default=None) for r in rows]


# --- scoring ------------------------------------------------------------------------------------------
def score(rows: list[dict], found: list[str | None], lang: str | None = None) -> dict[str, Any]:
    pick = [(r, f) for r, f in zip(rows, found, strict=True) if lang is None or r["lang"] == lang]
    tp = sum(1 for r, f in pick if f and r["contaminated"])
    fp = sum(1 for r, f in pick if f and not r["contaminated"])
    fn = sum(1 for r, f in pick if not f and r["contaminated"])
    numeric = [(r, f) for r, f in pick if r["kind"].startswith("numeric")]
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"flagged": tp + fp, "precision": precision, "recall": recall,
            "f1": 2 * precision * recall / (precision + recall) if precision + recall else 0.0,
            "numeric_caught": f"{sum(1 for _, f in numeric if f)}/{len(numeric)}",
            "false_by_kind": {k: sum(1 for r, f in pick if f and not r["contaminated"] and r["kind"] == k)
                              for k in ("distinct", "other")}}


def rules(args: argparse.Namespace) -> dict[str, Callable[[list[dict], list[dict]], list[str | None]]]:
    out: dict[str, Callable[[list[dict], list[dict]], list[str | None]]] = {
        "current (8-gram any, CJK chars as words)": current_rule,
        "ours recall (script-aware, any)": lambda b, r: ours(b, r, cjk_ngram=args.cjk_ngram),
        "ours >1 shared n-gram": lambda b, r: ours(b, r, cjk_ngram=args.cjk_ngram, min_shared=2),
        f"ours precision (overlap >= {args.min_overlap})": lambda b, r: ours(b, r, cjk_ngram=args.cjk_ngram,
                                                                             min_overlap=args.min_overlap),
        "datasketch LSH 0.5 (5-grams)": datasketch_rule,
    }
    return out


def longest_shared_run(a: str, b: str) -> int:
    """Longest common run of tokens (CJK characters, words, numbers): how long a shared stem is."""
    x = _WORD.findall(unicodedata.normalize("NFKC", a).lower())
    y = _WORD.findall(unicodedata.normalize("NFKC", b).lower())
    best = 0
    prev = [0] * (len(y) + 1)
    for i in range(1, len(x) + 1):
        cur = [0] * (len(y) + 1)
        for j in range(1, len(y) + 1):
            if x[i - 1] == y[j - 1]:
                cur[j] = prev[j - 1] + 1
                best = max(best, cur[j])
        prev = cur
    return best


def stem_lengths(bench: list[dict], rows: list[dict], lang: str) -> list[int]:
    """Per clean row of ``lang``: the longest token run it shares with any benchmark item."""
    items = [b["problem"] for b in bench if b["lang"] == lang]
    return sorted(max(longest_shared_run(r["problem"], it) for it in items)
                  for r in rows if r["lang"] == lang and not r["contaminated"])


def _load() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f}"


def _print(name: str, lang: str, r: dict, seconds: float) -> None:
    print(f"{name:<44}{lang:<5}{r['flagged']:>8}{r['precision']:>10.4f}{r['recall']:>8.4f}{r['f1']:>8.4f}"
          f"{r['numeric_caught']:>10}{r['false_by_kind']['distinct']:>9}{r['false_by_kind']['other']:>7}"
          f"{seconds:>9.2f}", flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cjk-ngram", type=int, default=18)
    ap.add_argument("--min-overlap", type=float, default=0.7)
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--sweep", action="store_true", help="also sweep CJK n-gram length and min_overlap")
    ap.add_argument("--suffix", default="", help="_heldout: the second draw of make_dedup_data.py")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()
    bench, rows = load(args.suffix)
    langs = sorted({r["lang"] for r in rows})
    print(f"{len(bench)} benchmark items, {len(rows)} rows "
          f"({sum(r['contaminated'] for r in rows)} contaminated); languages {langs}")
    header = (f"{'rule':<44}{'lang':<5}{'flagged':>8}{'precision':>10}{'recall':>8}{'F1':>8}{'numeric':>10}"
              f"{'FP dist':>9}{'FP oth':>7}{'seconds':>9}")
    results = []
    table = rules(args)
    for k in range(args.rounds):
        names = list(table) if k % 2 == 0 else list(table)[::-1]
        print(f"-- round {k + 1}; {_load()}\n{header}", flush=True)
        for name in names:
            t0 = time.perf_counter()
            found = table[name](bench, rows)
            seconds = time.perf_counter() - t0
            for lang in langs:
                r = score(rows, found, lang)
                results.append(r | {"rule": name, "lang": lang, "round": k + 1, "seconds": round(seconds, 3)})
                _print(name, lang, r, seconds)
        print(f"-- end of round {k + 1}; {_load()}", flush=True)
    if args.sweep:
        zh_runs = stem_lengths(bench, rows, "zh")
        en_runs = stem_lengths(bench, rows, "en")
        pct = lambda xs, q: xs[min(len(xs) - 1, int(q * len(xs)))] if xs else 0  # noqa: E731
        print(f"longest run shared by a clean row with a benchmark item (tokens): zh max {max(zh_runs, default=0)}, "
              f"p95 {pct(zh_runs, 0.95)}, median {pct(zh_runs, 0.5)}; en max {max(en_runs, default=0)}, "
              f"p95 {pct(en_runs, 0.95)}, median {pct(en_runs, 0.5)}")
        print(f"{header}")
        for cjk in (8, 12, 16, 18, 20, 24):
            for overlap in (0.0, args.min_overlap):
                found = ours(bench, rows, cjk_ngram=cjk, min_overlap=overlap)
                r = score(rows, found, "zh")
                results.append(r | {"rule": f"sweep cjk_ngram={cjk} overlap={overlap}", "lang": "zh"})
                _print(f"sweep cjk_ngram={cjk} overlap>={overlap}", "zh", r, 0.0)
        for chars in (10, 12, 16, 20):
            found = ours(bench, rows, cjk_ngram=args.cjk_ngram, min_overlap=args.min_overlap, min_exact_chars=chars)
            for lang in langs:
                r = score(rows, found, lang)
                results.append(r | {"rule": f"sweep min_exact_chars={chars}", "lang": lang})
                _print(f"sweep min_exact_chars={chars}", lang, r, 0.0)
        for overlap in (0.3, 0.5, 0.6, 0.7, 0.8, 0.9):
            found = ours(bench, rows, cjk_ngram=args.cjk_ngram, min_overlap=overlap)
            for lang in langs:
                r = score(rows, found, lang)
                results.append(r | {"rule": f"sweep overlap={overlap}", "lang": lang})
                _print(f"sweep overlap>={overlap}", lang, r, 0.0)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))


if __name__ == "__main__":
    main()
