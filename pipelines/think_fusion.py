"""Qwen3 thinking-mode fusion: one SFT set that teaches a model to think or not, on request.

Recipe (Qwen3 technical report, post-training stage 3 "thinking mode fusion"; the Qwen3 model
cards): continual SFT on long-CoT data ("thinking") plus instruction data without reasoning
("non-thinking"), so one model serves both modes. Users switch with ``/think`` and ``/no_think``
at the end of a user turn, and in a multi-turn conversation the last flag wins. A non-thinking
reply keeps an empty think block, ``<think>\\n\\n</think>\\n\\n``, exactly as Qwen3's chat template
writes it. Qwen3 generated the non-thinking data with its own stage-2 model; here it comes from
any teacher (``pipelines/non_reasoning.py``, thinking switched off with ``cot=none``).

1. read a long-CoT build (any recipe's output: each problem's first correct chain with its
   reasoning) and a non-reasoning build (each prompt's first kept reply);
2. draw the mix: ``think_ratio`` of the single-turn rows think (exact within one row),
   ``multi_turn_share`` of all rows are two-turn conversations that switch modes, per-domain
   shares if given; every item not drawn is kept in the rejects with its reason;
3. write chat ``messages`` (``data/fused``, registered for LLaMA-Factory) with ``mode`` and
   ``domain``; the card states the mix and shows one row of each kind.

    curator build pipelines/think_fusion.py     # builds out/cold_start and out/non_reasoning first if missing
    curator build pipelines/think_fusion.py --param reasoning=out/my_long_cot --param general=out/my_replies \\
        --param think_ratio=0.6 --param multi_turn_share=0.1 --param domain_shares=math=0.5,writing=0.2

Deviations and why: Qwen3 publishes neither the mix ratio nor the share of multi-turn rows;
the defaults (half and half, a tenth multi-turn) are this project's and are parameters.
"""

from __future__ import annotations

from dataclasses import dataclass

from curator import Pipeline, TableOutput
from curator.fusion.export import FusedMessages
from curator.fusion.source import FusionInputs
from curator.fusion.stages import Fuse


@dataclass
class Params:
    reasoning: str = "pipelines/cold_start.py"  # a long-CoT build folder, or a recipe to build first
    general: str = "pipelines/non_reasoning.py"  # a non-reasoning build folder, or a recipe to build first
    think_ratio: float = 0.5  # share of thinking rows among single-turn rows (Qwen3: unpublished)
    multi_turn_share: float = 0.1  # share of two-turn rows that switch modes (this project's default)
    size: int = 0  # total rows; 0 = as many as the items allow at this ratio
    domain_shares: str = ""  # e.g. "arithmetic=0.5,writing=0.2"; "" = as the items come
    flags: bool = True  # /think on thinking turns too; False leaves them unflagged (Qwen3's default mode)
    seed: int = 0


def shares(spec: str) -> dict[str, float]:
    """``"math=0.5,writing=0.2"`` -> ``{"math": 0.5, "writing": 0.2}``."""
    out: dict[str, float] = {}
    for part in filter(None, (s.strip() for s in spec.split(","))):
        name, _, value = part.partition("=")
        try:
            out[name.strip()] = float(value)
        except ValueError:
            raise ValueError(f"domain_shares entry {part!r} must be DOMAIN=SHARE, e.g. writing=0.2") from None
    return out


def build(p: Params) -> Pipeline:
    return Pipeline(
        name="think_fusion",
        source=FusionInputs(reasoning=p.reasoning, general=p.general),  # type: ignore[arg-type]
        stages=[Fuse(think_ratio=p.think_ratio, multi_turn_share=p.multi_turn_share, size=p.size or None,
                     domain_shares=shares(p.domain_shares), flags=p.flags, seed=p.seed)],
        outputs=[FusedMessages(), TableOutput()],
    )
