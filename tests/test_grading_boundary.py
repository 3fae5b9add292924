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


def test_guess_without_cot_grades_in_the_pool_under_its_time_limit(tmp_path):
    """The scripted server stands in for the model's answers: right for 1+1, wrong otherwise."""
    import polars as pl

    from curator import Pipeline
    from curator.generation import make_backend
    from curator.selection.rl_pool import GuessWithoutCoT
    from tests.servers.openai_fake import serve

    def answer(req: dict) -> str:
        return "\\boxed{2}" if "1+1" in req["messages"][-1]["content"] else "\\boxed{7}"

    df = pl.DataFrame({"problem": ["What is 1+1?", "What is 2+3?"], "answer": ["2", "5"]})
    with serve(answer) as server:
        backend = make_backend("openai", model="fake", base_url=server.base_url)
        out = Pipeline("guess", df, [GuessWithoutCoT(backend=backend, tries=2, workers=1)],
                       finishers=()).run(tmp_path / "a", quiet=True)
        assert out["problem"].to_list() == ["What is 2+3?"]  # 1+1 was guessed, and dropped
        # a time limit no grading can meet: every answer is a timeout in the pool, none is a hit
        starved = GuessWithoutCoT(backend=backend, tries=2, workers=1, timeout_s=1e-6)
        kept = Pipeline("starved", df, [starved], finishers=()).run(tmp_path / "b", quiet=True)
    assert kept.height == 2 and kept["guess_hits"].to_list() == [0, 0]
