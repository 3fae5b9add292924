"""Grading in worker processes with a per-item wall-clock limit.

math-verify bounds its own work with ``signal.alarm``, which only works in a process's
main thread and cannot interrupt sympy stuck inside C code. So grading runs in worker
processes that call math-verify with its alarms off, and the parent enforces the limit:
a worker silent for longer than ``timeout_s`` on an item is killed and replaced, that item
is recorded as a time-out, and the rest of the batch goes on. One pathological LaTeX
input costs one time-out, not the run.

Workers are long-lived (started from a forkserver that has already imported sympy), get
contiguous chunks (the k samples of a problem share a gold, whose parse each worker
caches) and report every item as it finishes.
"""

from __future__ import annotations

import json
import logging
import multiprocessing as mp
import os
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from curator.answers import forms
from curator.answers import grading as answers
from curator.answers.process_context import verify_context
from curator.code import execute as code_execute
from curator.code import grade as code_grade
from curator.code import harness as code_harness
from curator.core.stage import Stage, StageOutput, runtime

if TYPE_CHECKING:
    from curator.code.sandbox import SandboxConfig

TIMEOUT = "timeout"
#: seconds per item before a worker is killed: math-verify's own default per call
DEFAULT_TIMEOUT_S = 5.0  # math_verify.parse(parsing_timeout=5)
#: items sent to a worker at once (one pickle round trip per chunk, results stream back)
CHUNK = 64


@dataclass(frozen=True)
class Outcome:
    """What one item produced: ``value``, or ``error`` ("timeout", "worker died: ...", exception)."""

    value: Any = None
    error: str | None = None


# -- what workers run (module-level so they pickle by reference) --------------------------


def grade_item(response: str | None, gold: str | None, kind: str, options: Any) -> tuple[str | None, bool | None]:
    """(extracted, correct) for one sample; alarms off: the pool owns the time limit."""
    return answers.grade_detail(response, gold, kind, options=options, timeout_s=None)


def majority_item(extracted: Sequence[str | None], gold: str | None, kind: str,
                  options: Any) -> tuple[str | None, float, bool | None, bool]:
    """(majority answer, its share, whether it is correct, whether the gold is gradable)."""
    maj, frac = answers.majority_answer(list(extracted), kind, options=options, timeout_s=None)
    if not answers.gold_is_parseable(gold, kind, timeout_s=None):
        return maj, frac, None, False
    ok = maj is not None and answers.is_equivalent(gold, maj, kind, options=options, timeout_s=None)
    return maj, frac, ok, True


def equivalent_item(gold: str | None, predicted: str | None, kind: str, options: Any) -> bool:
    """``is_equivalent`` for one pair (consensus, judge fallbacks)."""
    return answers.is_equivalent(gold, predicted, kind, options=options, timeout_s=None)


def _worker_main(conn: Connection) -> None:
    logging.getLogger("math_verify").setLevel(logging.CRITICAL)
    while True:
        try:
            msg = conn.recv()
        except EOFError:
            return
        if msg is None:
            return
        fn, chunk = msg
        for idx, args in chunk:
            try:
                conn.send((idx, fn(*args), None))
            except Exception as err:  # a bad item is a recorded error, never a dead run
                conn.send((idx, None, f"{type(err).__name__}: {err}"))


# -- the pool -----------------------------------------------------------------------------


def _context() -> mp.context.BaseContext:
    return verify_context()  # the pool's own forkserver (curator.answers.process_context)


class _Worker:
    def __init__(self, ctx: mp.context.BaseContext) -> None:
        self.conn, child = ctx.Pipe()
        self.proc = ctx.Process(target=_worker_main, args=(child,), daemon=True)
        self.proc.start()
        child.close()
        self.pending: deque[tuple[int, tuple]] = deque()
        self.deadline = 0.0

    def send(self, fn: Callable, chunk: list[tuple[int, tuple]], timeout_s: float) -> None:
        self.pending.extend(chunk)
        self.deadline = time.monotonic() + timeout_s
        self.conn.send((fn, chunk))

    def kill(self) -> None:
        self.proc.kill()
        self.proc.join()
        self.conn.close()

    def stop(self) -> None:
        try:
            self.conn.send(None)
        except (OSError, BrokenPipeError):
            pass
        self.proc.join(timeout=2)
        if self.proc.is_alive():
            self.proc.kill()
            self.proc.join()
        self.conn.close()


class VerifyPool:
    """Worker processes that run grading functions with a wall-clock limit per item.

    ``workers=0`` grades in this process (math-verify's alarms then guard the main thread).

    >>> with VerifyPool(workers=0) as pool:
    ...     [o.value for o in pool.map(grade_item, [("\\\\boxed{4}", "4", "math", None)])]
    [('4', True)]
    """

    def __init__(self, workers: int = 2, timeout_s: float = DEFAULT_TIMEOUT_S, chunk: int = CHUNK) -> None:
        if workers < 0 or timeout_s <= 0:
            raise ValueError(f"VerifyPool needs workers >= 0 and timeout_s > 0, got {workers}, {timeout_s}")
        self.workers, self.timeout_s, self.chunk = workers, timeout_s, chunk
        self._ctx = _context() if workers else None
        self._pool: list[_Worker] = []
        self.timeouts = 0
        self.restarts = 0
        self._fn: Callable[..., Any] = grade_item

    def __enter__(self) -> VerifyPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop the workers (idempotent)."""
        for w in self._pool:
            w.stop()
        self._pool = []

    def _ensure(self) -> None:
        while len(self._pool) < self.workers:
            self._pool.append(_Worker(self._ctx))

    def map(self, fn: Callable[..., Any], items: Sequence[tuple]) -> list[Outcome]:
        """``fn(*item)`` for every item, in order; a time-out or crash is that item's ``error``."""
        if not items:
            return []
        if self.workers == 0:
            return [self._inline(fn, args) for args in items]
        self._ensure()
        self._fn = fn
        out: list[Outcome | None] = [None] * len(items)
        todo = deque((i, items[i : i + self.chunk]) for i in range(0, len(items), self.chunk))
        done = 0
        idle = list(self._pool)
        while done < len(items):
            while idle and todo:
                start, chunk = todo.popleft()
                idle.pop().send(fn, [(start + j, tuple(a)) for j, a in enumerate(chunk)], self.timeout_s)
            busy = [w for w in self._pool if w.pending]
            now = time.monotonic()
            ready = wait([w.conn for w in busy], timeout=max(0.0, min(w.deadline for w in busy) - now))
            by_conn = {w.conn: w for w in busy}
            for conn in ready:
                w = by_conn[conn]
                try:
                    while conn.poll():
                        idx, value, error = conn.recv()
                        out[idx] = Outcome(value, error)
                        done += 1
                        w.pending.popleft()
                        w.deadline = time.monotonic() + self.timeout_s
                except (EOFError, OSError):
                    done += self._replace(w, f"worker died: exit code {w.proc.exitcode}", out, idle)
                    continue
                if not w.pending:
                    idle.append(w)
            now = time.monotonic()
            for w in [w for w in self._pool if w.pending and now > w.deadline]:
                self.timeouts += 1
                done += self._replace(w, TIMEOUT, out, idle)
        return [o if o is not None else Outcome(error="lost") for o in out]

    def _replace(self, w: _Worker, error: str, out: list[Outcome | None], idle: list[_Worker]) -> int:
        """Kill ``w``, charge its current item with ``error``, resend the rest to a fresh worker."""
        stuck, rest = w.pending[0], list(w.pending)[1:]
        out[stuck[0]] = Outcome(error=error)
        w.kill()
        self.restarts += 1
        fresh = _Worker(self._ctx)
        self._pool[self._pool.index(w)] = fresh
        if rest:
            fresh.send(self._fn, rest, self.timeout_s)
        else:
            idle.append(fresh)
        return 1

    def _inline(self, fn: Callable[..., Any], args: tuple) -> Outcome:
        try:
            return Outcome(fn(*args))
        except Exception as err:
            return Outcome(error=f"{type(err).__name__}: {err}")


def default_workers() -> int:
    """Two workers unless the machine has fewer cores (grading is CPU-bound)."""
    return max(1, min(2, os.cpu_count() or 1))


# -- the stage ----------------------------------------------------------------------------


def row_kind(meta: str | None, default: str) -> tuple[str, Any]:
    """A row's answer kind and options: ``meta.answer_kind``, else ``choice`` when it lists options."""
    if not meta:
        return default, None
    try:
        data = json.loads(meta)
    except ValueError:
        return default, None
    if not isinstance(data, dict):
        return default, None
    options = data.get("options", data.get("choices"))
    kind = data.get("answer_kind")
    if kind not in answers.KINDS and kind != "code":
        kind = "choice" if options else default
    return kind, options


def row_kinds(df: pl.DataFrame, default: str) -> list[tuple[str, Any]]:
    metas = df["meta"].to_list() if "meta" in df.columns else [None] * df.height
    return [row_kind(m, default) for m in metas]


def sample_response(sample: dict[str, Any]) -> str | None:
    """What to read the answer from: the part after the reasoning when the generator split it."""
    final = sample.get("final")
    return final if final is not None else sample.get("text")


def counted(sample: dict[str, Any]) -> bool:
    """Failed requests are not attempts: they count neither as samples nor as wrong answers."""
    return sample.get("status") != "failed"


def pass_columns(df: pl.DataFrame, ks: Sequence[int], gradable: Sequence[bool]) -> pl.DataFrame:
    """``n_samples``, ``n_correct``, ``pass_rate``, ``pass_at_{k}`` from ``samples.correct``."""
    n_s, n_c, rate = [], [], []
    at: dict[int, list[float | None]] = {k: [] for k in ks}
    for samples, ok in zip(df["samples"].to_list(), gradable, strict=True):
        used = [s for s in samples or [] if counted(s)]
        n = len(used)
        c = sum(1 for s in used if s.get("correct") is True) if ok else None
        n_s.append(n)
        n_c.append(c)
        rate.append(c / n if c is not None and n else None)
        for k in ks:
            at[k].append(answers.pass_at_k(n, c, k) if c is not None and n >= k else None)
    cols = [pl.Series("n_samples", n_s, pl.Int64), pl.Series("n_correct", n_c, pl.Int64),
            pl.Series("pass_rate", rate, pl.Float64)]
    cols += [pl.Series(f"pass_at_{k}", v, pl.Float64) for k, v in at.items()]
    return df.with_columns(cols)


@dataclass
class Verify(Stage):
    """Extract and grade every sample; per-row pass rate, pass@k and majority vote (maj@k).

    ``kind`` applies to rows whose ``meta`` names no ``answer_kind`` (rows with ``options``
    are graded as multiple choice). Ungradable golds give ``correct = null`` and null rates.
    """

    kind: str = "math"
    ks: tuple[int, ...] = (1,)  # pass@k reported for these k (Codex estimator)
    workers: int = 2  # the project's 2-core machines
    timeout_s: float = DEFAULT_TIMEOUT_S
    code: SandboxConfig | None = None  # code rows (kind "code"): sandbox and limits (curator.code)
    _pool: Any = runtime()
    _code_executor: Any = runtime()  # set by curator.code.grade for code rows

    needs: ClassVar[tuple[str, ...]] = ("answer", "samples")
    adds: ClassVar[tuple[str, ...]] = ("samples.extracted", "samples.correct", "samples.verify_error",
                                       "n_samples", "n_correct", "pass_rate", "maj_answer", "maj_frac",
                                       "maj_correct")
    code_modules: ClassVar[tuple[Any, ...]] = (answers, forms, code_grade, code_execute, code_harness)

    def __post_init__(self) -> None:
        if self.kind != "code":
            answers.check_kind(self.kind)
        self.ks = tuple(int(k) for k in self.ks)
        if any(k < 1 for k in self.ks):
            raise ValueError(f"Verify: every k in ks must be >= 1, got {self.ks}")

    def columns_added(self) -> tuple[str, ...]:
        return self.adds + tuple(f"pass_at_{k}" for k in self.ks)

    def setup(self, ctx: Any) -> None:
        self._pool = VerifyPool(self.workers, self.timeout_s)
        self._code_cache = ctx.request_cache_path.with_name("code_results.sqlite")  # resumable code runs

    def teardown(self) -> None:
        pool = getattr(self, "_pool", None)
        if pool is not None:
            pool.close()
            self._pool = None
        code = getattr(self, "_code_executor", None)  # code rows' worker sandboxes (curator.code)
        if code is not None:
            code.close()
            self._code_executor = None

    def apply(self, df: pl.DataFrame) -> StageOutput:
        from curator.code.grade import apply_code, has_code_rows  # code rows run their tests in a sandbox
        if has_code_rows(df, self.kind):
            return apply_code(self, df)
        pool = getattr(self, "_pool", None)
        if pool is None:  # used outside a pipeline: a pool for this call only
            with VerifyPool(self.workers, self.timeout_s) as tmp:
                return self._apply(df, tmp)
        return self._apply(df, pool)

    def _apply(self, df: pl.DataFrame, pool: VerifyPool) -> StageOutput:
        timeouts_before = pool.timeouts
        kinds = row_kinds(df, self.kind)
        golds = df["answer"].to_list()
        rows = df["samples"].to_list()
        items, where = [], []
        for r, samples in enumerate(rows):
            kind, options = kinds[r]
            for j, s in enumerate(samples or []):
                if counted(s):  # a failed request has nothing to grade
                    items.append((sample_response(s), golds[r], kind, options))
                    where.append((r, j))
        outcomes = pool.map(grade_item, items)
        new_rows = [[{**s, "extracted": None, "correct": None, "verify_error": None} for s in samples or []]
                    for samples in rows]
        for (r, j), o in zip(where, outcomes, strict=True):
            extracted, correct = o.value if o.error is None else (None, None)
            new_rows[r][j].update(extracted=extracted, correct=correct, verify_error=o.error)
        maj_items = [([s["extracted"] for s in row if counted(s)], golds[r], *kinds[r])
                     for r, row in enumerate(new_rows)]
        maj = pool.map(majority_item, maj_items)
        maj_vals = [m.value if m.error is None else
                    (None, None, None, any(s["correct"] is not None for s in row))
                    for m, row in zip(maj, new_rows, strict=True)]
        gradable = [m[3] for m in maj_vals]
        out = df.with_columns(pl.Series("samples", new_rows, dtype=_samples_dtype(df, new_rows)))
        out = pass_columns(out, self.ks, gradable)
        out = out.with_columns(
            pl.Series("maj_answer", [m[0] for m in maj_vals], pl.String),
            pl.Series("maj_frac", [m[1] for m in maj_vals], pl.Float64),
            pl.Series("maj_correct", [m[2] if g else None for m, g in zip(maj_vals, gradable, strict=True)],
                      pl.Boolean),
        )
        info = {"samples_graded": len(items), "samples_correct": sum(
            1 for o in outcomes if o.error is None and o.value[1] is True),
            "verify_timeouts": pool.timeouts - timeouts_before,
            "ungradable_rows": sum(1 for g in gradable if not g)}
        return StageOutput(out, info=info)


def _samples_dtype(df: pl.DataFrame, rows: list[list[dict[str, Any]]]) -> pl.DataType:
    """The samples struct with ``verify_error`` added (other fields and their order kept)."""
    inner = df.schema["samples"].inner
    fields = {f.name: f.dtype for f in inner.fields}
    fields.setdefault("extracted", pl.String())
    fields.setdefault("correct", pl.Boolean())
    fields.setdefault("verify_error", pl.String())
    for row in rows:  # make every struct carry every field
        for s in row:
            for name in fields:
                s.setdefault(name, None)
    return pl.List(pl.Struct(fields))
