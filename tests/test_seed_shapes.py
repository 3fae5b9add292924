"""The seed recipes' own data shapes end to end: MedQA through consensus, TAL-SCQ5K and CMath
through the RL pool, each from its bundled sample in the public field layout, loaded as is.

Twice over, as in test_pipelines.py: on the embedded 135M model (plumbing: it finishes, the
funnel adds up, options and language reach the outputs and the card), and against a real
OpenAI-compatible server on 127.0.0.1 serving ``ShapeTeacher`` - a labelled stand-in for a
teacher's answers, NOT a model: it knows each sample's gold and answers in the ways Chinese and
multiple-choice answers are written (units, 答：, 故选：B, the option's text), right with a
per-item probability.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from curator import load_pipeline
from curator.core.options import parse_options
from tests.servers.openai_fake import serve
from tests.test_pipelines import assert_funnel_adds_up, output_file

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "curator" / "data"
MEDQA, TAL, CMATH = DATA / "medqa_sample.jsonl", DATA / "tal_scq5k_sample.jsonl", DATA / "cmath_sample.jsonl"
#: (recipe, sample) pairs the issue names
SHAPES = {"medqa": ("consensus", MEDQA), "tal": ("rl_pool", TAL), "cmath": ("rl_pool", CMATH)}


def build(recipe: str, out: Path, params: dict[str, str]) -> pl.DataFrame:
    return load_pipeline(ROOT / "pipelines" / f"{recipe}.py", params).run(out, quiet=True)


def _rows(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


class ShapeTeacher:
    """Stand-in teacher for the three samples (see the module docstring)."""

    SKILLS = (0.0, 0.3, 0.5, 0.7, 1.0, 0.6, 0.4, 0.9)

    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []
        for r in _rows(MEDQA):
            self.items.append({"stem": r["question"], "options": r["options"], "gold_text": r["answer"]})
        for r in _rows(TAL):
            opts = parse_options(r["answer_option_list"])
            self.items.append({"stem": r["problem"], "options": opts, "gold_text": opts[r["answer_value"]]})
        for r in _rows(CMATH):
            self.items.append({"stem": r["question"], "options": None, "gold": r["golden"]})
        self.prompts: list[list[dict[str, str]]] = []

    def __call__(self, req: dict[str, Any]) -> str:
        self.prompts.append(req["messages"])
        prompt = req["messages"][-1]["content"]
        item = max((i for i in self.items if i["stem"].strip() in prompt), key=lambda i: len(i["stem"]), default=None)
        if item is None:
            return "<think>?</think> \\boxed{0}"
        seed = int(req.get("seed") or 0) + int(req.get("choice_index") or 0)
        rng = random.Random(f"{item['stem']}|{seed}")
        skill = self.SKILLS[int(hashlib.sha256(item["stem"].encode()).hexdigest(), 16) % len(self.SKILLS)]
        right = rng.random() < skill
        zh = bool(re.search(r"[\u4e00-\u9fff]", item["stem"]))
        if item["options"] is None:  # CMath: a number with its unit, in a Chinese sentence
            n = item["gold"] if right else str(float(item["gold"]) + 1).removesuffix(".0")
            form = rng.choice([f"答：一共是 {n} 个。", f"所以答案是 {n} 米。", f"\\boxed{{{n}}}"])
            return f"<think>先列式，再计算。</think>{form}"
        shown = {a or b: t for a, b, t in re.findall(r"^(?:（([A-J])）|([A-J])\. )(.*)$", prompt, re.M)}
        letter = next(k for k, t in shown.items() if t.strip() == item["gold_text"].strip())
        if not right:
            letter = rng.choice([k for k in shown if k != letter])
        text = shown[letter].strip("$ ")
        if zh:
            form = rng.choice([f"故选：{letter}", f"所以答案是 {text}。", f"正确答案是{letter}项。"])
        else:
            form = rng.choice([f"The answer is {letter}.", f"\\boxed{{{letter}}}", f"The answer is {text}."])
        return f"<think>Check each option.</think>{form}"


# -- 1. the embedded model ------------------------------------------------------------------------

@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_each_shape_runs_on_the_embedded_model(shape, tmp_path):
    recipe, sample = SHAPES[shape]
    params = {"input": str(sample), "limit": "3", "max_tokens": "16", **({"k": "2"} if recipe == "rl_pool" else {})}
    out = tmp_path / "out"
    df = build(recipe, out, params)
    assert_funnel_adds_up(out, df.height)
    assert (out / "README.md").is_file()
    if df.height:  # the 135M model rarely answers right: the table is often empty
        assert df["language"].null_count() == 0
        assert shape == "cmath" or df["options"].null_count() == 0
        assert "language:" in (out / "README.md").read_text(encoding="utf-8")


# -- 2. the stand-in teacher on loopback -----------------------------------------------------------

@pytest.fixture(scope="module")
def teacher():
    t = ShapeTeacher()
    with serve(t) as server:
        yield t, server.base_url


def run(teacher, tmp_path, recipe: str, sample: Path, **params: str) -> tuple[Path, pl.DataFrame]:
    _, url = teacher
    out = tmp_path / "out"
    df = build(recipe, out, {"input": str(sample), "backend": "openai", "model": "shape-teacher",
                             "endpoints": url, "max_tokens": "64", **params})
    assert_funnel_adds_up(out, df.height)
    return out, df


def test_medqa_consensus_as_is(teacher, tmp_path):
    out, df = run(teacher, tmp_path, "consensus", MEDQA)
    assert 0 < df.height < 12 and set(df["answer"]) <= set("ABCD")  # the gold letter from answer_idx
    assert df["agrees_with_reference"].all() and df["options"].null_count() == 0
    verl = pl.read_parquet(output_file(out, "verl"))
    first = verl.row(0, named=True)
    assert "A. " in first["prompt"][-1]["content"] and first["reward_model"]["ground_truth"] in "ABCD"
    assert "language:\n- en" in (out / "README.md").read_text(encoding="utf-8")


def test_tal_rl_pool_keeps_choice_shuffles_and_exports_the_probe_prompt(teacher, tmp_path):
    t, _ = teacher
    out, df = run(teacher, tmp_path, "rl_pool", TAL, k="8", shuffle_options="true")
    assert df.height > 0 and df["options"].null_count() == 0 and set(df["language"]) <= {"zh", "en"}
    for row in df.iter_rows(named=True):  # gold letter remapped to the shuffled options
        src = next(r for r in _rows(TAL) if r["problem"] == row["problem"])
        gold_text = parse_options(src["answer_option_list"])[src["answer_value"]]
        assert json.loads(row["options"])[row["answer"]] == gold_text
    verl = pl.read_parquet(output_file(out, "verl"))
    for prompt in verl["prompt"].to_list():
        assert [dict(m) for m in prompt] in t.prompts  # the probe sent exactly this
    zh = [p[-1]["content"] for p in verl["prompt"].to_list() if re.search(r"[\u4e00-\u9fff]", p[-1]["content"])]
    assert all("请逐步推理" in c and "Please reason" not in c and "（A）" in c for c in zh)


def test_tal_rl_pool_choice_drop_removes_every_item(teacher, tmp_path):
    out, df = run(teacher, tmp_path, "rl_pool", TAL, k="2", choice="drop")
    assert df.height == 0


def test_cmath_rl_pool_grades_units_and_tags_chinese(teacher, tmp_path):
    out, df = run(teacher, tmp_path, "rl_pool", CMATH, k="8")
    assert df.height > 0 and set(df["language"]) == {"zh"}
    assert "- zh" in (out / "README.md").read_text(encoding="utf-8")
    verl = pl.read_parquet(output_file(out, "verl"))
    assert all("请逐步推理" in p[-1]["content"] and "Please reason" not in p[-1]["content"]
               for p in verl["prompt"].to_list())


def test_rl_pool_curriculum_from_math_levels(teacher, tmp_path):
    src = tmp_path / "leveled.jsonl"
    rows = [{**r, "level": f"Level {i % 5 + 1}"} for i, r in enumerate(_rows(CMATH))]
    src.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    out, df = run(teacher, tmp_path, "rl_pool", src, k="4", difficulty_from="level")
    # bins come from the label, but 0/k and k/k groups still give no gradient (DAPO): dropped with a reason
    assert df.height and df["pass_rate"].is_between(0.0, 1.0, closed="none").all()
    window = json.loads((out / "funnel.json").read_text())["stages"]
    drop = next(s for s in window if s["stage"] == "drop_unsolved_and_saturated")
    assert drop["rows_in"] == drop["rows_out"] + sum(drop["dropped"].values())
    assert set(df["bin"]) <= {f"level {n}" for n in range(1, 6)} and df["bin"].n_unique() >= 2
    first = df.sort("difficulty")["split"][0]
    easy, hard = df.filter(pl.col("split") == first), df.filter(pl.col("split") != first)
    assert hard.height and easy["level"].max() <= hard["level"].min()  # stage 1 holds the lower levels
