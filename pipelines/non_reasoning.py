"""Non-reasoning SFT data as in DeepSeek-R1 stage 2.5: writing, factual QA, translation, self-cognition.

Recipe (DeepSeek-R1, section 2.3.3 "non-reasoning data", about 200k rows next to 600k reasoning
rows): the teacher answers general prompts, "with a short CoT for some prompts and none for
simple ones"; replies are kept by quality; the set must not repeat the reasoning set's problems.

1. read general prompts (the bundled en / zh sample, or yours), drop exact and near duplicates;
2. answer each with the teacher: ``cot=short`` lets it think in one or two sentences inside
   ``<think>`` when a request needs it, ``cot=none`` asks for a direct answer (and switches a
   Qwen3-style server's thinking off with ``chat_template_kwargs={"enable_thinking": false}``);
3. drop failed, cut-off, empty replies and "short" thoughts that are really long reasoning;
4. optionally score every reply with a judge model against a stated rubric
   (``filters.reply_quality.RUBRIC``), scores kept, those under ``judge_threshold`` dropped;
5. optionally drop prompts that overlap the reasoning set (``reasoning=`` a build or file);
6. write chat ``messages`` (``data/sft``) and the table.

    curator build pipelines/non_reasoning.py
    curator build pipelines/non_reasoning.py --param backend=openai --param model=deepseek-ai/DeepSeek-V3 \\
        --param endpoints=https://api.example/v1 --param judge_model=deepseek-ai/DeepSeek-V3 \\
        --param input=my_prompts.jsonl --param reasoning=out/rejection_sampling --param max_tokens=2048

Deviations and why: the demo's 135M model answers the bundled prompts in a few words
(``max_tokens=48``); the judge is off by default because the embedded model cannot return the
judge's JSON (a real judge model is one ``--param`` away); R1 publishes no rubric or threshold:
both are this project's.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from curator import InputParams, Pipeline, Stage, TableOutput
from curator.core.sources import SAMPLE_PROBLEMS
from curator.fusion.export import FusedMessages
from curator.fusion.replies import CheckReplies, reply_template, without_thinking
from curator.fusion.rows import ReplyMessages
from curator.generation import Generate, backend_from_params
from filters.decontaminate import Decontaminate
from filters.dedup import Dedup
from filters.reply_quality import JudgeReplies

GENERAL_PROMPTS = str(SAMPLE_PROBLEMS.parent / "general_prompts.jsonl")


@dataclass
class Params(InputParams):
    input: str = GENERAL_PROMPTS  # general prompts (writing, QA, translation, self-cognition; en and zh)
    backend: str = "embedded"  # embedded | openai | vllm | ray_llm
    model: str = ""  # the teacher (R1 used DeepSeek-V3); "" = the backend's default
    endpoints: str = "http://127.0.0.1:8000/v1"
    cot: str = "short"  # short: the teacher may think briefly (R1: "a short CoT for some prompts"); none: direct
    temperature: float = 0.7  # this project's default for general replies (R1 gives none)
    max_tokens: int = 48  # demo budget; real replies need 1k-4k
    judge_model: str = ""  # "" = no judge; a model name on the same backend scores every reply
    judge_threshold: int = 7  # keep replies the judge scores 7-10 (this project's default)
    reasoning: str = ""  # a build folder or a problems file: prompts overlapping it are dropped
    seed: int = 0


def reasoning_problems(spec: str) -> str:
    """A file of the reasoning set's problems: a build's main table, or the file given."""
    path = Path(spec)
    if path.is_dir():
        tables = sorted((path / "data").glob("*/train.parquet"))
        if not tables:
            raise FileNotFoundError(f"{path}: no data/<config>/train.parquet table to compare against")
        return str(tables[0])
    return spec


def build(p: Params) -> Pipeline:
    teacher = backend_from_params(p.backend, p.model, p.endpoints)
    if p.cot == "none":
        teacher = without_thinking(teacher)
    stages: list[Stage] = [
        Dedup(),
        Generate(backend=teacher, k=1, temperature=p.temperature, max_tokens=p.max_tokens,
                 template=reply_template(p.cot), seed=p.seed),  # type: ignore[arg-type]
        CheckReplies(),
    ]
    if p.judge_model:
        stages.append(JudgeReplies(backend=backend_from_params(p.backend, p.judge_model, p.endpoints),
                                   threshold=p.judge_threshold, seed=p.seed))
    if p.reasoning:
        stages.append(Decontaminate(benchmarks=(reasoning_problems(p.reasoning),)))
    stages.append(ReplyMessages())
    return Pipeline(name="non_reasoning", source=p.reader(), stages=stages,
                    outputs=[FusedMessages(config="sft"), TableOutput()])
