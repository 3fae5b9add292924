"""What every stage that calls a model needs besides ``Generate`` (consensus, judge, domain
labels, guess tests): the backend from a kind or an object, the run's request cache, and the
backend closed when the stage ends (its event loop or weights released; backends reload lazily).
"""

from __future__ import annotations

from typing import Any

from curator.generation.backends import make_backend


def resolve_backend(backend: Any) -> Any:
    """A ``make_backend`` kind (``"embedded"``, ``"openai"``) or a backend object -> the object."""
    return make_backend(backend) if isinstance(backend, str) else backend


class CallsModel:
    """Mixin for stages with a ``backend`` field: ``self.cache_path`` for ``complete(..., cache=)``."""

    backend: Any
    cache_path: Any = None  # set by setup(): the run's durable request cache

    def setup(self, ctx: Any) -> None:
        self.cache_path = ctx.request_cache_path

    def teardown(self) -> None:
        close = getattr(self.backend, "close", None)
        if callable(close):
            close()
