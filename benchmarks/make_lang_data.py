"""Writes benchmarks/data/lang_cots.jsonl: labelled consistent / mixed Chinese and English CoTs.

Built from hand-written sentence pools (below), seeded, so the file is reproducible:

    python benchmarks/make_lang_data.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

ZH = [
    "首先，我们把方程两边同时减去三。", "然后两边同时除以二，得到 $x = 4$。", "我们需要求出三角形的面积。",
    "根据勾股定理，斜边的平方等于两条直角边的平方和。", "所以 $c^2 = a^2 + b^2$。", "接下来检查这个结果是否正确。",
    "把 $x = 4$ 代回原方程，左边等于右边。", "因此答案是正确的。", "我们设这个数为 $n$。",
    "由题意可知，$n$ 是一个正整数。", "考虑所有可能的情况。", "当 $n$ 是偶数时，结论显然成立。",
    "当 $n$ 是奇数时，我们需要进一步分析。", "这样一来，问题就简化了。", "注意到 $\\frac{1}{2} + \\frac{1}{3} = \\frac{5}{6}$。",
    "等一下，我好像算错了。", "让我重新计算一遍。", "这个函数在区间上是单调递增的。", "所以最大值在右端点取得。",
    "最后把所有的结果加起来。", "综上所述，最终答案是 $\\boxed{12}$。", "我们先画出示意图。",
    "利用等差数列的求和公式。", "这里的公差是 $d = 3$。", "前十项的和为 $S_{10} = 165$。",
    "设 $f(x) = x^2 - 5x + 6$，求它的零点。", "因式分解得 $(x-2)(x-3) = 0$。", "所以两个根分别是二和三。",
]
EN = [
    "First, we subtract three from both sides of the equation.", "Then we divide both sides by two to get $x = 4$.",
    "We need to find the area of the triangle.", "By the Pythagorean theorem, the square of the hypotenuse equals the sum of the squares.",
    "So $c^2 = a^2 + b^2$.", "Next, let us check whether this result is correct.",
    "Substituting $x = 4$ back, both sides are equal.", "Therefore the answer is correct.", "Let the number be $n$.",
    "From the problem, $n$ is a positive integer.", "Consider every possible case.", "When $n$ is even, the claim clearly holds.",
    "When $n$ is odd, we need more analysis.", "This simplifies the problem a lot.",
    "Note that $\\frac{1}{2} + \\frac{1}{3} = \\frac{5}{6}$.", "Wait, I think I made a mistake.", "Let me recompute that.",
    "The function is increasing on the interval.", "So the maximum is attained at the right endpoint.",
    "Finally, we add all the results together.", "In summary, the final answer is $\\boxed{12}$.",
    "Let me draw a quick sketch first.", "We use the formula for the sum of an arithmetic series.",
    "Here the common difference is $d = 3$.", "The sum of the first ten terms is $S_{10} = 165$.",
    "Let $f(x) = x^2 - 5x + 6$ and find its zeros.", "Factoring gives $(x-2)(x-3) = 0$.", "So the two roots are two and three.",
]
ZH_PUNCT = {".": "。", ",": "，", ":": "：", "?": "？", "!": "！"}


def _cot(pool: list[str], rng: random.Random, k: int) -> list[str]:
    return rng.sample(pool, k)


def _zh_punct(sentence: str) -> str:
    return "".join(ZH_PUNCT.get(c, c) for c in sentence)


def make(seed: int = 0, per_kind: int = 55) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(per_kind):
        rows.append({"target": "zh", "label": "consistent", "kind": "zh",
                     "text": "".join(_cot(ZH, rng, rng.randint(5, 12)))})
        en = _cot(EN, rng, rng.randint(5, 12))
        if i % 3 == 0:  # Chinese punctuation only: still English
            en = [_zh_punct(s) for s in en]
        rows.append({"target": "en", "label": "consistent", "kind": "en" if i % 3 else "en+zh-punct",
                     "text": " ".join(en)})
        zh = _cot(ZH, rng, rng.randint(6, 14))
        zh.insert(rng.randrange(1, len(zh)), rng.choice(EN))  # one English sentence inside a Chinese CoT
        rows.append({"target": "zh", "label": "mixed", "kind": "zh+en-sentence", "text": "".join(zh)})
        en = _cot(EN, rng, rng.randint(6, 14))
        en.insert(rng.randrange(1, len(en)), rng.choice(ZH))  # one Chinese sentence inside an English CoT
        rows.append({"target": "en", "label": "mixed", "kind": "en+zh-sentence", "text": " ".join(en)})
    return rows


if __name__ == "__main__":
    out = Path(__file__).parent / "data" / "lang_cots.jsonl"
    rows = make()
    out.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    print(f"wrote {len(rows)} rows to {out.name}")
