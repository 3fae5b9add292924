"""LIMO: about 800 hard problems, each with its best reasoning chain (LIMO: Less is More for Reasoning).

Recipe (LIMO, docs/recipes.md "Small SFT sets"): (1) difficulty - drop what a 7B math model
solves, then sample a strong reasoner 32 times and keep problems it solves only 1-3 times;
(2) quality - score every correct chain by length-normalised features: elaboration,
self-verification ("check", "verify"), exploration ("perhaps", "might") and granular
connectives ("therefore", "since"), weights about 30/20/25/25; keep the best chain per
problem and the top N problems (817 in v1, 800 in v2). Cleaning, dedup and
decontamination come first, as in every recipe here.

    curator build pipelines/limo.py
    curator build pipelines/limo.py --param backend=openai --param model=deepseek-ai/DeepSeek-R1 \\
        --param probe_model=Qwen/Qwen2.5-Math-7B-Instruct --param k=32 --param max_tokens=32768

Deviations and why:

- Demo defaults: the embedded 135M model as probe and reasoner, ``k=2`` and a window of
  1..``max_correct`` of ``k`` (LIMO: 1-3 of 32 - a window scaled to k=2 would keep everything
  solved once); the weights are reported as approximate (unconfirmed) and are parameters of
  ``curator.selection.small_sets.LimoScoring``.
- One probe pass (greedy, one sample) stands for LIMO's "solved by Qwen2.5-Math-7B" test.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator import InputParams, Pipeline, TableOutput
from curator.answers.verify import Verify
from curator.core.sources import SAMPLE_PROBLEMS
from curator.generation import Generate, backend_from_params
from curator.publish.exports import SFTMessages
from curator.selection.probe import probe_from_params
from curator.selection.small_sets import SelectLimo
from filters.decontaminate import Decontaminate
from filters.dedup import Dedup
from filters.language import LanguageConsistency
from filters.quality import ProblemQuality, QualityRules
from filters.readability import Readability, ReadabilityRules

SAMPLE_BENCHMARK = str(SAMPLE_PROBLEMS.parent / "sample_benchmark.jsonl")


@dataclass
class Params(InputParams):
    backend: str = "embedded"  # embedded (in process) | openai (any compatible server) | vllm | ray_llm
    model: str = ""  # the strong reasoner (LIMO: DeepSeek-R1 and others); "" = backend default
    probe_model: str = ""  # LIMO: Qwen2.5-Math-7B-Instruct; "" = the reasoner itself
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai: comma-separated base URLs
    probe: bool = True  # drop what the probe solves
    k: int = 2  # reasoner samples per problem; LIMO: 32
    min_correct: int = 1  # LIMO: solved 1-3 times in 32
    max_correct: int = 3
    temperature: float = 1.0  # unpublished; high temperature for a spread of chains
    max_tokens: int = 96  # demo budget; LIMO chains run to tens of thousands of tokens
    probe_max_tokens: int = 64
    template: str = ""  # "" = r1 for real models, brief for the embedded model
    require_think: bool = True  # R1 format rule; the embedded model's two-shot brief prompt answers in <think> too
    n: int = 800  # LIMO v2 (817 in v1)
    benchmarks: tuple[str, ...] = (SAMPLE_BENCHMARK,)  # files or Hub ids to decontaminate against
    ngram: int = 8  # s1, open-r1
    seed: int = 0  # every random choice (sample seeds, draws, shuffles); `curator build --seed N` sets it


def build(p: Params) -> Pipeline:
    reasoner = backend_from_params(p.backend, p.model, p.endpoints)
    think = p.require_think
    return Pipeline(
        name="limo",
        source=p.reader(),
        stages=[
            ProblemQuality(rules=QualityRules(multiple_choice=False, true_false=False, yes_no=False)),
            Dedup(),
            Decontaminate(benchmarks=p.benchmarks, ngram=p.ngram),
            *probe_from_params(p),
            Generate(backend=reasoner, k=p.k, temperature=p.temperature, max_tokens=p.max_tokens,
                     template=p.template or None, seed=p.seed),
            Verify(),
            Readability(rules=ReadabilityRules(require_think=think)),
            LanguageConsistency(),
            SelectLimo(n=p.n, min_correct=p.min_correct, max_correct=p.max_correct, per_k=p.k),
        ],
        outputs=[TableOutput(), SFTMessages()],
    )
