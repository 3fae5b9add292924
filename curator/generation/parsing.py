"""Raw completion -> the ``samples`` struct: reasoning, final part, status.

Reasoning comes from the provider's reasoning field (DeepSeek / vLLM ``reasoning_content``)
when there is one, else from ``<think>...</think>`` in the text. R1-style chat templates put
the opening ``<think>`` in the prompt, so a text with only ``</think>`` is split there too; an
unclosed ``<think>`` (truncated mid-thought) is all reasoning and no final part.
Parsing runs on cached raw responses, so changing it never costs a request.
"""

from __future__ import annotations

from typing import Any

from curator.core.redact import scrub_error
from curator.generation.types import Completion

OPEN, CLOSE = "<think>", "</think>"


def split_reasoning(text: str, reasoning_field: str | None = None) -> tuple[str | None, str]:
    """(reasoning or None when there is none, final part) of one completion.

    >>> split_reasoning("<think>2+2 is 4</think> The answer is \\\\boxed{4}.")
    ('2+2 is 4', 'The answer is \\\\boxed{4}.')
    >>> split_reasoning("no tags")
    (None, 'no tags')
    """
    if reasoning_field:
        return reasoning_field.strip(), text.replace(OPEN, "").replace(CLOSE, "").strip()
    start = text.find(OPEN)
    end = text.find(CLOSE, start + len(OPEN) if start >= 0 else 0)
    if start >= 0 and end >= 0:
        return text[start + len(OPEN):end].strip(), text[end + len(CLOSE):].strip()
    if start >= 0:  # never closed: cut off while thinking
        return text[start + len(OPEN):].strip(), ""
    if end >= 0:  # the template opened <think> for the model
        return text[:end].strip(), text[end + len(CLOSE):].strip()
    return None, text.strip()


def sample_status(c: Completion) -> str:
    """``failed`` (no response after retries), ``truncated`` (hit max_tokens) or ``ok``."""
    if c.error is not None or c.text is None:
        return "failed"
    if c.finish_reason == "length":
        return "truncated"
    return "ok"


def to_sample(c: Completion) -> dict[str, Any]:
    """The ``samples`` struct of ARCHITECTURE.md (``extracted`` / ``correct`` are left to verify)."""
    status = sample_status(c)
    if status == "failed":
        reasoning, final = None, None
    else:
        reasoning, final = split_reasoning(c.text or "", c.reasoning)
    return {
        "text": c.text, "reasoning": reasoning, "final": final, "extracted": None, "correct": None,
        "finish_reason": c.finish_reason, "status": status,
        "error": scrub_error(c.error) or (f"truncated at {c.completion_tokens} tokens" if status == "truncated" else None),
        "prompt_tokens": c.prompt_tokens, "completion_tokens": c.completion_tokens,
        "model": c.model, "seed": c.seed,
    }
