"""Where a run reports: a live display on a terminal, plain lines in a log file, JSON events for tools.

A build whose output goes to a file (nohup, Slurm, CI) gets no live display, so it needs
periodic plain progress lines and a funnel drawn at its full width instead of the 80
columns rich assumes for files. ``RunConsole`` is a rich console that knows both, plus an
optional ``--log-json`` file of one JSON object per line. Code that only has a plain
console (notebooks, tests) keeps working: every hook here is a no-op for it.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import IO, Any

from rich.console import Console

#: width for consoles that write to files: wide enough that no funnel column is cut
FILE_WIDTH = 1000
#: seconds between plain progress lines when the console is not a terminal (``--progress-every``)
DEFAULT_PROGRESS_EVERY = 30.0


class RunConsole(Console):
    """A rich console with a progress interval for plain logs and an optional JSON event file."""

    def __init__(self, *, progress_every: float = DEFAULT_PROGRESS_EVERY, log_json: str | Path | None = None,
                 **kwargs: Any) -> None:
        super().__init__(**kwargs)
        if not self.is_terminal and "width" not in kwargs:
            self.width = FILE_WIDTH  # a table takes its natural width; nothing is cut to `decontam…`
        self.progress_every = progress_every
        self._events: IO[str] | None = None
        if log_json is not None:
            path = Path(log_json)
            path.parent.mkdir(parents=True, exist_ok=True)
            self._events = path.open("a", encoding="utf-8")

    def event(self, kind: str, **fields: Any) -> None:
        """Append one JSON object (``{"event": kind, "time": ..., **fields}``) to the ``--log-json`` file."""
        if self._events is None:
            return
        record = {"event": kind, "time": round(time.time(), 3), **fields}
        self._events.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
        self._events.flush()

    def close_events(self) -> None:
        if self._events is not None:
            self._events.close()
            self._events = None


def emit(console: Any, kind: str, **fields: Any) -> None:
    """A JSON event, when the console is a ``RunConsole`` with ``--log-json`` (otherwise nothing)."""
    event = getattr(console, "event", None)
    if callable(event):
        event(kind, **fields)


def plain_lines(console: Any) -> bool:
    """True when progress should be printed as plain lines: a console that writes to a file."""
    if console is None or getattr(console, "quiet", False):
        return False
    return not getattr(console, "is_terminal", True) and progress_every(console) > 0


def progress_every(console: Any) -> float:
    return float(getattr(console, "progress_every", DEFAULT_PROGRESS_EVERY))


def format_duration(seconds: float) -> str:
    """``95`` -> ``1m35s``; ``4000`` -> ``1h06m``."""
    seconds = max(int(round(seconds)), 0)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


def progress_line(label: str, done: int, total: int, *, elapsed: float, tokens: int, errors: int,
                  hits: int) -> str:
    """One plain progress line: samples done, tokens/s, errors, ETA."""
    pct = 100.0 * done / total if total else 100.0
    tps = tokens / elapsed if elapsed > 0 else 0.0
    fresh = max(done - hits, 0)
    eta = (total - done) * elapsed / fresh if fresh and done < total else 0.0
    return (f"{label}: {done:,}/{total:,} samples ({pct:.0f}%), {tps:,.1f} tok/s, errors {errors:,}, "
            f"cache hits {hits:,}, elapsed {format_duration(elapsed)}, ETA {format_duration(eta)}")


def stage_done(console: Any, stats: Any) -> None:
    """After each stage: a plain line in a log file, and a ``stage`` JSON event."""
    fields = {"stage": stats.stage, "rows_in": stats.rows_in, "rows_out": stats.rows_out,
              "dropped": stats.dropped, "samples_out": stats.samples_out,
              "samples_dropped": stats.samples_dropped, "seconds": round(stats.seconds, 3),
              "cached": stats.cached}
    for key in ("samples_failed", "samples_truncated"):
        if stats.info.get(key):
            fields[key] = stats.info[key]
    emit(console, "stage", **fields)
    if plain_lines(console):
        extra = "" if not stats.samples_out and not stats.samples_dropped else (
            f", samples kept {stats.samples_out:,}, dropped {sum(stats.samples_dropped.values()):,}")
        console.print(f"stage {stats.stage}: {stats.rows_in:,} rows in, {stats.rows_out:,} kept{extra} "
                      f"({'cached' if stats.cached else format_duration(stats.seconds)})",
                      markup=False, highlight=False)
