"""An RL prompt pool: verifiable, informative, balanced by difficulty, with curriculum splits.

Recipe (docs/recipes.md "Difficulty, RL prompt pools and curricula"):

1. clean, deduplicate and decontaminate the problems; keep only closed-form, checkable
   ones - no true/false or proofs (Big-Math, Kimi k1.5, R1 RL prompts); multiple choice with
   its options is kept (``choice=keep``, the default on a multiple-choice source: the seed's
   own RL runs used MedQA and TAL-SCQ5K), dropped (``drop``, Kimi k1.5) or opened (``open``),
   its options optionally shuffled per item (``shuffle_options=true``);
2. probe each with k samples at T=1.0 from the model to be trained (Skywork-OR1: 16) and
   take the pass rate; drop 0/k and k/k (Skywork-OR1, DAPO dynamic sampling: such groups
   give no gradient), optionally narrow to a pass-rate window (open-r1: 0.1 < p < 0.6);
3. the gold must parse; optionally drop prompts a model guesses without CoT (Kimi k1.5: 8 tries);
4. draw a pool balanced over difficulty levels x domains (Kimi k1.5: easy / medium / hard);
5. split it easy -> hard into 2-stage and 5-stage curricula (this project's source material:
   on Qwen2.5-7B, 34.5 -> 38.8 with 2 stages, 41.4 with 5), by pass rate or, with
   ``difficulty_from=level``, by MATH's ``Level 1..5`` labels;
6. export for verl (Parquet) and TRL / open-r1 GRPO, whole and per curriculum stage, with the
   very prompt the probe sent (one prompt spec per item kind and language) and Kimi k1.5's
   prioritized-sampling weight ``max(1 - pass_rate, floor)`` per prompt (verl: ``extra_info``, read by
   ``curator.analysis.verl_sampler.PrioritizedSampler``; TRL: a ``sampling_weight`` column).

    curator build pipelines/rl_pool.py
    curator build pipelines/rl_pool.py --param backend=openai --param model=Qwen/Qwen2.5-7B-Instruct \\
        --param k=16 --param max_tokens=8192 --param pool_size=20000 --param guess_tries=8 \\
        --param min_pass_rate=0.1 --param max_pass_rate=0.6
    curator build pipelines/rl_pool.py --param input=curator/data/tal_scq5k_sample.jsonl --param shuffle_options=true
    curator build pipelines/rl_pool.py --param input=curator/data/cmath_sample.jsonl

Deviations and why: demo defaults (embedded 135M model with its "brief" prompt, ``k=4``,
``max_tokens=64``); the guess test is off by default (it is one more model call per prompt);
easy / medium / hard are thirds of difficulty because Kimi k1.5 names levels, not thresholds.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from curator import InputParams, Pipeline, Stage, TableOutput, map_stage
from curator.answers.verify import Verify
from curator.core.sources import SAMPLE_PROBLEMS
from curator.generation import Generate, backend_from_params
from curator.publish.exports import GRPOPrompts, VerlParquet
from curator.selection.choice import ChoiceItems, resolve_policy
from curator.selection.curriculum import Curriculum
from curator.selection.difficulty import Difficulty
from curator.selection.domains import KeywordDomains
from curator.selection.level import LevelDifficulty
from curator.selection.priority import PriorityWeights
from curator.selection.rl_pool import Balance, Evaluable, GuessWithoutCoT, PassRateWindow
from filters.decontaminate import Decontaminate
from filters.dedup import Dedup
from filters.quality import ProblemQuality, QualityRules

SAMPLE_BENCHMARK = str(SAMPLE_PROBLEMS.parent / "sample_benchmark.jsonl")


@dataclass
class Params(InputParams):
    backend: str = "embedded"  # embedded (in process) | openai (any compatible server) | vllm | ray_llm
    model: str = ""  # the model to be trained (its pass rates define difficulty); "" = backend default
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai: comma-separated base URLs
    k: int = 4  # probe samples per problem; Skywork-OR1: 16 (math), Kimi k1.5: 10, open-r1: 8
    temperature: float = 1.0  # Skywork-OR1, open-r1: high temperature for pass rates
    max_tokens: int = 64  # demo budget; a real probe needs the policy's full length (8k-32k)
    template: str = ""  # "" = r1 for real models, brief for the embedded model
    min_pass_rate: float = 0.0  # keep min < pass_rate < max; open-r1: 0.1 / 0.6 (demo 0.2 / 0.8)
    max_pass_rate: float = 1.0
    guess_tries: int = 0  # Kimi k1.5: drop prompts guessed without CoT within 8 tries; 0 = off
    bins: str = "levels"  # levels (easy/medium/hard, Kimi k1.5) | fixed (5 pass-rate bins) | quantile
    pool_size: int = 1000  # DAPO-Math-17K, Skywork-OR1 105K, DeepScaleR 40K: set to your budget
    benchmarks: tuple[str, ...] = (SAMPLE_BENCHMARK,)  # files or Hub ids to decontaminate against
    ngram: int = 8  # s1, open-r1
    choice: str = ""  # keep | drop | open multiple-choice items; "" = keep when the source has options
    shuffle_options: bool = False  # permute each item's options (seeded), gold letter remapped
    difficulty_from: str = "pass_rate"  # pass_rate (probe) | level (MATH's Level 1..5 label)
    priority_floor: float = 0.05  # Kimi k1.5 prioritized sampling: weight max(1 - pass_rate, floor) in the exports
    seed: int = 0  # every random choice (sample seeds, draws, shuffles); `curator build --seed N` sets it


def has_options(p: Params) -> bool:
    """Whether the input is a multiple-choice source (its first 50 rows carry options); local files only."""
    if not Path(p.input).is_file():
        return False  # a Hub dataset is not opened at build time: pass choice=keep for one with options
    try:
        head = InputParams(input=p.input, split=p.split, columns=p.columns, limit=50).reader().load().table
    except Exception:  # the run itself reports unreadable input with its own error
        return False
    return "options" in head.columns and head["options"].drop_nulls().len() > 0


def keep_five_stage_split(df: pl.DataFrame) -> pl.DataFrame:
    """Keep the 5-stage curriculum in its own columns before the 2-stage one is written."""
    return df.rename({"split": "split_5stage", "splits": "splits_5stage"})


def curriculum(n_stages: int) -> Curriculum:
    return Curriculum(n_stages=n_stages, label=f"curriculum_{n_stages}stage")  # two of them: name each


def optional(p: Params, model: Any) -> list[Stage]:
    out: list[Stage] = []
    if p.guess_tries:
        out.append(GuessWithoutCoT(backend=model, tries=p.guess_tries, seed=p.seed))
    if (p.min_pass_rate, p.max_pass_rate) != (0.0, 1.0):
        out.append(PassRateWindow(low=p.min_pass_rate, high=p.max_pass_rate))
    return out


def difficulty(p: Params) -> list[Stage]:
    if p.difficulty_from == "level":  # bins from the label; 0/k and k/k still give no gradient (step 2)
        return [PassRateWindow(low=0.0, high=1.0, label="drop_unsolved_and_saturated"), LevelDifficulty()]
    if p.difficulty_from != "pass_rate":
        raise ValueError(f"difficulty_from={p.difficulty_from!r}: use pass_rate or level")
    return [Difficulty(method=p.bins, drop_unsolved=True, drop_saturated=True)]  # type: ignore[arg-type]


def build(p: Params) -> Pipeline:
    model = backend_from_params(p.backend, p.model, p.endpoints)
    template = p.template or ("brief" if model.identity().get("kind") == "embedded" else "r1")
    policy = resolve_policy(p.choice, has_options(p) if p.choice == "" else False)
    exports: list[Any] = [TableOutput()]
    for cfg, split_column in (("", None), ("_2stage", "splits"), ("_5stage", "splits_5stage")):
        exports += [VerlParquet(config="verl" + cfg, split_column=split_column, template=template),
                    GRPOPrompts(config="grpo" + cfg, split_column=split_column, template=template)]
    return Pipeline(
        name="rl_pool",
        source=p.reader(),
        stages=[
            # every rule on (true/false, yes/no, proofs, multi-part, links, figures); MC unless kept or opened
            ProblemQuality(rules=QualityRules(multiple_choice=policy == "drop")),
            ChoiceItems(policy=policy, shuffle=p.shuffle_options, seed=p.seed),
            Dedup(),
            Decontaminate(benchmarks=p.benchmarks, ngram=p.ngram),
            KeywordDomains(),
            Generate(backend=model, k=p.k, temperature=p.temperature, max_tokens=p.max_tokens,
                     template=template, seed=p.seed),
            Verify(ks=(1, p.k)),
            *difficulty(p),
            Evaluable(drop_multiple_choice=policy == "drop", drop_true_false=True, drop_proofs=True),
            *optional(p, model),
            Balance(size=p.pool_size, by=("bin", "domain"), seed=p.seed),
            PriorityWeights(floor=p.priority_floor),
            curriculum(5),
            map_stage(keep_five_stage_split, needs=("split", "splits"), adds=("split_5stage", "splits_5stage")),
            curriculum(2),
        ],
        outputs=exports,
    )
