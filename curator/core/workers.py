"""Process pools for CPU-bound row and sample stages (language, readability): chunks out, lists back.

A stage opens its pool in ``setup`` and closes it in ``teardown``, so the workers start once
per run, not once per batch. Results come back in input order, so the output does not depend
on the number of workers.
"""

from __future__ import annotations

import multiprocessing as mp
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any


def start_context() -> mp.context.BaseContext:
    """The process-wide forkserver on Linux (its preload list left as it is), else spawn.

    The verify pool has a forkserver of its own (``curator.answers.process_context``), so these
    pools never change how grading workers start.
    """
    if "forkserver" in mp.get_all_start_methods():
        return mp.get_context("forkserver")
    return mp.get_context("spawn")


def process_pool(workers: int) -> Executor | None:
    """A pool of ``workers`` processes (see ``start_context``), or None for ``workers <= 1``."""
    if workers <= 1:
        return None
    return ProcessPoolExecutor(max_workers=workers, mp_context=start_context())


def _run_chunk(args: tuple[Callable[..., list[Any]], Sequence[Any], tuple]) -> list[Any]:
    fn, chunk, extra = args
    return fn(chunk, *extra)


def map_chunks(fn: Callable[..., list[Any]], items: Sequence[Any], *extra: Any, pool: Executor | None = None,
               chunk: int = 1024) -> list[Any]:
    """``fn(items, *extra)`` (a list per input item), over ``pool`` in chunks when there is one.

    ``fn`` must be a module-level function (it is pickled by reference).
    """
    if pool is None or len(items) <= chunk:
        return fn(items, *extra)
    parts = [(fn, items[i:i + chunk], extra) for i in range(0, len(items), chunk)]
    return [x for part in pool.map(_run_chunk, parts) for x in part]


class OwnsProcessPool:
    """Mixin for stages that score in worker processes: the stage declares ``workers`` and a
    runtime ``_pool``; this opens the pool once in ``setup`` and shuts it in ``teardown``."""

    workers: int
    _pool: Any

    def setup(self, ctx: Any) -> None:
        self._pool = process_pool(self.workers)

    def teardown(self) -> None:
        if self._pool is not None:
            self._pool.shutdown()
            self._pool = None
