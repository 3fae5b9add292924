"""LLM backends: ``embedded`` (default, in process), ``openai`` (any compatible server), ``vllm``,
``ray_llm`` (``ray.data.llm`` on a Ray cluster)."""

from __future__ import annotations

from typing import Any

from curator.generation.types import Backend

KINDS = ("embedded", "openai", "vllm", "ray_llm")


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
    if kind == "ray_llm":
        from curator.generation.backends.ray_llm import RayLLMBackend

        return RayLLMBackend(**options)
    raise ValueError(f"unknown backend kind {kind!r}; use one of {KINDS}")


def backend_from_params(kind: str, model: str = "", endpoints: str = "") -> Backend:
    """The backend a recipe's ``--param backend / model / endpoints`` name (comma-separated base URLs).

    ``ray_llm`` with an endpoint uses its ``http`` engine against that one server, without one
    its ``vllm`` engine (engine arguments such as tensor parallelism need ``make_backend``).
    """
    if kind != "embedded" and not model:
        raise ValueError(f"--param backend={kind} needs --param model=NAME (the served model)")
    options: dict[str, Any] = {"model": model} if model else {}
    if kind == "openai":
        options["base_url"] = [u.strip() for u in endpoints.split(",") if u.strip()]
    if kind == "ray_llm" and endpoints.strip():
        urls = [u.strip() for u in endpoints.split(",") if u.strip()]
        if len(urls) > 1:
            raise ValueError("--param backend=ray_llm takes one endpoint (ray.data.llm's http engine posts to one URL)")
        options.update(engine="http", url=urls[0])
    return make_backend(kind, **options)
