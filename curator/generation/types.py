"""The values that travel between the stage, the cache and the backends.

A ``Job`` asks for the samples ``indices`` of one conversation; a backend answers each index
with a ``Completion`` (one choice), or with a ``Completion`` whose ``error`` says why not.
Backends know nothing about tables or the cache; the client (``client.py``) does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class Sampling:
    """Sampling parameters; every field is part of the request-cache key."""

    temperature: float = 0.7  # below R1's 1.0: the demo model is tiny
    top_p: float = 1.0
    max_tokens: int = 256
    seed: int = 0  # sample i of a problem is sampled with seed + i

    def key(self) -> dict[str, Any]:
        return {k: (repr(v) if isinstance(v, float) else v) for k, v in asdict(self).items()}

    def with_max_tokens(self, max_tokens: int) -> Sampling:
        return replace(self, max_tokens=max_tokens)


@dataclass
class Job:
    """Samples ``indices`` of one conversation. Backends that honour ``n`` send them at once."""

    messages: list[dict[str, str]]
    indices: list[int]
    sampling: Sampling
    tag: Any = None  # the caller's handle (row number); backends pass it through


@dataclass
class Completion:
    """One generated sample as it came back (before parsing)."""

    index: int
    text: str | None = None
    reasoning: str | None = None  # a provider's reasoning field (reasoning_content)
    finish_reason: str | None = None
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    model: str | None = None
    seed: int | None = None
    via: str = "n"  # "n": a choice of a multi-choice request; "single": a seeded single request
    error: str | None = None  # set when the request failed after its retries
    cached: bool = False

    def to_json(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "cached"}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Completion:
        known = {f for f in cls.__dataclass_fields__}
        return cls(**{k: v for k, v in data.items() if k in known})


#: called once per finished sample, from the thread that runs the backend
OnResult = Callable[[Job, Completion], None]


@runtime_checkable
class Backend(Protocol):
    """What the client needs from a backend."""

    def identity(self) -> dict[str, Any]:
        """Model and endpoint kind (never a key or a URL's credentials): part of every cache key."""
        ...

    def run(self, jobs: list[Job], on_result: OnResult) -> None:
        """Produce one ``Completion`` per index of every job, calling ``on_result`` as each arrives."""
        ...

    def close(self) -> None:
        """Release the model / connections."""
        ...


@dataclass
class BackendStats:
    """Counters a backend keeps while running (for the funnel's info)."""

    requests: int = 0
    retries: int = 0
    filled: int = 0  # samples that came from seeded single requests because ``n`` was not honoured
    errors: dict[str, int] = field(default_factory=dict)

    def error(self, kind: str) -> None:
        self.errors[kind] = self.errors.get(kind, 0) + 1
