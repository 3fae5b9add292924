"""DeepSeek-R1 stage 2.5: rejection sampling at scale into a large reasoning SFT set.

Recipe (DeepSeek-R1, "rejection sampling and SFT"; see docs/recipes.md): sample many answers per
prompt from the RL checkpoint, keep only the correct ones - checked by rules, or by a judge
model (R1 used DeepSeek-V3) given the gold and the prediction where rules cannot check - and
drop chains of thought with mixed languages, long paragraphs and code blocks. R1 kept about
600k reasoning rows this way. Every kept sample becomes one SFT row, capped per problem.

    curator build pipelines/rejection_sampling.py
    curator build pipelines/rejection_sampling.py --param backend=openai --param model=my-rl-checkpoint \\
        --param endpoints=http://gpu1:8000/v1,http://gpu2:8000/v1 --param k=16 --param max_tokens=32768 \\
        --param judge_model=deepseek-ai/DeepSeek-V3 --param input=ORG/NAME --param per_problem=4
    curator build pipelines/rejection_sampling.py --param code=true --param input=taco.jsonl \\
        --param columns=question->problem      # code rows: programs checked by running their tests

Deviations and why:

- Demo defaults (``k=2``, ``max_tokens=96``, embedded 135M model with its short "brief"
  prompt, so the ``<think>`` rule is off for it); R1 samples "many" per prompt at long lengths.
- R1 does not publish its sampling temperature, per-problem cap or readability thresholds:
  ``temperature=1.0`` (as in its cold start), ``per_problem=4`` and this project's thresholds
  are parameters.
- The judge is off unless ``judge_model`` is set; it only sees samples the rules could not grade.
- ``code=true``: code problems with tests (curator.code) get the code prompt and are verified by
  running their tests in the sandbox; code blocks are then expected (set ``domain`` to ``code``
  so the readability rule allows them).
"""

from __future__ import annotations

from dataclasses import dataclass

from curator import InputParams, Pipeline, Stage, TableOutput
from curator.answers.judge import Judge
from curator.answers.verify import Verify
from curator.code.prompt import CODE_TEMPLATE
from curator.core.sources import SAMPLE_PROBLEMS
from curator.generation import Generate, backend_from_params
from curator.generation.rewrite import repair_from_params
from curator.publish.exports import SFTMessages, ShareGPT
from curator.selection.rejection_sampling import RejectionSample
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
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai: comma-separated base URLs
    k: int = 2  # samples per prompt; R1: "many" - use 8-64 with the RL checkpoint
    temperature: float = 1.0  # unpublished for stage 2.5; R1's cold start used 1.0
    max_tokens: int = 96  # demo budget; R1 math rows average ~6k tokens: use 16k-32k
    template: str = ""  # "" = r1 for real models, brief for the embedded model
    require_think: bool = True  # R1 format rule; the embedded model's two-shot brief prompt answers in <think> too
    judge_model: str = ""  # e.g. deepseek-ai/DeepSeek-V3 on the same backend; "" = rules only
    benchmarks: tuple[str, ...] = (SAMPLE_BENCHMARK,)  # files or Hub ids to decontaminate against
    ngram: int = 8  # s1, open-r1 (R1: 10)
    lang_threshold: float = 0.95  # R1 language consistency; cut-off unpublished (this project)
    max_paragraph_chars: int = 3000  # R1 "long paragraphs"; threshold unpublished (this project)
    policy: str = "all"  # R1 keeps every correct sample; shortest = Kimi k1.5 long2short
    per_problem: int = 4  # cap per problem (unpublished; keeps easy problems from dominating)
    code: bool = False  # code problems: the code prompt, and programs run against their tests (curator.code)
    repair: bool = False  # rewrite language-mixed / unreadable correct chains instead of dropping them (this project)
    repair_model: str = ""  # the rewriting model on the same backend; "" = the teacher
    seed: int = 0  # every random choice (sample seeds, draws, shuffles); `curator build --seed N` sets it


def judge(p: Params) -> list[Stage]:
    return [Judge(backend=backend_from_params(p.backend, p.judge_model, p.endpoints), seed=p.seed)] if p.judge_model else []


def build(p: Params) -> Pipeline:
    policy = backend_from_params(p.backend, p.model, p.endpoints)
    think = p.require_think
    rules = ReadabilityRules(require_think=think, max_paragraph_chars=p.max_paragraph_chars)
    return Pipeline(
        name="rejection_sampling",
        source=p.reader(),
        stages=[
            ProblemQuality(rules=QualityRules(multiple_choice=False, true_false=False, yes_no=False)),
            Dedup(),
            Decontaminate(benchmarks=p.benchmarks, ngram=p.ngram),
            Generate(backend=policy, k=p.k, temperature=p.temperature, max_tokens=p.max_tokens,
                     template=CODE_TEMPLATE if p.code else p.template or None, seed=p.seed),
            Verify(kind="code" if p.code else "math"),
            *judge(p),
            *repair_from_params(p, policy, rules),
            Readability(rules=rules),
            LanguageConsistency(threshold=p.lang_threshold),
            RejectionSample(policy=p.policy, max_per_problem=p.per_problem, seed=p.seed),  # type: ignore[arg-type]
        ],
        outputs=[TableOutput(), SFTMessages(per_problem="all"), ShareGPT(per_problem="all")],
    )
