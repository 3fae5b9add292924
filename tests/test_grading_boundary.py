"""Model text is graded only through the verify pool (worker processes with a time limit).

math-verify's alarm cannot interrupt sympy's C code, and in a stage's own process it does not
guard anything but the main thread; so ``grade``/``grade_detail`` may be called only where
grading is the module's subject (``curator/answers/``: the grading functions and the pool's
worker functions) and in the reward functions a trainer calls (``curator/rewards/``, pure
functions over one completion). Every other stage sends its items through ``VerifyPool``.
"""

from __future__ import annotations

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
ALLOWED = ("curator/answers/", "curator/rewards/")
SCANNED = ("curator", "filters", "pipelines")
GRADERS = {"grade", "grade_detail"}


def _calls(path: Path) -> list[int]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    lines = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            fn = node.func
            name = fn.id if isinstance(fn, ast.Name) else fn.attr if isinstance(fn, ast.Attribute) else None
            if name in GRADERS:
                lines.append(node.lineno)
    return lines


def test_grade_is_called_only_in_answers_and_rewards():
    offenders = []
    for top in SCANNED:
        for path in sorted((ROOT / top).rglob("*.py")):
            rel = path.relative_to(ROOT).as_posix()
            if rel.startswith(ALLOWED):
                continue
            offenders += [f"{rel}:{line}" for line in _calls(path)]
    assert not offenders, (f"grade()/grade_detail() called outside {ALLOWED}: {offenders}. Grade model text "
                           "through curator.answers.verify.VerifyPool (pool.map(grade_item, items))")


def test_the_scan_sees_a_call():
    # guard against a scan that silently finds nothing
    assert _calls(ROOT / "curator/answers/verify.py")
