"""Item normalisation after loading: public field layouts, the ``options`` column, gold letters, language.

The seed recipes' own sets come in their published layouts - MedQA (``question``, ``options``,
``answer`` = option text, ``answer_idx`` = letter), TAL-SCQ5K (``problem``, ``answer_option_list``,
``answer_value`` = letter), CMath (``question``, ``golden``), AGIEval's Gaokao sets
(``question``, ``options``, ``label``, ``answer``). They load as they are:

- ``default_columns`` maps a layout's question and gold fields onto ``problem`` / ``answer``
  when no mapping was given (only fields the table lacks; an explicit ``columns`` wins);
- ``normalize_items`` lifts the option list out of ``meta`` into the ``options`` column and,
  for multiple choice, makes ``answer`` the gold letter (``answer_idx`` / ``label`` first; the
  option text it replaces stays in ``meta.answer_text``), then fills ``language`` where it is
  null with the problem-language detector, so every recipe's rows carry a language.
"""

from __future__ import annotations

import json
from collections.abc import Iterable

import polars as pl

from curator.core.options import OPTION_KEYS, gold_letter, options_json, parse_options
from curator.core.table import parse_meta

#: where the question / gold of a public layout lives, first present wins (CMath: golden; TAL: answer_value)
QUESTION_FIELDS = ("question",)
GOLD_FIELDS = ("golden", "answer_value")
#: fields that name the gold option's letter when ``answer`` holds its text (MedQA) or nothing (AGIEval)
LETTER_FIELDS = ("answer_idx", "label", "answer_value")


def default_columns(keys: Iterable[str]) -> dict[str, str]:
    """The mapping a public layout needs: ``question->problem`` without ``problem``, a gold field -> ``answer``.

    >>> default_columns(["question", "options", "answer", "answer_idx"])
    {'question': 'problem'}
    >>> default_columns(["question", "golden", "grade"])
    {'question': 'problem', 'golden': 'answer'}
    """
    keys = list(keys)
    out: dict[str, str] = {}
    if "problem" not in keys:
        q = next((k for k in QUESTION_FIELDS if k in keys), None)
        if q:
            out[q] = "problem"
    if "answer" not in keys:
        g = next((k for k in GOLD_FIELDS if k in keys), None)
        if g:
            out[g] = "answer"
    return out


def item_fields(answer: str | None, meta: str | None, options: str | None) -> tuple[str | None, str | None, str | None]:
    """(answer, options JSON, meta JSON) of one row after normalisation (pure; see module docs)."""
    data = parse_meta(meta)
    opts = parse_options(options) if options else None
    lifted = None
    if opts is None:
        lifted = next((k for k in OPTION_KEYS if data.get(k) not in (None, "", [], {})), None)
        opts = parse_options(data[lifted]) if lifted else None
    if opts is None:
        return answer, None, meta
    changed = False
    if lifted:
        data.pop(lifted)
        changed = True
    idx = next((data[k] for k in LETTER_FIELDS if data.get(k) not in (None, "")), None)
    letter = gold_letter(answer, opts, idx)
    if letter is not None and letter != answer:
        if answer not in (None, ""):
            data.setdefault("answer_text", answer)
        answer, changed = letter, True
    if changed:
        meta = json.dumps(data, ensure_ascii=False, sort_keys=True, default=str) if data else None
    return answer, options_json(opts), meta


def normalize_items(df: pl.DataFrame, detect_language: bool = True) -> pl.DataFrame:
    """``options`` column, gold letters for multiple choice, ``language`` filled (see module docs)."""
    if df.height == 0:
        return df if "options" in df.columns else df.with_columns(pl.lit(None, pl.String).alias("options"))
    metas = df["meta"].to_list() if "meta" in df.columns else [None] * df.height
    opts = df["options"].cast(pl.String).to_list() if "options" in df.columns else [None] * df.height
    if any(m and any(f'"{k}"' in m for k in OPTION_KEYS) for m in metas) or any(opts):
        fields = [item_fields(a, m, o) for a, m, o in zip(df["answer"].to_list(), metas, opts, strict=True)]
        df = df.with_columns(pl.Series("answer", [f[0] for f in fields], pl.String),
                             pl.Series("options", [f[1] for f in fields], pl.String),
                             pl.Series("meta", [f[2] for f in fields], pl.String))
    elif "options" not in df.columns:
        df = df.with_columns(pl.lit(None, pl.String).alias("options"))
    if detect_language and df["language"].null_count():
        from filters.language import language_column

        df = df.with_columns(language_column(df))
    return df
