"""s1K: 1,000 hard, diverse problems with long reasoning traces (s1: simple test-time scaling).

Recipe (s1, RECIPES.md "Small SFT sets"): from a large pool, (1) quality - drop ``[asy]``
figures (unless AIME), images, links, formatting artefacts; exact dedup; decontaminate
against the evaluation sets with word 8-grams; (2) difficulty - drop every problem a probe
model solves (s1 used Qwen2.5-7B and 32B); (3) diversity - label domains (s1: MSC codes),
then repeatedly pick a domain uniformly and in it a problem with probability proportional
to 2^-rank by reasoning length (longest first), to 1,000. The traces come from a teacher
(s1: Gemini Flash Thinking; s1.1: DeepSeek-R1).

    curator build pipelines/s1k.py
    curator build pipelines/s1k.py --param backend=openai --param model=deepseek-ai/DeepSeek-R1 \\
        --param probe_model=Qwen/Qwen2.5-32B-Instruct --param max_tokens=32768 --param input=ORG/NAME

Deviations and why:

- One probe model (``probe_model``, on the same backend) instead of two; a second is a
  copy of the two probe stages. The probe answers greedily once per problem.
- Domains come from keyword rules (``curator/data/domain_keywords.json``) where the source
  has none, not from an LLM classifier; ``curator.selection.domains.MscDomains`` is the LLM way.
- ``require_correct=True`` keeps only traces whose answer matches the gold, which s1K did
  not require of every item; a wrong trace teaches a wrong answer.
- Demo defaults: embedded 135M model as both probe and teacher, ``max_tokens=96``.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator import InputParams, Pipeline, Stage, TableOutput
from curator.answers.verify import Verify
from curator.core.sources import SAMPLE_PROBLEMS
from curator.generation import Generate, backend_from_params
from curator.publish.exports import SFTMessages
from curator.selection.domains import KeywordDomains
from curator.selection.probe import probe_from_params
from curator.selection.rejection_sampling import RejectionSample
from curator.selection.small_sets import SelectS1
from filters.decontaminate import Decontaminate
from filters.dedup import Dedup
from filters.quality import ProblemQuality, QualityRules

SAMPLE_BENCHMARK = str(SAMPLE_PROBLEMS.parent / "sample_benchmark.jsonl")


@dataclass
class Params(InputParams):
    backend: str = "embedded"  # embedded (in process) | openai (any compatible server) | vllm | ray_llm
    model: str = ""  # the teacher writing the traces; s1.1: DeepSeek-R1; "" = backend default
    probe_model: str = ""  # solves -> too easy; s1: Qwen2.5-7B and 32B; "" = the teacher itself
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai: comma-separated base URLs
    probe: bool = True  # s1's difficulty filter; off keeps every problem
    temperature: float = 1.0  # teacher sampling (s1 does not publish it)
    max_tokens: int = 96  # demo budget; s1K traces run to tens of thousands of tokens
    probe_max_tokens: int = 64  # demo budget for the probe's answer
    template: str = ""  # "" = r1 for real models, brief for the embedded model
    n: int = 1000  # s1K
    require_correct: bool = True  # see the docstring
    benchmarks: tuple[str, ...] = (SAMPLE_BENCHMARK,)  # s1: MATH500, GPQA Diamond, AIME24 ...
    ngram: int = 8  # s1
    seed: int = 0


def correct_only(p: Params) -> list[Stage]:
    return [RejectionSample(policy="first", max_per_problem=1)] if p.require_correct else []


def build(p: Params) -> Pipeline:
    teacher = backend_from_params(p.backend, p.model, p.endpoints)
    return Pipeline(
        name="s1k",
        source=p.reader(),
        stages=[
            ProblemQuality(rules=QualityRules(multiple_choice=False, true_false=False, yes_no=False)),
            Dedup(near=False),  # s1: exact dedup
            Decontaminate(benchmarks=p.benchmarks, ngram=p.ngram, precision=True),  # benchmarks/decontaminate.py
            KeywordDomains(),
            *probe_from_params(p),
            Generate(backend=teacher, k=1, temperature=p.temperature, max_tokens=p.max_tokens,
                     template=p.template or None, seed=p.seed),
            Verify(),
            *correct_only(p),
            SelectS1(n=p.n, seed=p.seed, max_pass_rate=None),  # the probe already removed the solved
        ],
        outputs=[TableOutput(), SFTMessages(require_correct=p.require_correct, on_missing="skip")],
    )
