"""Seeded generators for benchmarks/scale.py: realistic problems and long chains of thought.

Problems: competition-style statements of real length (150-450 characters), English and
Chinese from shared templates whose numbers come from small ranges, so many problems share
numbers and wording the way real corpora do; a few percent exact and near duplicates,
proofs, links, figures and missing answers, as the quality rules and dedup meet them.

Samples: k chains per problem of about ``tokens`` tokens (4 characters a token): a
``<think>`` block of steps built from a pool of reasoning sentences, then a summary with
``\\boxed{}``. The mix: correct, wrong, truncated (no ``</think>``, finish_reason length),
mixed-language (a Chinese chain with English sentences or the reverse) and repetitive
(a loop of the same lines) chains.
"""

from __future__ import annotations

import random
from collections.abc import Iterator

import polars as pl
import pyarrow as pa

EN = [
    "Let $f(x) = {a}x^2 + {b}x + {c}$. Find the sum of all real values of $x$ for which $f(x) = {d}$, "
    "and express your answer as a common fraction if it is not an integer.",
    "A bag contains {a} red marbles, {b} blue marbles and {c} green marbles. Two marbles are drawn at random "
    "without replacement. What is the probability, as a common fraction, that both marbles are the same color?",
    "In triangle $ABC$, $AB = {a}$, $BC = {b}$ and $CA = {c}$. Point $D$ lies on $BC$ such that $AD$ bisects "
    "angle $BAC$. Find the length of $BD$.",
    "How many positive integers less than ${d}$ are divisible by ${a}$ or ${b}$ but not by ${c}$? "
    "Give your answer as an integer.",
    "The sequence $a_1, a_2, a_3, \\ldots$ satisfies $a_1 = {a}$, $a_2 = {b}$ and $a_{{n+2}} = a_{{n+1}} + "
    "{c} a_n$ for all $n \\ge 1$. Find the remainder when $a_{{{d}}}$ is divided by $7$.",
    "A rectangular garden is {a} meters long and {b} meters wide. A path of uniform width surrounds the garden, "
    "and the area of the path is {d} square meters. What is the width of the path, in meters?",
    "Find the number of ordered pairs of integers $(x, y)$ with $1 \\le x, y \\le {d}$ such that "
    "$x^2 + {a}y^2$ is divisible by ${b}$.",
    "A train leaves the station at {a} km/h. {b} minutes later a second train leaves the same station on the "
    "same track at {c} km/h. How many kilometers from the station does the second train catch up?",
]
ZH = [
    "已知函数 $f(x)={a}x^2+{b}x+{c}$，若方程 $f(x)={d}$ 的所有实数根之和为 $S$，求 $S$ 的值（用最简分数表示）。",
    "袋中有{a}个红球、{b}个蓝球和{c}个绿球，从中不放回地任取两个球，求取出的两个球颜色相同的概率。",
    "在 $\\triangle ABC$ 中，$AB={a}$，$BC={b}$，$CA={c}$，点 $D$ 在边 $BC$ 上且 $AD$ 平分 $\\angle BAC$，求 $BD$ 的长。",
    "小于 ${d}$ 的正整数中，能被 ${a}$ 或 ${b}$ 整除但不能被 ${c}$ 整除的数共有多少个？",
    "一块长方形菜地长{a}米、宽{b}米，四周修一条宽度相同的小路，小路的面积是{d}平方米，求小路的宽是多少米。",
    "甲车以每小时{a}千米的速度出发，{b}分钟后乙车以每小时{c}千米的速度从同一地点沿同一路线出发，乙车在距出发点多少千米处追上甲车？",
]
TRAPS = [
    "Prove that for every positive integer $n$, the number $n^{{3}} - n$ is divisible by ${a}$.",
    "Which of the following is equal to ${a} + {b}$? (A) {c} (B) {d} (C) {a}{b} (D) none of these",
    "See https://example.org/problems/{a} for the figure, then find the area of the shaded region.",
    "[asy]draw((0,0)--({a},0)--(0,{b})--cycle);[/asy] Find the area of the triangle shown.",
]


def _numbers(rng: random.Random) -> dict[str, int]:
    return {"a": rng.randint(2, 40), "b": rng.randint(2, 60), "c": rng.randint(1, 30), "d": rng.choice(
        [10, 20, 30, 50, 100, 120, 200, 500, 1000])}


def make_problems(n: int, seed: int = 0, zh_share: float = 0.3) -> pl.DataFrame:
    """``n`` problems (see the module docstring); deterministic for a seed."""
    rng = random.Random(seed)
    problems: list[str] = []
    answers: list[str | None] = []
    for _ in range(n):
        r = rng.random()
        if problems and r < 0.03:  # exact duplicate, spacing changed
            j = rng.randrange(len(problems))
            problems.append(problems[j].replace(" ", "  ", 1))
            answers.append(answers[j])
            continue
        if problems and r < 0.05:  # near duplicate: the wording changed, numbers kept
            j = rng.randrange(len(problems))
            problems.append(problems[j].replace("Find", "Determine", 1).replace("求", "试求", 1))
            answers.append(answers[j])
            continue
        nums = _numbers(rng)
        if r < 0.07:
            problems.append(rng.choice(TRAPS).format(**nums))
            answers.append(str(nums["a"] + nums["b"]))
            continue
        template = rng.choice(ZH if rng.random() < zh_share else EN)
        problems.append(template.format(**nums))
        answers.append(None if r > 0.99 else str(nums["a"] * nums["b"] - nums["c"]))
    return pl.DataFrame({"problem": problems, "answer": answers, "source": "synthetic"})


OPEN_EN = ["First,", "Next,", "Now", "Hmm,", "Wait,", "So", "Then", "Alternatively,", "Let me see:", "Okay,",
           "Checking again,", "In that case", "On the other hand,", "Similarly,", "Hence", "Note that"]
MID_EN = ["{x} times {y} gives {xy}", "the remainder of {xy} modulo {y} is {r}", "if $n = {x}$ the count is {xy}",
          "adding {x} and {y} we get {s}", "the term $a_{{{x}}}$ equals {xy}", "the area becomes ${x} \\cdot {y}$",
          "we subtract {y} from {s} and recover {x}", "the case $k = {y}$ contributes {xy} arrangements",
          "the probability is $\\frac{{{x}}}{{{s}}}$ for this branch", "the side of length {x} is opposite {y}"]
CLOSE_EN = ["which is consistent.", "so this case is fine.", "and that matches the earlier value.",
            "but I should double check it.", "so we keep going.", "which we will use below.", "as expected.",
            "and nothing else changes.", "so the constraint holds.", "which simplifies the sum."]
OPEN_ZH = ["首先，", "接着，", "现在", "嗯，", "等一下，", "所以", "然后", "另一方面，", "再检查一遍，", "同理，", "因此", "注意到"]
MID_ZH = ["{x}乘以{y}得到{xy}", "{xy}除以{y}的余数是{r}", "当$n={x}$时个数是{xy}", "{x}加上{y}等于{s}",
          "第{x}项等于{xy}", "面积是${x}\\cdot {y}$", "从{s}中减去{y}得到{x}", "$k={y}$的情形贡献{xy}种排列"]
CLOSE_ZH = ["，这是一致的。", "，这种情况没问题。", "，和前面的结果相同。", "，但还需要再检查。", "，继续往下算。",
            "，后面会用到。", "，符合预期。", "，约束条件成立。"]


def _line(rng: random.Random, zh: bool) -> str:
    x, y = rng.randint(2, 999), rng.randint(2, 99)
    fill = {"x": x, "y": y, "xy": x * y, "s": x + y, "r": x % y}
    if zh:
        return rng.choice(OPEN_ZH) + rng.choice(MID_ZH).format(**fill) + rng.choice(CLOSE_ZH)
    return f"{rng.choice(OPEN_EN)} {rng.choice(MID_EN).format(**fill)}, {rng.choice(CLOSE_EN)}"


ENGLISH_INTRUSION = "Let me double check this step again in English before going on."
CHINESE_INTRUSION = "我们再用中文检查一遍这个步骤的计算是否正确。"
#: share of each kind of chain: correct, wrong, truncated, mixed-language, repetitive
MIX = (("correct", 0.5), ("wrong", 0.2), ("truncated", 0.1), ("mixed", 0.1), ("repetitive", 0.1))


def _block_pool(rng: random.Random, zh: bool, mixed: bool, count: int = 2048, lines: int = 8) -> list[str]:
    """``count`` paragraphs of ``lines`` reasoning lines (blank lines between some), the pieces
    chains are cut from: a million chains of 250 lines each are too many to format one by one."""
    blocks = []
    for _ in range(count):
        out: list[str] = []
        for _ in range(lines):
            if mixed and rng.random() < 0.08:
                out.append(CHINESE_INTRUSION if not zh else ENGLISH_INTRUSION)
            else:
                out.append(_line(rng, zh))
            if rng.random() < 0.3:
                out.append("")
        blocks.append("\n".join(out))
    return blocks


def make_sample_rows(n_samples: int, k: int = 4, tokens: int = 4000, seed: int = 0,
                     rows_per_frame: int = 256) -> Iterator[pl.DataFrame]:
    """Problem rows with ``k`` generated chains each, ``n_samples`` chains in all, in frames of
    ``rows_per_frame`` rows (written one by one: a million chains do not fit in memory).

    A chain's reasoning is a seeded random run of paragraphs from per-language pools (a
    repetitive chain loops three lines after its first quarter), so chains differ from each
    other while a million of them build in minutes.
    """
    import numpy as np

    from curator.core.table import SAMPLES_DTYPE

    rng = random.Random(seed)
    nrng = np.random.default_rng(seed)
    pools = {(zh, mixed): _block_pool(rng, zh, mixed) for zh in (False, True) for mixed in (False, True)}
    mean = {key: sum(map(len, pool)) / len(pool) + 1 for key, pool in pools.items()}
    kinds = [name for name, _ in MIX]
    weights = np.array([w for _, w in MIX])
    n_rows = -(-n_samples // k)
    fields = SAMPLES_DTYPE.inner.to_schema()  # type: ignore[union-attr]
    for start in range(0, n_rows, rows_per_frame):
        ids, problems, answers, langs, offsets = [], [], [], [], [0]
        cols: dict[str, list] = {name: [] for name in ("text", "reasoning", "final", "finish_reason", "status", "seed")}
        for r in range(start, min(n_rows, start + rows_per_frame)):
            nums = _numbers(rng)
            zh = rng.random() < 0.3
            answer = str(nums["a"] * nums["b"] - nums["c"])
            ids.append(f"p{r}")
            problems.append(rng.choice(ZH if zh else EN).format(**nums))
            answers.append(answer)
            langs.append("zh" if zh else "en")
            m = min(k, n_samples - r * k)
            picks = nrng.choice(len(kinds), size=m, p=weights)
            for j in range(m):
                kind = kinds[picks[j]]
                pool = pools[(zh, kind == "mixed")]
                target = (tokens * 4) // 2 if zh else tokens * 4  # a Chinese character ~ one token, an English word ~1.3
                count = max(1, int(target / mean[(zh, kind == "mixed")] * nrng.uniform(0.6, 1.4)))
                idx = nrng.integers(0, len(pool), size=count)
                if kind == "repetitive":  # a quarter of real steps, then a loop of the same three lines
                    head = "\n".join([pool[i] for i in idx[: max(1, count // 4)]])
                    loop = "\n".join(_line(rng, zh) for _ in range(3))
                    reasoning = head + ("\n" + loop) * max(1, (target - len(head)) // (len(loop) + 1))
                else:
                    reasoning = "\n".join([pool[i] for i in idx])
                if kind == "truncated":
                    text, final, finish, status = "<think>\n" + reasoning, None, "length", "truncated"
                else:
                    given = answer if kind != "wrong" else str(int(answer) + rng.randint(1, 9))
                    final = (f"综上所述，答案是 $\\boxed{{{given}}}$。" if zh else
                             f"Putting the pieces together, the answer is $\\boxed{{{given}}}$.")
                    text, finish, status = f"<think>\n{reasoning}\n</think>\n\n{final}", "stop", "ok"
                for name, value in (("text", text), ("reasoning", reasoning), ("final", final),
                                    ("finish_reason", finish), ("status", status), ("seed", j)):
                    cols[name].append(value)
            offsets.append(offsets[-1] + m)
        n = len(cols["text"])
        flat = pl.DataFrame({name: cols.get(name, [None] * n) for name in fields}, schema=fields).with_columns(
            model=pl.lit("synthetic"), completion_tokens=pl.lit(tokens, dtype=fields["completion_tokens"]))
        samples = pl.Series("samples", pa.ListArray.from_arrays(pa.array(offsets, pa.int32()),
                                                                flat.rechunk().to_arrow().to_struct_array().combine_chunks()))
        yield pl.DataFrame({"id": ids, "problem": problems, "answer": answers, "source": "synthetic",
                            "domain": "math", "language": langs}).with_columns(samples.cast(SAMPLES_DTYPE))


def write_samples(path: str, n_samples: int, **kw: object) -> int:
    """Stream ``make_sample_rows`` into one zstd Parquet file; returns the rows written."""
    import pyarrow.parquet as pq

    writer = None
    rows = 0
    try:
        for frame in make_sample_rows(n_samples, **kw):  # type: ignore[arg-type]
            table = frame.to_arrow()
            if writer is None:
                writer = pq.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table)
            rows += frame.height
    finally:
        if writer is not None:
            writer.close()
    return rows
