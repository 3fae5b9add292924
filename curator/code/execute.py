"""Grade programs against tests: one sandboxed process per program (call tests) or per case (stdio).

A verdict records the status of the first failing test (``wrong answer``, ``time limit``,
``memory limit``, ``runtime error``, ``compile error``), its index, and how many tests passed.
``CodeExecutor`` runs many in parallel worker slots and keeps every verdict in a durable cache
keyed by program + tests + limits + harness code, so a killed run resumes where it stopped.
"""

from __future__ import annotations

import hashlib
import json
import queue
import secrets
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from curator.code.cache import ResultCache
from curator.code.compare import outputs_match
from curator.code.sandbox import HARNESS, RawRun, SandboxConfig, Server, detect_isolation, run_job
from curator.code.testcases import CallTests, StdioTests, Tests, dump_tests

OK = "ok"
STATUSES = (OK, "wrong answer", "time limit", "memory limit", "runtime error", "compile error")
#: seconds of interpreter start-up allowed on top of the test time (bwrap + python -I -S: ~0.05 s)
STARTUP_S = 1.0
_HARNESS_HASH = hashlib.sha256(HARNESS.read_bytes()).hexdigest()[:16]
#: runs one program: (program, job, stdin, wall seconds) -> what the process did
Runner = Callable[[str, dict[str, Any], str, float], RawRun]


@dataclass(frozen=True)
class Verdict:
    """One program's result on one problem's tests."""

    status: str  # ok, or the first failing test's status (STATUSES)
    passed: int
    total: int
    first_failure: int | None = None  # index of the first failing test
    error: str = ""  # what failed: the assertion, the expected/got output, the traceback's last line

    @property
    def correct(self) -> bool:
        """Every test passed; a problem without tests proves nothing, so it is never correct."""
        return self.status == OK and self.total > 0 and self.passed == self.total

    @property
    def fraction(self) -> float:
        return self.passed / self.total if self.total else 0.0


def _process_status(run: RawRun) -> tuple[str, str]:
    """Status of a process that did not finish its tests normally."""
    sig = run.signal
    if run.timed_out or sig in (signal.SIGXCPU, signal.SIGKILL, signal.SIGALRM):
        return "time limit", f"killed after {run.wall_s:.2f} s" if run.timed_out else f"signal {sig}"
    if sig == signal.SIGXFSZ:
        return "runtime error", "output limit exceeded"
    if run.returncode == 3:
        return "compile error", run.stderr.strip()[-500:]
    if run.returncode == 4 or "MemoryError" in run.stderr[-2000:]:
        return "memory limit", "MemoryError"
    tail = run.stderr.strip().splitlines()[-1:] or [f"exit code {run.returncode}"]
    return "runtime error", tail[0][-500:]


def _check_stdio(run_one: Runner, cfg: SandboxConfig, program: str, tests: StdioTests) -> Verdict:
    passed, first, status, error, spent = 0, None, OK, "", 0.0
    for i, (stdin, want) in enumerate(zip(tests.inputs, tests.outputs, strict=True)):
        if spent > cfg.limits.total_s:
            st, err = "time limit", f"not run: the program's {cfg.limits.total_s:.0f} s budget is spent"
        else:
            run = run_one(program, {"mode": "stdio"}, stdin, cfg.limits.test_s + STARTUP_S)
            spent += run.wall_s
            if run.returncode == 0 and not run.timed_out:
                ok = outputs_match(run.stdout, want)
                st, err = (OK, "") if ok else ("wrong answer", f"expected {want[:100]!r}, got {run.stdout[:100]!r}")
            else:
                st, err = _process_status(run)
        if st == OK:
            passed += 1
        elif first is None:
            first, status, error = i, st, err
        if st == "compile error":  # the same source fails every case the same way
            break
    return Verdict(status, passed, tests.count, first, error)


def _check_call(run_one: Runner, cfg: SandboxConfig, program: str, tests: CallTests) -> Verdict:
    nonce = secrets.token_hex(8)
    job = {"mode": "call", "entry_point": tests.entry_point, "setup": tests.setup,
           "steps": [list(s) for s in tests.steps], "test_s": cfg.limits.test_s, "nonce": nonce}
    wall = min(cfg.limits.total_s, STARTUP_S + cfg.limits.test_s * (len(tests.steps) + 1))
    run = run_one(program, job, "", wall)
    by_step = {r["i"]: r for r in run.results}
    if -1 in by_step:  # the program itself failed before any test
        r = by_step[-1]
        return Verdict(r["s"], 0, tests.count, 0 if tests.count else None, r.get("e", ""))
    passed, first, status, error, t = 0, None, OK, "", 0
    for i, (_code, is_test) in enumerate(tests.steps):
        r = by_step.get(i)
        if r is not None:
            st, err = r["s"], r.get("e", "")
        elif run.returncode != 0 or run.timed_out:  # the process died in this step: the rest did not run
            st, err = _process_status(run)
        else:
            st, err = "runtime error", "the program ended the test run early"
        if st == OK:
            passed += int(is_test)
        elif first is None:
            first, status, error = t, st, err
        t += int(is_test)
        if r is None:
            break
    return Verdict(status, passed, tests.count, first, error)


def check_program(program: str | None, tests: Tests, cfg: SandboxConfig | None = None, level: str | None = None,
                  slot: int = 0, runner: Runner | None = None) -> Verdict:
    """Run ``program`` against ``tests`` in the sandbox (no program: a ``compile error``).

    Without ``runner`` each process gets a sandbox of its own (``CodeExecutor`` reuses one per worker).

    >>> from curator.code.testcases import StdioTests
    >>> check_program("print(sum(map(int, input().split())))", StdioTests(("1 2\\n",), ("3\\n",))).status
    'ok'
    """
    cfg = cfg or SandboxConfig()
    if program is None or not program.strip():
        return Verdict("compile error", 0, tests.count, 0 if tests.count else None, "no fenced code block")
    if runner is None:
        lvl = level or detect_isolation(cfg)

        def runner(p: str, job: dict[str, Any], stdin: str, wall: float) -> RawRun:
            return run_job(lvl, cfg, p, job, stdin, wall, slot)
    if isinstance(tests, StdioTests):
        return _check_stdio(runner, cfg, program, tests)
    return _check_call(runner, cfg, program, tests)


def result_key(program: str | None, tests: Tests, cfg: SandboxConfig, level: str = "") -> str:
    """Content key of one run: program, tests' normal form, limits, harness code, interpreter, isolation.

    The isolation level is in the key because a weaker sandbox can give a different verdict (a
    program that reads the dataset from the host's disk passes under ``unshare``, not ``bwrap``).
    """
    blob = json.dumps([program, dump_tests(tests), asdict(cfg.limits), _HARNESS_HASH, cfg.interpreter(), level])
    return hashlib.sha256(blob.encode()).hexdigest()


class CodeExecutor:
    """Runs many (program, tests) pairs on ``workers`` slots; every verdict is cached as it lands.

    The isolation level is detected on first use (``start``) and kept in ``level`` for the
    run's record; an ``IsolationError`` says what to install when nothing isolates the network.
    """

    def __init__(self, cfg: SandboxConfig | None = None, workers: int = 2, cache: str | Path | None = None) -> None:
        if workers < 1:
            raise ValueError(f"CodeExecutor needs workers >= 1, got {workers}")
        self.cfg, self.workers = cfg or SandboxConfig(), workers
        self.cache = ResultCache(cache)
        self.level: str | None = None
        self.executed = 0
        self.cached = 0
        self._servers: list[Server] = []

    def start(self) -> str:
        """Detect the isolation level (once); per-worker sandboxes start on their first program."""
        if self.level is None:
            self.level = detect_isolation(self.cfg)
            if not self.cfg.fresh_sandbox:
                self._servers = [Server(self.level, self.cfg, slot) for slot in range(self.workers)]
        return self.level

    def run(self, items: Sequence[tuple[str | None, Tests]]) -> list[Verdict]:
        """A verdict per ``(program, tests)``, in order; cached ones are not run again."""
        level = self.start()
        keys = [result_key(p, t, self.cfg, level) for p, t in items]
        out: dict[str, Verdict] = {}
        todo: dict[str, tuple[str | None, Tests]] = {}
        for key, item in zip(keys, items, strict=True):
            if key in out or key in todo:
                continue
            hit = self.cache.get(key)
            if hit is not None:
                out[key] = Verdict(**hit)
                self.cached += 1
            else:
                todo[key] = item
        slots: queue.Queue[int] = queue.Queue()
        for s in range(self.workers):
            slots.put(s)

        def one(key: str, program: str | None, tests: Tests) -> tuple[str, Verdict]:
            slot = slots.get()
            try:
                runner = self._servers[slot].run if self._servers else None
                v = check_program(program, tests, self.cfg, level, slot, runner)
            finally:
                slots.put(slot)
            self.cache.put(key, asdict(v))
            return key, v

        if todo:
            with ThreadPoolExecutor(self.workers) as pool:
                for key, v in pool.map(lambda kv: one(kv[0], *kv[1]), todo.items()):
                    out[key] = v
                    self.executed += 1
        return [out[k] for k in keys]

    def info(self) -> dict[str, Any]:
        """For the run's record: how programs were isolated, and how many ran or came from the cache."""
        return {"code_isolation": self.level, "code_sandbox": "per program" if self.cfg.fresh_sandbox else
                "per worker, fresh process and directory per program", "code_programs_run": self.executed,
                "code_programs_cached": self.cached,
                "code_sandbox_restarts": sum(s.restarts for s in self._servers)}

    def close(self) -> None:
        """Stop the worker sandboxes and close the result cache (idempotent)."""
        for server in self._servers:
            server.close()
        self.cache.close()
