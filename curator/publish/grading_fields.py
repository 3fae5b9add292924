"""The per-row fields a trainer's reward function needs to grade like the curation stages.

``answer_kind`` and ``options`` decide how ``grade`` compares (the ``Verify`` stage reads
them from ``meta``, or from an ``options`` column); ``language`` is the target of R1's
language-consistency reward. The RL exports write these next to the gold so that
``curator.rewards`` grades a rollout exactly as ``Verify`` graded the probe samples.
"""

from __future__ import annotations

import json

import polars as pl

from curator.answers.grading import KINDS
from curator.answers.verify import row_kinds
from curator.rewards.scoring import CODE, decode_options


def _options_json(value: object) -> str | None:
    options = decode_options(value)
    return None if options is None else json.dumps(options, ensure_ascii=False)


def grading_fields(df: pl.DataFrame, default_kind: str = "math", language: str | None = None) -> pl.DataFrame:
    """``answer_kind``, ``options`` (JSON text or null), ``language`` for every row.

    Kind and options: exactly what ``Verify`` grades the row with (``row_kinds``), so the
    trainer's reward and the pool's pass rate agree. Language: ``language`` if given, else the
    row's ``language``, else detected from the problem (``filters.language``).
    """
    from curator.code.grade import code_mask
    from filters.language import language_column

    kinds_options = row_kinds(df, default_kind if default_kind != CODE else "math")
    kinds = [CODE if is_code else k for (k, _), is_code in zip(kinds_options, code_mask(df, default_kind), strict=True)]
    bad = sorted({k for k in kinds if k not in (*KINDS, CODE)})
    if bad:
        raise ValueError(f"answer_kind {bad} is not one of {KINDS}; fix the rows' meta.answer_kind")
    langs = [language] * df.height if language else language_column(df).to_list()
    return pl.DataFrame({"answer_kind": pl.Series(kinds, dtype=pl.String),
                         "options": pl.Series([_options_json(o) for _, o in kinds_options], dtype=pl.String),
                         "language": pl.Series(langs, dtype=pl.String)})
