"""Accuracy for a batch of completions inside a trainer: ``grade`` in worker processes.

A trainer calls its reward function from wherever it likes: the main thread, a thread
pool (verl's async reward loop), a process pool (verl's PRIME manager). math-verify's own
time limit is ``signal.alarm``, which only works in a main thread, so here the limit is the
verify pool's: every item is graded in a long-lived worker process, and a worker silent
for ``timeout_s`` on one item is killed and that item scores 0 (a time-out, counted).

The workers belong to a :class:`RewardGrader`. Trainers call plain functions, so the
functions share one grader per process, made on first use and closed at exit; a forked
child makes its own (the parent's pipes are not its to use). Batch calls from several
threads take turns on its pool; single-item calls (verl's reward loop runs ``compute_score``
once per response in a thread executor) each take one of ``workers`` one-process pools, so
that many threads still grade ``workers`` items at a time. Workers keep their caches between calls: a gold's parse is made once
per worker (``curator.answers.grading`` caches it), and the k completions of a prompt go
to the same worker in one chunk.

Inside a daemonic process (``multiprocessing.Pool`` workers), which may not start
children, grading runs in-process under math-verify's alarm when on the main thread; from
any other thread of such a process there is no way to bound an item, so it is an error.
"""

from __future__ import annotations

import atexit
import math
import multiprocessing as mp
import os
import queue
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from curator.answers.grading import MV_TIMEOUT_S, grade_detail
from curator.answers.verify import DEFAULT_TIMEOUT_S, TIMEOUT, VerifyPool, default_workers, grade_item

#: most items sent to one worker at once (as the Verify stage); fewer for small batches so
#: both workers get a share of a trainer step's 8-64 completions
MAX_CHUNK = 64
#: one symbolic comparison per new worker before its first real item, with this long a limit
WARMUP_ITEM = ("\\boxed{\\frac{\\sqrt{2}}{2}}", "\\sin(\\pi/4)", "math", None)
WARMUP_TIMEOUT_S = 120.0


@dataclass(frozen=True)
class Graded:
    """One completion's grade: ``correct`` None = ungradable gold; ``error`` = time-out or crash."""

    extracted: str | None
    correct: bool | None
    error: str | None = None

    @property
    def accuracy(self) -> float | None:
        """The accuracy reward: 1.0 / 0.0, None when the gold can't be graded; an error is 0.0."""
        if self.error is not None:
            return 0.0
        return None if self.correct is None else float(self.correct)


@dataclass
class RewardGrader:
    """Grades batches through a :class:`VerifyPool` owned by this process.

    ``workers=0`` grades in the calling thread (math-verify's alarm then bounds an item only
    on the main thread).
    """

    workers: int = field(default_factory=default_workers)  # the project's 2-core machines
    timeout_s: float = DEFAULT_TIMEOUT_S  # math-verify's own per-call default (5 s)

    def __post_init__(self) -> None:
        self._pid = os.getpid()
        self._lock = threading.Lock()
        self._count_lock = threading.Lock()
        self._pool: VerifyPool | None = None
        self._singles: queue.SimpleQueue[VerifyPool] | None = None
        self._made: list[VerifyPool] = []
        self.timeouts = 0

    def grade(self, responses: Sequence[str | None], golds: Sequence[str | None], kinds: Sequence[str],
              options: Sequence[Any]) -> list[Graded]:
        """``grade_detail`` for every (response, gold, kind, options), in order, each under the limit."""
        n = len(responses)
        if not (len(golds) == len(kinds) == len(options) == n):
            raise ValueError(f"RewardGrader.grade: {n} responses but {len(golds)} golds, {len(kinds)} kinds, "
                             f"{len(options)} options; pass one of each per completion")
        if not n:
            return []
        items = [(grading_view(r), g, k, o) for r, g, k, o in zip(responses, golds, kinds, options, strict=True)]
        if self.workers == 0 or _daemonic():
            return [self._inline(*item) for item in items]
        self._check_pid()
        if n == 1:
            outcomes = self._single(items[0])
        else:
            with self._lock:
                if self._pool is None:
                    self._pool = self._new_pool(self.workers)
                pool = self._pool
                pool.chunk = max(1, min(MAX_CHUNK, math.ceil(n / self.workers)))
                outcomes = self._map(pool, items)
        return [Graded(*o.value) if o.error is None else Graded(None, False, o.error) for o in outcomes]

    def _map(self, pool: VerifyPool, items: list[tuple]) -> list:
        before = pool.timeouts
        outcomes = pool.map(grade_item, items)
        if pool.timeouts != before:
            with self._count_lock:
                self.timeouts += pool.timeouts - before
        return outcomes

    def _single(self, item: tuple) -> list:
        with self._lock:
            if self._singles is None:
                self._singles = queue.SimpleQueue()
                for _ in range(self.workers):
                    self._singles.put(self._new_pool(1))
            singles = self._singles
        pool = singles.get()  # blocks while every one-process pool is busy
        try:
            return self._map(pool, [item])
        finally:
            singles.put(pool)

    def _new_pool(self, workers: int) -> VerifyPool:
        """A started pool whose workers have imported math-verify and sympy already: the first
        parse in a fresh process imports them (seconds on a busy machine), which must not count
        against the first real item's time limit."""
        pool = VerifyPool(workers, WARMUP_TIMEOUT_S, chunk=1)
        pool.map(grade_item, [WARMUP_ITEM] * workers)
        pool.timeout_s = self.timeout_s
        self._made.append(pool)
        return pool

    def _check_pid(self) -> None:
        if self._pid != os.getpid():  # a forked child: the inherited workers are the parent's
            self._pool, self._singles, self._made = None, None, []
            self._pid, self._lock, self._count_lock = os.getpid(), threading.Lock(), threading.Lock()

    def _inline(self, response: str | None, gold: str | None, kind: str, options: Any) -> Graded:
        if threading.current_thread() is not threading.main_thread():
            if self.workers == 0:
                return Graded(*grade_detail(response, gold, kind, options=options, timeout_s=None))
            raise RuntimeError("curator.rewards: called from a thread of a daemonic process, where no worker "
                               "process can be started and math-verify's alarm does not work, so an item "
                               "could run forever; call from the process's main thread, from a "
                               "concurrent.futures.ProcessPoolExecutor, or pass workers=0 to accept no limit")
        try:
            return Graded(*grade_detail(response, gold, kind, options=options,
                                        timeout_s=max(1, math.ceil(min(self.timeout_s, MV_TIMEOUT_S)))))
        except TimeoutError:
            self.timeouts += 1
            return Graded(None, False, TIMEOUT)

    def close(self) -> None:
        """Stop the workers (idempotent; the next call starts new ones)."""
        with self._lock:
            if self._pid == os.getpid():
                for pool in self._made:
                    pool.close()
            self._pool, self._singles, self._made = None, None, []


def grading_view(text: str | None) -> str | None:
    """The part of a response ``grade`` reads, so a 4k-token chain of thought is not shipped to
    a worker: after the last ``</think>`` when that part is not blank (``extract_answer`` then
    looks nowhere else), a bare ``<think>`` for a truncated response (no answer either way),
    else the whole text. ``grade(view) == grade(text)`` is a tested property.

    >>> grading_view("<think>long reasoning</think> so \\\\boxed{4}")
    '</think> so \\\\boxed{4}'
    """
    if not text:
        return text
    if "</think>" in text:
        final = text.rpartition("</think>")[2]
        return "</think>" + final if final.strip() else text
    return "<think>" if "<think>" in text else text


def _daemonic() -> bool:
    return bool(mp.current_process().daemon)


_SHARED: dict[tuple[int, float], RewardGrader] = {}
_SHARED_LOCK = threading.Lock()


def shared_grader(workers: int | None = None, timeout_s: float | None = None) -> RewardGrader:
    """The process's grader for these settings (made on first use, closed at exit)."""
    key = (default_workers() if workers is None else int(workers),
           DEFAULT_TIMEOUT_S if timeout_s is None else float(timeout_s))
    with _SHARED_LOCK:
        grader = _SHARED.get(key)
        if grader is None:
            grader = _SHARED[key] = RewardGrader(*key)
        return grader


@atexit.register
def close_shared() -> None:
    """Stop every shared grader's workers (also runs at interpreter exit)."""
    with _SHARED_LOCK:
        graders = list(_SHARED.values())
        _SHARED.clear()
    for g in graders:
        g.close()
