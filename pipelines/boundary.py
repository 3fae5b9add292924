"""Reasoning boundaries: pass@k and maj@k curves of several models on the same problems.

Analyses (DeepSeek-Math; "Does Reinforcement Learning Really Incentivize Reasoning Capacity in
LLMs Beyond the Base Model?", Yue et al. 2025):

1. sample k answers per problem from each model (up to k = 256; a server that honours ``n``
   gets one request per problem; every sample is cached per model, so adding a model or
   raising k reuses every finished sample);
2. grade every sample with the project's verifier;
3. per model: unbiased pass@k for k = 1, 2, 4, ... up to k, maj@k at each k with answers
   grouped by equivalence, 95% bootstrap intervals over problems, by domain, source and bin;
4. per pair: the crossover k where the model behind at k = 1 catches up, and the problems one
   model solves at some k and the other never does ("outside the boundary": what a
   distillation set should target). Written to ``<out>/report/`` (README, plots, tables).

    curator build pipelines/boundary.py                    # demo: the embedded model at T=0.3 vs T=1.0
    curator build pipelines/boundary.py --param k=256 --param max_tokens=16384 \\
        --param models="base=openai:Qwen/Qwen2.5-7B@T1.0|http://127.0.0.1:8000/v1,rl=openai:ORG/RL-7B@T1.0|http://127.0.0.1:8001/v1"

``curator compare BUILD [BUILD ...]`` draws the same report across separate builds.

Deviations and why: the demo compares one 135M model at two temperatures (a stand-in for a
base and a tuned model: no weights are downloaded) with k=8 on the bundled sample.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator import InputParams, Pipeline, Stage, TableOutput
from curator.analysis.models import parse_models
from curator.analysis.stages import TagSamples
from curator.answers.verify import Verify
from curator.generation import Generate, backend_from_params
from curator.publish.boundary_report import BoundaryReportOutput
from curator.selection.domains import KeywordDomains


@dataclass
class Params(InputParams):
    # LABEL=BACKEND[:MODEL][@T<temperature>][|ENDPOINTS], comma-separated; the demo's two "models"
    # are the embedded 135M model at two temperatures (a base vs tuned stand-in)
    models: tuple[str, ...] = ("cold=embedded@T0.3", "hot=embedded@T1.0")
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai models without their own |ENDPOINTS
    k: int = 8  # samples per problem and model; Yue et al. 2025 go to 256, DeepSeek-Math maj@64
    max_tokens: int = 48  # demo budget; a real comparison needs the models' full length (8k-32k)
    template: str = ""  # "" = brief for the embedded model, r1 otherwise
    kind: str = "math"  # answer kind for rows whose meta names none
    draws: int = 8  # random vote orders per problem for maj@k (more: smoother curves)
    limit: int | None = 24  # demo: the first 24 sample problems (additions and harder families)
    report_to: str = ""  # also write the report folder here, e.g. data_cards/examples/boundary
    seed: int = 0


def build(p: Params) -> Pipeline:
    stages: list[Stage] = [KeywordDomains()]
    for m in parse_models(p.models, default_endpoints=p.endpoints):
        backend = backend_from_params(m.backend, m.model, m.endpoints)
        stages += [Generate(backend=backend, k=p.k, temperature=m.temperature, max_tokens=p.max_tokens,
                            template=p.template or None, seed=p.seed, label=f"generate_{m.slug}"),
                   TagSamples(model=m.label, label=f"tag_{m.slug}")]
    stages.append(Verify(kind=p.kind, ks=()))
    return Pipeline(
        name="boundary",
        source=p.reader(),
        stages=stages,
        outputs=[TableOutput(), BoundaryReportOutput(copy_to=p.report_to or None, kind=p.kind, draws=p.draws,
                                                     seed=p.seed)],
    )
