"""Output comparison for stdin/stdout tests: tokens equal up to whitespace, numbers up to a tolerance."""

from __future__ import annotations

import math

#: relative and absolute tolerance for numeric tokens (Codeforces checkers commonly accept 1e-6)
FLOAT_TOL = 1e-6  # Codeforces' usual "absolute or relative error does not exceed 10^-6"


def _number(token: str) -> float | None:
    try:
        value = float(token)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _same_token(got: str, want: str, tol: float) -> bool:
    if got == want:
        return True
    a, b = _number(got), _number(want)
    if a is None or b is None:
        return False
    if "." not in want and "e" not in want.lower() and "." not in got:
        return False  # integers compare exactly: 10 is not 10.0000001, and 3 is not 4 at any tolerance
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


def outputs_match(got: str, want: str, tol: float = FLOAT_TOL) -> bool:
    """Whether ``got`` answers ``want``: lines and tokens compared after trimming, trailing blank lines ignored.

    >>> outputs_match("3 \\n\\n", "3\\n"), outputs_match("0.3333333", "0.333333333"), outputs_match("3", "4")
    (True, True, False)
    """
    got_lines = [line.split() for line in got.strip().splitlines()]
    want_lines = [line.split() for line in want.strip().splitlines()]
    got_lines = [t for t in got_lines if t]
    want_lines = [t for t in want_lines if t]
    if len(got_lines) != len(want_lines):
        return _flat(got, want, tol)
    for g, w in zip(got_lines, want_lines, strict=True):
        if len(g) != len(w) or not all(_same_token(x, y, tol) for x, y in zip(g, w, strict=True)):
            return False
    return True


def _flat(got: str, want: str, tol: float) -> bool:
    """Same tokens in a different line layout (``1 2`` against ``1\\n2``): accepted, as APPS's checker does."""
    g, w = got.split(), want.split()
    return len(g) == len(w) and all(_same_token(x, y, tol) for x, y in zip(g, w, strict=True))
