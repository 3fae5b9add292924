"""Final answers: extraction, equivalence, grading, the verify pool and the judge model.

``curator.answers.grade`` and friends are the public API (pure functions); the modules hold
the parts: ``grading`` (extract, compare, aggregate), ``forms`` (the normalization layer under
math-verify), ``verify`` (grading in worker processes with a time limit, and the ``Verify``
stage), ``judge`` (a judge model for what rules cannot check).
"""

from curator.answers.grading import (
    KINDS,
    MV_TIMEOUT_S,
    Options,
    extract_answer,
    gold_is_parseable,
    grade,
    grade_detail,
    is_equivalent,
    majority_answer,
    pass_at_k,
    strip_wrappers,
)

__all__ = [
    "KINDS", "MV_TIMEOUT_S", "Options", "extract_answer", "gold_is_parseable", "grade", "grade_detail",
    "is_equivalent", "majority_answer", "pass_at_k", "strip_wrappers",
]
