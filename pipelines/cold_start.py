"""DeepSeek-R1 cold start: a few thousand readable, verified long-CoT samples for SFT.

Recipe (DeepSeek-R1, "cold start"; see docs/recipes.md): sample several long chains of thought
per prompt at T=1.0, keep only those with a correct final answer AND a readable format
(reasoning inside ``<think>``, a summary, the answer in ``\\boxed{}``; no repetition, no
language mixing), one or a few per problem. Before generating, the problems are cleaned
the way s1 / Big-Math clean theirs (figures, links, unverifiable answers), deduplicated
and decontaminated against the evaluation sets (word 8-grams, s1 / open-r1). Optionally
the kept problems are cut to N with s1K's diversity draw or LIMO's reasoning-quality pick.

    curator build pipelines/cold_start.py                         # the demo: embedded model, bundled sample
    curator build pipelines/cold_start.py --param backend=openai --param model=deepseek-ai/DeepSeek-R1 \\
        --param endpoints=http://localhost:8000/v1 --param k=4 --param max_tokens=16384 \\
        --param input=ORG/NAME --param benchmarks=math500.jsonl,aime24.jsonl --param select=s1 --param n=1000

Deviations and why:

- Defaults are sized for the demo on 2 cores with the embedded 135M model: ``k=4`` and
  ``max_tokens=64``; R1's long chains need 4k-32k tokens (math rows average about 6k).
  The embedded model gets the short two-shot "brief" prompt (worked examples in R1's
  ``<think>`` / ``\\boxed{}`` format), which it answers right on about three in four
  one-digit additions and never on the harder families: real, spread-out pass rates.
- Question-type rules that guard RL rewards (multiple choice, true/false, yes/no) are off:
  SFT chains for such questions are fine. Proofs and multi-part questions are still dropped
  because their answers cannot be checked.
- R1 does not say which correct chain it kept; ``policy=random`` (seeded) avoids a length
  bias, ``shortest`` / ``longest`` are one ``--param`` away.
- Readability and language thresholds are unpublished; the defaults are this project's.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator import InputParams, Pipeline, Stage, TableOutput
from curator.answers.verify import Verify
from curator.core.sources import SAMPLE_PROBLEMS
from curator.generation import Generate, backend_from_params
from curator.generation.rewrite import repair_from_params
from curator.publish.exports import SFTMessages
from curator.selection.domains import KeywordDomains
from curator.selection.rejection_sampling import RejectionSample
from curator.selection.small_sets import SelectLimo, SelectS1
from filters.decontaminate import Decontaminate
from filters.dedup import Dedup
from filters.language import LanguageConsistency
from filters.quality import ProblemQuality, QualityRules
from filters.readability import Readability, ReadabilityRules

SAMPLE_BENCHMARK = str(SAMPLE_PROBLEMS.parent / "sample_benchmark.jsonl")


@dataclass
class Params(InputParams):
    backend: str = "embedded"  # embedded (in process) | openai (any compatible server) | vllm | ray_llm
    model: str = ""  # "" = the backend's default (embedded: smollm2-135m); openai/vllm: the model name
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai: comma-separated base URLs (vLLM serve default)
    k: int = 4  # samples per problem; R1 "several" - use 4-16 with a real teacher
    temperature: float = 1.0  # R1 cold start
    max_tokens: int = 64  # demo budget; long CoT needs 4096-32768 (R1 math rows average ~6k tokens)
    template: str = ""  # "" = r1 for real teachers, brief for the embedded model; or r1 / r1_zh / brief
    require_think: bool = True  # R1 format rule; the embedded model's two-shot brief prompt answers in <think> too
    benchmarks: tuple[str, ...] = (SAMPLE_BENCHMARK,)  # files or Hub ids to decontaminate against
    ngram: int = 8  # decontamination word n-gram: s1, open-r1 (R1: 10, Light-R1: 32)
    lang_threshold: float = 0.95  # R1 language consistency; cut-off unpublished (this project)
    policy: str = "random"  # which correct chain(s) to keep: random | shortest | longest | first | all
    per_problem: int = 1  # R1: "one or a few" readable correct chains per problem
    select: str = "none"  # none | s1 (s1K diversity + length draw) | limo (LIMO quality pick)
    n: int = 1000  # size after selection: s1K 1,000, LIMO 800
    repair: bool = False  # rewrite language-mixed / unreadable correct chains instead of dropping them (this project)
    repair_model: str = ""  # the rewriting model on the same backend; "" = the teacher
    seed: int = 0  # every random choice (sample seeds, draws, shuffles); `curator build --seed N` sets it


def selection(p: Params) -> list[Stage]:
    """Optional cut to N: s1K's draw (no probe-difficulty filter here) or LIMO's quality pick."""
    if p.select == "s1":
        return [SelectS1(n=p.n, seed=p.seed, max_pass_rate=None)]
    if p.select == "limo":  # every kept problem was solved at least once; rank by chain quality
        return [SelectLimo(n=p.n, min_correct=1, max_correct=p.k, per_k=p.k)]
    if p.select != "none":
        raise ValueError(f"--param select={p.select!r}: use none, s1 or limo")
    return []


def build(p: Params) -> Pipeline:
    model = backend_from_params(p.backend, p.model, p.endpoints)
    rules = ReadabilityRules(require_think=p.require_think)
    return Pipeline(
        name="cold_start",
        source=p.reader(),
        stages=[
            ProblemQuality(rules=QualityRules(multiple_choice=False, true_false=False, yes_no=False)),
            Dedup(),
            Decontaminate(benchmarks=p.benchmarks, ngram=p.ngram, precision=True),  # benchmarks/decontaminate.py
            KeywordDomains(),
            Generate(backend=model, k=p.k, temperature=p.temperature, max_tokens=p.max_tokens,
                     template=p.template or None, seed=p.seed),
            Verify(),
            *repair_from_params(p, model, rules),
            Readability(rules=rules),
            LanguageConsistency(threshold=p.lang_threshold),
            RejectionSample(policy=p.policy, max_per_problem=p.per_problem, seed=p.seed),  # type: ignore[arg-type]
            *selection(p),
        ],
        outputs=[TableOutput(), SFTMessages(per_problem="all")],
    )
