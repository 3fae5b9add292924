"""Consensus filtering against a reference model (MedQA-style), or majority-vote pseudo-labels.

Recipe (this project's source material; RECIPES.md "Consensus filtering"): MedQA-USMLE
multiple-choice items were kept only where a reference model (DeepSeek-V3) agreed with the
gold label, 10,718 -> about 8,000, and then used as RL prompts. General form: the reference
model answers greedily (``k=1``) or by majority over ``k`` samples (maj@k); an item is kept
iff that answer is equivalent to the gold; ``reference_answer`` and ``agrees_with_reference``
are recorded either way. Items without a gold get the majority answer of ``k`` samples as a
pseudo-label, accepted only when its share is at least ``tau`` (e.g. 0.5 of 8-64 samples).

    curator build pipelines/consensus.py
    curator build pipelines/consensus.py --param input=curator/data/medqa_sample.jsonl
    curator build pipelines/consensus.py --param input=GBaker/MedQA-USMLE-4-options \\
        --param columns=question->problem --param backend=openai --param model=deepseek-chat \\
        --param endpoints=https://api.deepseek.com/v1
    curator build pipelines/consensus.py --param input=unlabelled.jsonl --param k=16 --param tau=0.5

MedQA's layout loads as it is from a file: ``question`` becomes ``problem``, its ``options`` the
``options`` column, and ``answer_idx`` the gold letter (``curator.core.items``); a Hub dataset is not
peeked at before loading, so name its question column there. Rows with options are
graded by letter (an answer giving an option's text counts as its letter); others as math.

Deviations and why: the demo uses the embedded 135M model as the "reference" on the bundled
math sample (it disagrees with most golds, so the funnel shows the filter at work); the
source used DeepSeek-V3 on MedQA. ``tau=0.5`` follows the general recipe; the source's
exact agreement rule for V3 (greedy vs maj@k) is not published, so ``k`` is a parameter.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator import InputParams, Pipeline, TableOutput
from curator.core.sources import SAMPLE_PROBLEMS
from curator.generation import backend_from_params
from curator.publish.exports import GRPOPrompts, VerlParquet
from curator.selection.consensus import Consensus
from filters.decontaminate import Decontaminate
from filters.dedup import Dedup
from filters.quality import ProblemQuality, QualityRules

SAMPLE_BENCHMARK = str(SAMPLE_PROBLEMS.parent / "sample_benchmark.jsonl")


@dataclass
class Params(InputParams):
    backend: str = "embedded"  # embedded (in process) | openai (any compatible server) | vllm | ray_llm
    model: str = ""  # the reference model; source: DeepSeek-V3 ("deepseek-chat" on DeepSeek's API)
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai: comma-separated base URLs
    k: int = 1  # 1 = greedy reference answer; >1 = maj@k (8-64 for pseudo-labels)
    temperature: float = 0.0  # greedy; use 0.7-1.0 with k > 1
    max_tokens: int = 96  # demo budget; a reasoning reference needs 2k-8k
    template: str = ""  # "" = r1 for real models, brief for the embedded model
    tau: float = 0.5  # pseudo-label acceptance: majority share (RECIPES.md)
    pseudo_label: bool = True  # label rows without gold by majority vote (False: drop them)
    kind: str = "math"  # answer kind of rows without meta.options (choice rows are detected)
    judge_model: str = ""  # served at `endpoints` (same backend); decides where rules cannot. "" = drop those
    benchmarks: tuple[str, ...] = (SAMPLE_BENCHMARK,)  # e.g. the MedQA / MedMCQA test sets
    ngram: int = 8  # s1, open-r1
    seed: int = 0


def build(p: Params) -> Pipeline:
    model = backend_from_params(p.backend, p.model, p.endpoints)
    embedded = model.identity().get("kind") == "embedded"
    template = p.template or ("brief" if embedded else "r1")
    # multiple choice is the point here; items without gold are pseudo-labelled, not dropped
    rules = QualityRules(multiple_choice=False, true_false=False, yes_no=False, missing_answer=False,
                         answer_kind=p.kind)
    return Pipeline(
        name="consensus",
        source=p.reader(),
        stages=[
            ProblemQuality(rules=rules),
            Dedup(),
            Decontaminate(benchmarks=p.benchmarks, ngram=p.ngram),
            Consensus(backend=model, k=p.k, temperature=p.temperature, max_tokens=p.max_tokens,
                      template=template, seed=p.seed, tau=p.tau,
                      pseudo_label=p.pseudo_label, kind=p.kind,
                      judge=backend_from_params(p.backend, p.judge_model, p.endpoints) if p.judge_model else None),
        ],
        outputs=[TableOutput(), VerlParquet(template=template), GRPOPrompts(template=template)],
    )
