"""Non-reasoning replies (R1 stage 2.5's ~200k writing, QA, translation, self-cognition rows).

DeepSeek-R1 had DeepSeek-V3 answer general prompts "with a short CoT for some prompts and none
for simple ones"; Qwen3's non-thinking data comes from the model with thinking switched off.
Here the teacher gets a system prompt that asks for a direct answer (``cot="none"``) or lets
it think in one or two sentences first when the request needs it (``cot="short"``); servers
that understand Qwen3's switch also get ``chat_template_kwargs={"enable_thinking": false}``
(vLLM, SGLang) for ``cot="none"``. ``check_reply`` then drops what a non-thinking reply must
not be: failed, cut off, empty, or thinking at length.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import polars as pl

from curator.core.stage import SampleFilter
from curator.generation.prompts import PromptTemplate

Cot = Literal["none", "short"]

SYSTEM = {
    "none": ("Answer the request directly and concisely, in the language of the request. Do not show your "
             "reasoning."),
    "short": ("Answer the request in the language of the request. If it needs a little thought, first think in "
              "one or two short sentences inside <think></think>; for a simple request leave the think block "
              "empty. Then give the answer."),
}
#: words a short CoT may hold before it stops being "short" (this project's default; R1 gives none)
SHORT_COT_WORDS = 80
_THINK = re.compile(r"<think>(.*?)</think>", re.S)


def reply_template(cot: Cot = "none") -> PromptTemplate:
    """The prompt for general requests: the request as the user turn, the policy as the system turn."""
    if cot not in SYSTEM:
        raise ValueError(f"cot must be one of {sorted(SYSTEM)}, got {cot!r}")
    return PromptTemplate(f"reply_{cot}", "{problem}", SYSTEM[cot])


def without_thinking(backend: Any) -> Any:
    """The same OpenAI-compatible backend with Qwen3's thinking switched off; others unchanged."""
    extra = getattr(backend, "extra_body", None)
    if not isinstance(extra, dict) or not dataclasses.is_dataclass(backend):
        return backend
    kwargs = {**extra.get("chat_template_kwargs", {}), "enable_thinking": False}
    return dataclasses.replace(backend, extra_body={**extra, "chat_template_kwargs": kwargs})


def reply_parts(text: str | None, reasoning: str | None = None) -> tuple[str, str]:
    """(thought, answer) of a reply: the ``<think>`` block (or the provider's reasoning) and the rest.

    >>> reply_parts("<think>Simple.</think> Paris.")
    ('Simple.', 'Paris.')
    """
    body = text or ""
    thought = (reasoning or "").strip()
    m = _THINK.search(body)
    if m:
        thought = thought or m.group(1).strip()
        body = body[:m.start()] + body[m.end():]
    return thought, body.strip()


def check_reply(text: str | None, reasoning: str | None, status: str | None, finish_reason: str | None,
                max_thought_words: int = SHORT_COT_WORDS) -> str | None:
    """Why a reply cannot be a non-thinking SFT answer, or None.

    >>> check_reply("<think></think>Paris.", None, "ok", "stop") is None
    True
    >>> check_reply("", None, "ok", "stop")
    'empty reply'
    """
    if status == "failed":
        return "generation failed"
    if finish_reason == "length" or status == "truncated":
        return "truncated"
    thought, answer = reply_parts(text, reasoning)
    if not answer:
        return "empty reply"
    if len(thought.split()) > max_thought_words:
        return "long reasoning in a non-thinking reply"
    return None


@dataclass
class CheckReplies(SampleFilter):
    """Drops replies that are failed, truncated, empty, or think too long to count as non-thinking."""

    max_thought_words: int = SHORT_COT_WORDS  # a "short CoT" (R1) longer than this is reasoning data

    needs: ClassVar[tuple[str, ...]] = ("samples",)

    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        def col(name: str) -> list[Any]:
            return samples[name].to_list() if name in samples.columns else [None] * samples.height

        return pl.Series("reason", [check_reply(t, r, s, f, self.max_thought_words) for t, r, s, f in zip(
            col("text"), col("reasoning"), col("status"), col("finish_reason"), strict=True)], dtype=pl.String)
