"""LLM generation: prompts, backends (embedded / openai / vllm), the request cache, ``Generate``.

Other stages that need a model (consensus, judges, guess tests) call :func:`complete` with a
backend from :func:`make_backend`; it goes through the same durable request cache.
"""

from curator.generation.backends import backend_from_params, make_backend
from curator.generation.client import Generator, complete
from curator.generation.parsing import split_reasoning, to_sample
from curator.generation.prompts import TEMPLATES, PromptTemplate, row_messages
from curator.generation.request_cache import RequestCache, request_key
from curator.generation.stage import Generate
from curator.generation.types import Backend, Completion, Job, Sampling

__all__ = [
    "Backend", "Completion", "Generate", "Generator", "Job", "PromptTemplate", "RequestCache", "Sampling",
    "TEMPLATES", "backend_from_params", "complete", "make_backend", "request_key", "row_messages", "split_reasoning", "to_sample",
]
