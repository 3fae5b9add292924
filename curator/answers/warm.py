"""Imported by the verify pool's forkserver (``curator.answers.process_context``), nowhere else.

Importing math-verify is half of a fresh worker's first-item cost; building its LaTeX parser on
the first parse is the other half. One grading call here does both once, in the server, so every
worker forked from it (after each time-out) starts warm. A failure only costs the warm start.
"""

from __future__ import annotations

try:
    from curator.answers.verify import grade_item

    grade_item("The answer is \\boxed{(x+1)^2}", "x^2+2x+1", "math", None)
except Exception:  # noqa: S110 - never let a warm-up stop the server; workers then start cold
    pass
