"""Verification: speed and accuracy of curator's grader against a plain math-verify loop.

Speed: N (gold, response) pairs, k responses per gold as in a real verify stage (long-CoT
responses with the answer boxed at the end, right and wrong ones, in many notations).
Baseline: one process calling ``math_verify.parse`` on gold and response, then ``verify``.
Ours: ``curator.answers.verify.VerifyPool`` (worker processes, cached gold parses, exact checks
first) running ``curator.answers.grading.grade``.

Accuracy: ``grade`` vs plain math-verify on the project's hand-written case table, and
``is_equivalent`` vs math-verify on math-verify's own test pairs (``--peer-cases FILE``).
Seed shapes: Chinese and multiple-choice responses to the bundled CMath, TAL-SCQ5K and MedQA
samples (their public field layouts), rendered the ways such answers are written (units, 答：,
full-width characters, choice phrasings, the option's text), right and wrong by construction;
``grade`` vs plain math-verify, with a last-letter rule for multiple choice.

    python benchmarks/verify.py --n 20000 --workers 2 --peer-cases PATH/math_verify_cases.json
    python benchmarks/verify.py --n 0 --peer-cases PATH/math_verify_cases.json   # accuracy only
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import time
from fractions import Fraction
from pathlib import Path

from math_verify import parse, verify

from curator.answers.grading import grade, is_equivalent
from curator.answers.verify import VerifyPool, grade_item

CASES = Path(__file__).resolve().parent.parent / "tests" / "data" / "answer_cases.jsonl"
DATA = Path(__file__).resolve().parent.parent / "curator" / "data"
FILLER = ("Let me think about this step by step. First we set up the equation and simplify both sides. "
          "Checking the arithmetic again, each step holds, so we can conclude. ")


def _gold_and_forms(rng: random.Random) -> tuple[str, list[str], list[str]]:
    """A gold answer, renderings equal to it, and renderings of wrong answers."""
    kind = rng.choices(["int", "frac", "dec", "expr", "tuple", "interval", "text", "big"],
                       weights=[40, 15, 10, 10, 8, 7, 5, 5])[0]
    if kind == "int":
        n = rng.randint(-999, 9999)
        return str(n), [str(n), f"{n}.0", f"x = {n}"], [str(n + rng.choice([-1, 1, 10])), str(-n - 1)]
    if kind == "big":
        n = rng.randint(10_000, 10_000_000)
        return str(n), [f"{n:,}", str(n), f"{n}\\text{{ dollars}}"], [f"{n + 1:,}", str(n // 10)]
    if kind == "frac":
        x = Fraction(rng.randint(1, 99), rng.randint(2, 99)) or Fraction(1, 2)
        forms = [f"\\frac{{{x.numerator}}}{{{x.denominator}}}", f"{x.numerator}/{x.denominator}",
                 f"\\dfrac{{{2 * x.numerator}}}{{{2 * x.denominator}}}"]
        return forms[0], forms, [f"\\frac{{{x.numerator + 1}}}{{{x.denominator}}}", f"{float(x) + 0.01:.4f}"]
    if kind == "dec":
        x = Fraction(rng.randint(1, 999), 8)
        return f"{float(x)}", [f"{float(x)}", f"\\frac{{{x.numerator}}}{{{x.denominator}}}"], [f"{float(x) + 0.5}"]
    if kind == "expr":
        a, b = rng.randint(2, 9), rng.randint(2, 30)
        gold = f"{a}\\sqrt{{{b}}}"
        return gold, [gold, f"\\sqrt{{{a * a * b}}}", f"{a} \\sqrt {{{b}}}"], [f"{a + 1}\\sqrt{{{b}}}", f"\\sqrt{{{b}}}"]
    if kind == "tuple":
        a, b = rng.randint(-9, 9), rng.randint(-9, 9)
        return f"({a}, {b})", [f"({a},{b})", f"\\left({a}, {b}\\right)"], [f"({b + 10}, {a})", f"({a}, {b + 1})"]
    if kind == "interval":
        a, b = sorted(rng.sample(range(-20, 20), 2))
        return f"({a}, {b}]", [f"({a},{b}]", f"{a} < x \\le {b}"], [f"[{a},{b}]", f"({a},{b})"]
    word = rng.choice(["Monday", "yes", "no", "even", "Paris"])
    return f"\\text{{{word}}}", [word, f"\\text{{{word}}}"], [rng.choice(["Tuesday", "odd", "Lyon"])]


def make_pairs(n: int, k: int, seed: int = 0) -> list[tuple[str, str, bool]]:
    """(gold, response, truth) with ``k`` responses per gold."""
    rng = random.Random(seed)
    out: list[tuple[str, str, bool]] = []
    while len(out) < n:
        gold, right, wrong = _gold_and_forms(rng)
        for _ in range(k):
            ok = rng.random() < 0.5
            ans = rng.choice(right if ok else wrong)
            body = FILLER * rng.randint(1, 6)
            out.append((gold, f"<think>{body}</think>{body[:120]}Therefore the answer is $\\boxed{{{ans}}}$.", ok))
    return out[:n]


def plain_math_verify(gold: str, response: str) -> bool:
    return bool(verify(parse(gold), parse(response)))


def speed(pairs: list[tuple[str, str, bool]], workers: int) -> dict[str, float]:
    t0 = time.perf_counter()
    base = [plain_math_verify(g, r) for g, r, _ in pairs]
    t_base = time.perf_counter() - t0
    t0 = time.perf_counter()
    with VerifyPool(workers=workers) as pool:
        outs = pool.map(grade_item, [(r, g, "math", None) for g, r, _ in pairs])
    t_ours = time.perf_counter() - t0
    ours = [o.value[1] if o.error is None else None for o in outs]
    truth = [t for _, _, t in pairs]
    return {"n": len(pairs), "base_s": t_base, "ours_s": t_ours,
            "base_acc": sum(b == t for b, t in zip(base, truth, strict=True)) / len(pairs),
            "ours_acc": sum(o == t for o, t in zip(ours, truth, strict=True)) / len(pairs),
            "timeouts": sum(o.error is not None for o in outs)}


def case_table() -> dict[str, float]:
    rows = [json.loads(x) for x in CASES.read_text(encoding="utf-8").splitlines() if x.strip()]
    gradable = [r for r in rows if r["expected"] is not None]
    ours = sum(grade(r["response"], r["gold"], r["kind"], options=r["options"]) is r["expected"] for r in gradable)
    base = sum(plain_math_verify(r["gold"], r["response"]) is r["expected"] for r in gradable)
    ungradable = [r for r in rows if r["expected"] is None]
    ours_none = sum(grade(r["response"], r["gold"] or "", r["kind"]) is None for r in ungradable)
    return {"n": len(gradable), "ours": ours, "base": base, "n_none": len(ungradable), "ours_none": ours_none}


def peer_suite(path: Path) -> dict[str, int]:
    rows = json.loads(path.read_text(encoding="utf-8"))
    ours = sum(is_equivalent(r["gold"], r["pred"]) is r["expected"] for r in rows)
    base = sum(plain_math_verify(r["gold"], r["pred"]) is r["expected"] for r in rows)
    return {"n": len(rows), "ours": ours, "base": base}


def _rows(name: str) -> list[dict]:
    return [json.loads(x) for x in (DATA / name).read_text(encoding="utf-8").splitlines() if x.strip()]


def _wide(s: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in s)


def _numeral(n: int) -> str:
    """0-99 in Chinese numerals (十八, 二十, 九十九)."""
    digits = "零一二三四五六七八九"
    if n < 10:
        return digits[n]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens]) + "十" + (digits[ones] if ones else "")


def _unit(question: str) -> str:
    from curator.answers.chinese import units

    return next((u for u in units() if u in question and len(u) > 0), "个")


def seed_shape_pairs() -> list[tuple[str, str, str, object, bool, str]]:
    """(response, gold, kind, options, truth, set) built from the bundled samples' public layouts."""
    from curator.core.options import parse_options

    out: list[tuple[str, str, str, object, bool, str]] = []
    for r in _rows("cmath_sample.jsonl"):  # CMath: question, golden, grade, reasoning_step
        g, u = r["golden"], _unit(r["question"])
        wrong = str(float(g) + 1).removesuffix(".0")
        for ans, ok in ((g, True), (wrong, False)):
            for form in (f"\\boxed{{{ans}}}", f"\\boxed{{{ans}{u}}}", f"所以答案是 {ans} {u}。", f"答：一共 {ans} {u}。",
                         f"\\boxed{{{_wide(ans)}}}", f"因此，所求的结果是 ${ans}$。", f"最终答案：{ans}{u}"):
                out.append((f"<think>先列式计算。</think>{form}", g, "math", None, ok, "CMath"))
        if g.isdigit() and int(g) < 100:  # forms the rules do not read: numerals, a number after the answer
            for ans, ok in ((g, True), (wrong, False)):
                for form in (f"答：一共有{_numeral(int(ans))}{u}。", f"答：共 {ans} {u}，比原来多 2 {u}。"):
                    out.append((f"<think>先列式计算。</think>{form}", g, "math", None, ok, "CMath, hard forms"))
    for r in _rows("tal_scq5k_sample.jsonl"):  # TAL-SCQ5K: problem, answer_option_list, answer_value
        opts = parse_options(r["answer_option_list"]) or {}
        g = r["answer_value"]
        other = next(k for k in opts if k != g)
        for letter, ok in ((g, True), (other, False)):
            text = opts[letter].strip("$ ")
            for form in (f"故选：{letter}", f"选项{letter}正确。", f"正确答案是{letter}项。", f"本题选{letter}。",
                         f"\\boxed{{{letter}}}", f"故选{_wide(letter)}", f"\\boxed{{{text}}}", f"所以答案是 {text}。"):
                out.append((f"<think>逐个检验选项。</think>{form}", g, "choice", r["answer_option_list"], ok, "TAL-SCQ5K"))
        out.append((f"<think>两个都像。</think>\\boxed{{{g}{other}}}", g, "choice", r["answer_option_list"], False,
                    "TAL-SCQ5K"))
    for r in _rows("medqa_sample.jsonl"):  # MedQA: question, options, answer, answer_idx, meta_info
        opts, g = r["options"], r["answer_idx"]
        other = next(k for k in opts if k != g)
        for letter, ok in ((g, True), (other, False)):
            for form in (f"The answer is {letter}.", f"Answer: ({letter}) {opts[letter]}", f"\\boxed{{{letter}}}",
                         f"The most likely answer is {opts[letter]}.", f"**Final answer: {letter}. {opts[letter]}**"):
                out.append((f"<think>Consider each option.</think>{form}", g, "choice", opts, ok, "MedQA"))
    return out


def last_letter(response: str, gold: str) -> bool:
    """The usual multiple-choice baseline: the last standalone capital A-J in the response."""
    import re

    letters = re.findall(r"(?<![A-Za-z])([A-J])(?![A-Za-z])", response.split("</think>")[-1])
    return bool(letters) and letters[-1] == gold


def seed_shapes() -> dict[str, dict[str, int]]:
    out: dict[str, dict[str, int]] = {}
    for response, gold, kind, options, truth, name in seed_shape_pairs():
        row = out.setdefault(name, {"n": 0, "ours": 0, "base": 0})
        row["n"] += 1
        row["ours"] += grade(response, gold, kind, options=options) is truth
        base = last_letter(response, gold) if kind == "choice" else plain_math_verify(gold, response)
        row["base"] += base is truth
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=20000)
    ap.add_argument("--k", type=int, default=4, help="responses per gold")
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--peer-cases", type=Path, default=None, help="math_verify_cases.json (peer suite)")
    ap.add_argument("--inline-only", action="store_true",
                    help="only time answers.grade in this process on the --n pairs (compare two checkouts)")
    args = ap.parse_args()
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    if args.inline_only:
        import os

        pairs = make_pairs(args.n, args.k)
        t0 = time.perf_counter()
        right = sum(grade(r, g, timeout_s=None) is t for g, r, t in pairs)
        print(f"inline grade: {len(pairs)} pairs in {time.perf_counter() - t0:.1f} s, accuracy {right / len(pairs):.4f}, "
              f"load average {os.getloadavg()[0]:.1f}")
        return

    shapes = seed_shapes()
    print("\n## seed shapes: Chinese and multiple-choice responses (right and wrong by construction)")
    print("| set (public layout) | pairs | plain math-verify / last letter | curator.answers.grade |")
    print("|---|---|---|---|")
    for name, r in shapes.items():
        print(f"| {name} | {r['n']} | {r['base'] / r['n']:.3f} | {r['ours'] / r['n']:.3f} |")
    if args.n <= 0:
        if args.peer_cases:
            p = peer_suite(args.peer_cases)
            print(f"\nmath-verify's own test pairs ({p['n']}): math-verify {p['base'] / p['n']:.3f}, "
                  f"is_equivalent {p['ours'] / p['n']:.3f} ({p['ours']}/{p['n']})")
        return
    s = speed(make_pairs(args.n, args.k), args.workers)
    print(f"\n## speed: {s['n']:,} (gold, response) pairs, {args.k} per gold, {args.workers} workers")
    print("| grader | seconds | pairs/s | accuracy vs construction |")
    print("|---|---|---|---|")
    print(f"| plain loop: math_verify parse + verify | {s['base_s']:.1f} | {s['n'] / s['base_s']:,.0f} | "
          f"{s['base_acc']:.4f} |")
    print(f"| curator.answers.verify pool + answers.grade | {s['ours_s']:.1f} | {s['n'] / s['ours_s']:,.0f} | "
          f"{s['ours_acc']:.4f} |")
    print(f"speed-up: {s['base_s'] / s['ours_s']:.2f}x; time-outs: {s['timeouts']}")

    c = case_table()
    print(f"\n## hand-written case table ({c['n']} gradable cases + {c['n_none']} ungradable golds)")
    print("| grader | correct | accuracy |")
    print("|---|---|---|")
    print(f"| plain math-verify (parse gold, parse response, verify) | {c['base']} | {c['base'] / c['n']:.3f} |")
    print(f"| curator.answers.grading.grade | {c['ours']} | {c['ours'] / c['n']:.3f} |")
    print(f"ungradable golds returned as None by grade: {c['ours_none']}/{c['n_none']} "
          "(math-verify has no such outcome)")

    if args.peer_cases:
        p = peer_suite(args.peer_cases)
        print(f"\n## math-verify's own test pairs ({p['n']})")
        print("| grader | agrees with the expected label | accuracy |")
        print("|---|---|---|")
        print(f"| math-verify parse + verify | {p['base']} | {p['base'] / p['n']:.3f} |")
        print(f"| curator.answers.grading.is_equivalent | {p['ours']} | {p['ours'] / p['n']:.3f} |")


if __name__ == "__main__":
    main()
