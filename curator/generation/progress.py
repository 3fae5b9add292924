"""Live progress of a generation run: samples done / total, cache hits, tokens/s, errors, ETA."""

from __future__ import annotations

import time
from typing import Any

from curator.core.run_log import emit, plain_lines, progress_every, progress_line


class GenerationProgress:
    """A rich progress bar on a terminal, plain lines every ``progress_every`` s in a log file, silent
    without a console; cheap to update per sample."""

    def __init__(self, console: Any, label: str, total: int) -> None:
        self.console, self.label, self.total = console, label, total
        self.done = self.hits = self.errors = self.tokens = 0
        self._t0 = time.perf_counter()
        self._bar: Any = None
        self._task: Any = None
        self._plain = plain_lines(console)
        self._every = progress_every(console)
        self._report = self._plain or (callable(getattr(console, "event", None)) and self._every > 0)
        self._last_line = self._t0

    def __enter__(self) -> GenerationProgress:
        if self.console is None or getattr(self.console, "quiet", False) or self.total == 0:
            return self
        if self._report:
            self._line()
        if self._plain:
            return self
        from rich.errors import LiveError
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

        bar = Progress(TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
                       TextColumn("samples | cache {task.fields[hits]} | {task.fields[tps]:.0f} tok/s | "
                                  "errors {task.fields[errors]} | ETA"),
                       TimeRemainingColumn(), console=self.console, transient=True, refresh_per_second=4)
        try:
            bar.start()
        except LiveError:  # another live display owns the terminal: stay silent
            return self
        self._bar = bar
        self._task = bar.add_task(self.label, total=self.total, hits=0, tps=0.0, errors=0)
        return self

    def grow(self, n: int) -> None:
        self.total += n
        if self._bar is not None:
            self._bar.update(self._task, total=self.total)

    def advance(self, n: int, *, cached: bool = False, tokens: int = 0, error: bool = False) -> None:
        self.done += n
        self.hits += n if cached else 0
        self.errors += int(error)
        self.tokens += tokens
        if self._report and time.perf_counter() - self._last_line >= self._every:
            self._line()
        if self._bar is not None and n:
            tps = self.tokens / max(time.perf_counter() - self._t0, 1e-9)
            self._bar.update(self._task, advance=n, hits=self.hits, tps=tps, errors=self.errors)

    def _line(self) -> None:
        """A plain progress line for log files and a ``progress`` JSON event."""
        self._last_line = time.perf_counter()
        elapsed = self._last_line - self._t0
        if self._plain:
            self.console.print(progress_line(self.label, self.done, self.total, elapsed=elapsed, tokens=self.tokens,
                                             errors=self.errors, hits=self.hits), markup=False, highlight=False)
        emit(self.console, "progress", stage=self.label, done=self.done, total=self.total, errors=self.errors,
             cache_hits=self.hits, tokens=self.tokens, seconds=round(elapsed, 3))

    def __exit__(self, *exc: object) -> None:
        if self._report and self.total:
            self._line()
        if self._bar is not None:
            self._bar.stop()
