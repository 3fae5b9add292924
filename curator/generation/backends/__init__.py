"""LLM backends: ``embedded`` (default, in process), ``openai`` (any compatible server), ``vllm``."""

from __future__ import annotations

from typing import Any

from curator.generation.types import Backend

KINDS = ("embedded", "openai", "vllm")


def make_backend(kind: str = "embedded", **options: Any) -> Backend:
    """A backend by kind; ``options`` are its dataclass fields. Loads nothing, connects nowhere.

    >>> make_backend("embedded").identity()["kind"]
    'embedded'
    """
    if kind == "embedded":
        from curator.generation.backends.embedded import EmbeddedBackend

        return EmbeddedBackend(**options)
    if kind == "openai":
        from curator.generation.backends.openai_compat import OpenAIBackend

        return OpenAIBackend(**options)
    if kind == "vllm":
        from curator.generation.backends.vllm import VLLMBackend

        return VLLMBackend(**options)
    raise ValueError(f"unknown backend kind {kind!r}; use one of {KINDS}")
