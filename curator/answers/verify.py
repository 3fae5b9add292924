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

from curator.answers import chinese, forms
from curator.answers import grading as answers
from curator.answers.process_context import verify_context
from curator.code import execute as code_execute
from curator.code import grade as code_grade
from curator.code import harness as code_harness
from curator.core import options as option_forms
from curator.core.samples import explode_samples, implode_samples
from curator.core.stage import Stage, StageOutput, runtime
from curator.core.table import parse_meta

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


def judge_item(extracted: str | None, gold: str | None, kind: str, options: Any) -> bool | None:
    """``grade_detail``'s verdict for an answer already extracted (None: the gold is ungradable)."""
    if not answers.gold_is_parseable(gold, kind, timeout_s=None):
        return None
    if extracted is None:
        return False
    return answers.is_equivalent(gold, extracted, kind, options=options, timeout_s=None)


def response_tail(text: str | None) -> str | None:
    """The part of a response that ``extract_answer`` reads, cut so that it reads the same.

    After the last ``</think>`` when something follows it (a long chain's final answer is
    there); ``<think>`` alone when the think block never closes (no answer); else the whole
    text. ``extract_answer(response_tail(t)) == extract_answer(t)`` (tests/test_verify.py).

    >>> response_tail("<think>" + "long chain " * 1000 + "</think> So the answer is 4.")
    '</think> So the answer is 4.'
    """
    if not text:
        return text
    cut = text.rfind("</think>")
    if cut < 0:
        return "<think>" if "<think>" in text else text
    return text[cut:] if text[cut + 8:].strip() else text


def extract_item(response: str | None, kind: str, options: Any) -> str | None:
    """``grade_detail``'s extraction: the answer, with the math fallback for choices given as options."""
    extracted = answers.extract_answer(response, kind)
    if kind == "choice" and extracted is None and options:
        extracted = answers.extract_answer(response, "math")
    return extracted


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


def row_kind(meta: str | None, default: str, options: str | None = None) -> tuple[str, Any]:
    """A row's answer kind and options: ``meta.answer_kind``, else ``choice`` when it has options
    (the ``options`` column, else an option list in ``meta``)."""
    from curator.core.options import parse_options

    data = parse_meta(meta)
    parsed = parse_options(options) if options else None
    if parsed:
        kind = data.get("answer_kind")
        return (kind if kind in answers.KINDS else "choice"), parsed
    options = parse_options(data.get("options", data.get("choices", data.get("answer_option_list"))))
    kind = data.get("answer_kind")
    if kind not in answers.KINDS and kind != "code":
        kind = "choice" if options else default
    return kind, options


def row_kinds(df: pl.DataFrame, default: str) -> list[tuple[str, Any]]:
    metas = df["meta"].to_list() if "meta" in df.columns else [None] * df.height
    opts = df["options"].cast(pl.String).to_list() if "options" in df.columns else [None] * df.height
    return [row_kind(m, default, o) for m, o in zip(metas, opts, strict=True)]


def sample_response(sample: dict[str, Any]) -> str | None:
    """What to read the answer from: the part after the reasoning when the generator split it."""
    final = sample.get("final")
    return final if final is not None else sample.get("text")


def counted(sample: dict[str, Any]) -> bool:
    """Failed requests are not attempts: they count neither as samples nor as wrong answers."""
    return sample.get("status") != "failed"


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
    _code_cache: Any = runtime()  # the run's code-result cache (set in setup; None outside a run)

    needs: ClassVar[tuple[str, ...]] = ("answer", "samples")
    adds: ClassVar[tuple[str, ...]] = ("samples.extracted", "samples.correct", "samples.verify_error",
                                       "n_samples", "n_correct", "pass_rate", "maj_answer", "maj_frac",
                                       "maj_correct")
    code_modules: ClassVar[tuple[Any, ...]] = (answers, forms, chinese, option_forms, code_grade, code_execute, code_harness)

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
        self._code_cache = None

    def apply(self, df: pl.DataFrame) -> StageOutput:
        from curator.code.grade import (  # code rows run their tests in a sandbox
            apply_code,
            code_mask,
            has_code_rows,
        )
        if has_code_rows(df, self.kind) and any(code_mask(df, self.kind)):
            return apply_code(self, df)
        return self.grade_answers(df)

    def grade_answers(self, df: pl.DataFrame) -> StageOutput:
        """The answer path (math, choice, text) for rows that are not code."""
        pool = getattr(self, "_pool", None)
        if pool is None:  # used outside a pipeline: a pool for this call only
            with VerifyPool(self.workers, self.timeout_s) as tmp:
                return self._apply(df, tmp)
        return self._apply(df, pool)

    def _apply(self, df: pl.DataFrame, pool: VerifyPool) -> StageOutput:
        """Extract in this process from each response's tail, grade each distinct (answer, gold) once.

        The same output as grading every sample with ``grade_item`` (tests/test_verify.py): the
        answer is extracted from ``response_tail`` (a long chain is not read), and the k samples
        of a problem that give the same answer share one verdict from the pool.
        """
        timeouts_before = pool.timeouts
        kinds = row_kinds(df, self.kind)
        golds = df["answer"].to_list()
        flat = explode_samples(df, ("answer",))  # a context column the stage needs anyway
        n = flat.height
        nulls = pl.Series([None] * n, dtype=pl.String)
        status = flat["status"] if "status" in flat.columns else nulls
        final = flat["final"] if "final" in flat.columns else nulls
        text = flat["text"] if "text" in flat.columns else nulls
        is_counted = (status.fill_null("") != "failed").to_list()  # a failed request has nothing to grade
        rows = flat["_row"].to_list()
        responses = pl.select(pl.when(final.is_not_null()).then(final).otherwise(text)).to_series()
        extracted: list[str | None] = [None] * n
        correct: list[bool | None] = [None] * n
        errors: list[str | None] = [None] * n
        keys: dict[tuple, int] = {}
        pairs: list[tuple] = []
        where: list[tuple[int, int]] = []  # (sample, pair)
        for i, (response, r) in enumerate(zip(responses, rows, strict=True)):
            if not is_counted[i]:
                continue
            kind, options = kinds[r]
            try:
                extracted[i] = extract_item(response_tail(response), kind, options)
            except Exception as err:  # as the pool records an item's exception
                errors[i] = f"{type(err).__name__}: {err}"
                continue
            key = (extracted[i], golds[r], kind, json.dumps(options, sort_keys=True, default=str))
            if key not in keys:
                keys[key] = len(pairs)
                pairs.append((extracted[i], golds[r], kind, options))
            where.append((i, keys[key]))
        verdicts = pool.map(judge_item, pairs)
        for i, p in where:
            o = verdicts[p]
            if o.error is None:
                correct[i] = o.value
            else:
                extracted[i], errors[i] = None, o.error
        flat = flat.with_columns(pl.Series("extracted", extracted, pl.String), pl.Series("correct", correct, pl.Boolean),
                                 pl.Series("verify_error", errors, pl.String))
        by_row: list[list[str | None]] = [[] for _ in range(df.height)]
        for i, r in enumerate(rows):
            if is_counted[i]:
                by_row[r].append(extracted[i])
        maj = pool.map(majority_item, [(by_row[r], golds[r], *kinds[r]) for r in range(df.height)])
        graded_rows = [False] * df.height
        for i, r in enumerate(rows):
            graded_rows[r] = graded_rows[r] or correct[i] is not None
        maj_vals = [m.value if m.error is None else (None, None, None, graded_rows[r]) for r, m in enumerate(maj)]
        gradable = [m[3] for m in maj_vals]
        out = implode_samples(df, flat)
        out = pass_columns(out, self.ks, gradable, flat)
        out = out.with_columns(
            pl.Series("maj_answer", [m[0] for m in maj_vals], pl.String),
            pl.Series("maj_frac", [m[1] for m in maj_vals], pl.Float64),
            pl.Series("maj_correct", [m[2] if g else None for m, g in zip(maj_vals, gradable, strict=True)],
                      pl.Boolean),
        )
        info = {"samples_graded": sum(is_counted),
                "samples_correct": sum(1 for i in range(n) if is_counted[i] and correct[i] is True),
                "verify_timeouts": pool.timeouts - timeouts_before,
                "ungradable_rows": sum(1 for g in gradable if not g)}
        return StageOutput(out, info=info)


def pass_columns(df: pl.DataFrame, ks: Sequence[int], gradable: Sequence[bool],
                 flat: pl.DataFrame | None = None) -> pl.DataFrame:
    """``n_samples``, ``n_correct``, ``pass_rate``, ``pass_at_{k}`` from ``samples.correct``.

    Counted in polars over the exploded samples: ``flat`` when the caller has them
    (``explode_samples(df)``, ``_row`` numbering ``df``'s rows), else exploded here. Failed
    requests are not counted (``counted``); a row that is not ``gradable`` gets null counts of
    correct answers and null rates.
    """
    if flat is None:
        flat = explode_samples(df, ())
    status = pl.col("status") if "status" in flat.columns else pl.lit(None, dtype=pl.String)
    correct = pl.col("correct") if "correct" in flat.columns else pl.lit(None, dtype=pl.Boolean)
    counts = (flat.lazy().filter(status.fill_null("") != "failed")
              .group_by("_row").agg(pl.len().alias("n"), (correct == True).sum().alias("c"))  # noqa: E712
              .collect())
    n_by = dict(zip(counts["_row"].to_list(), counts["n"].to_list(), strict=True))
    c_by = dict(zip(counts["_row"].to_list(), counts["c"].to_list(), strict=True))
    n_s, n_c, rate = [], [], []
    at: dict[int, list[float | None]] = {k: [] for k in ks}
    for r, ok in enumerate(gradable):
        n = int(n_by.get(r, 0))
        c = int(c_by.get(r, 0)) if ok else None
        n_s.append(n)
        n_c.append(c)
        rate.append(c / n if c is not None and n else None)
        for k in ks:
            at[k].append(answers.pass_at_k(n, c, k) if c is not None and n >= k else None)
    cols = [pl.Series("n_samples", n_s, pl.Int64), pl.Series("n_correct", n_c, pl.Int64),
            pl.Series("pass_rate", rate, pl.Float64)]
    cols += [pl.Series(f"pass_at_{k}", v, pl.Float64) for k, v in at.items()]
    return df.with_columns(cols)
