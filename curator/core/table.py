"""The table model: one row per problem, fixed column names, so stages compose without glue.

Every stage reads and writes a polars DataFrame with these columns. ``samples`` holds one
struct per generation; stages add fields to those structs (``extracted``, ``correct``,
``lang_ratio`` ...) and derived row columns (``pass_rate``, ``bin`` ...).
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from typing import Any, Literal

import polars as pl

#: Columns every problem row has after loading. ``meta`` is a JSON object serialised as text,
#: so rows from sources with different extra fields still share one schema.
PROBLEM_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(),
    "problem": pl.String(),
    "answer": pl.String(),
    "source": pl.String(),
    "domain": pl.String(),
    "language": pl.String(),
    "meta": pl.String(),
}

#: Optional columns with a fixed meaning.
#:
#: - ``options``: a multiple-choice item's options as a JSON object in letter order
#:   (``{"A": "...", "B": "..."}``; ``curator.core.options``), null for open questions. Loading fills
#:   it from MedQA / AGIEval ``options``, MMLU ``choices`` and TAL-SCQ5K ``answer_option_list``
#:   (``curator.core.items``); every stage keeps it and every prompt renders it.
#: - ``tests``: a code problem's tests as JSON text in the normal form of ``curator.code.testcases``
#:   (stdin/stdout cases, or function-call asserts with an entry point). Loaders keep a source's own
#:   test fields in ``meta`` (APPS/TACO ``input_output``, HumanEval ``test`` + ``entry_point``, MBPP
#:   ``test_list``); the code path reads either place.
OPTIONAL_COLUMNS: dict[str, pl.DataType] = {"options": pl.String(), "tests": pl.String()}

REQUIRED_INPUT_COLUMNS: tuple[str, ...] = ("problem",)
#: The answer kind (``meta.answer_kind``) of a row graded by running its tests, not by its ``answer``.
CODE_KIND = "code"

#: Fields of one generation (ARCHITECTURE.md). Later stages may add more fields.
SAMPLE_FIELDS: dict[str, pl.DataType] = {
    "text": pl.String(),
    "reasoning": pl.String(),
    "final": pl.String(),
    "extracted": pl.String(),
    "correct": pl.Boolean(),
    "finish_reason": pl.String(),
    "status": pl.String(),  # ok | truncated | failed
    "error": pl.String(),
    "prompt_tokens": pl.Int64(),
    "completion_tokens": pl.Int64(),
    "model": pl.String(),
    "seed": pl.Int64(),
}
SAMPLE_STRUCT = pl.Struct(SAMPLE_FIELDS)
SAMPLES_DTYPE = pl.List(SAMPLE_STRUCT)


def parse_meta(meta: str | None) -> dict[str, Any]:
    """A row's ``meta`` as a dict, ``{}`` when it names nothing: null, empty, not JSON, or JSON that is not an object.

    For readers of optional fields (answer kind, options, tests, level): a ``meta`` they cannot
    read names none of them. The loader (``curator.core.io``) keeps what it cannot parse under
    ``meta.meta``, so nothing is lost.

    >>> parse_meta('{"answer_kind": "code"}')
    {'answer_kind': 'code'}
    >>> parse_meta(None), parse_meta(""), parse_meta("[1, 2]"), parse_meta("{not json")
    ({}, {}, {}, {})
    """
    if not meta:
        return {}
    try:
        data = json.loads(meta)
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


_WS = re.compile(r"\s+")


def normalize_problem_text(text: str) -> str:
    """Canonical form used for ids: NFKC, collapsed whitespace, stripped.

    Deliberately light: two problems that differ in more than spacing get different ids; the
    heavier normalisation for dedup lives in ``filters.dedup``.
    """
    return _WS.sub(" ", unicodedata.normalize("NFKC", text)).strip()


def make_id(source: str | None, problem: str) -> str:
    """Stable row id: the same source and problem give the same id on every run and machine.

    >>> make_id("gsm8k", "What is  2+2?") == make_id("gsm8k", "What is 2+2? ")
    True
    >>> len(make_id("gsm8k", "What is 2+2?"))
    16
    """
    key = f"{source or ''}\x1f{normalize_problem_text(problem)}".encode()
    return hashlib.sha256(key).hexdigest()[:16]


def nfkc_column(texts: pl.Series, *, lower: bool = False,
                tables: Literal["python", "polars"] = "python") -> pl.Series:
    """NFKC (then lower case with ``lower``) of every row, normalising only rows that are not ASCII.

    ASCII is its own NFKC, yet normalising it costs full price (polars: 1.1 s of dedup's 1.5 s
    on 300k generated problems), so those rows are only lower-cased in polars. ``tables`` picks
    whose Unicode version decides the rest: Python's ``unicodedata`` where the result must equal
    a Python fold (``make_id``, decontamination's ``words_of``), or polars' where it must equal a
    polars expression (``filters.dedup.normalize_expr``); the two differ on about a hundred code
    points newer than Python 3.11's tables. Null stays null.

    >>> nfkc_column(pl.Series(["x²", "ABC", None, "Ｆｕｌｌ"]), lower=True).to_list()
    ['x2', 'abc', None, 'full']
    """
    other = (texts.str.len_bytes() != texts.str.len_chars()).arg_true()
    out = texts.str.to_lowercase() if lower else texts.clone()  # scatter writes in place: not the caller's
    if other.len() == 0:
        return out
    if tables == "polars":
        fixed = texts.gather(other).str.normalize("NFKC")
        fixed = fixed.str.to_lowercase() if lower else fixed
    else:
        folded = [unicodedata.normalize("NFKC", t) for t in texts.gather(other).to_list()]
        fixed = pl.Series([t.lower() for t in folded] if lower else folded, dtype=pl.String)
    return out.scatter(other, fixed)


def id_column(source: pl.Series, problem: pl.Series) -> pl.Series:
    """``make_id`` for a whole table: NFKC in Python only where a text is not ASCII (the identity
    there), whitespace in polars with Python's ``\\s`` (which also takes ``\\x1c``-``\\x1f``)."""
    problem = nfkc_column(problem.cast(pl.String).fill_null(""))
    text = problem.str.replace_all(r"[\s\x1c-\x1f]+", " ").str.strip_chars(" ")
    keys = pl.select(pl.concat_str([pl.lit(source.cast(pl.String).fill_null("")), pl.lit("\x1f"), pl.lit(text)]))
    keys = keys.to_series()
    step = 100_000  # a slice of the keys as Python strings at a time, not a million of them
    return pl.Series("id", [hashlib.sha256(k.encode()).hexdigest()[:16] for o in range(0, keys.len(), step)
                            for k in keys.slice(o, step).to_list()], dtype=pl.String)


def empty_samples(n: int) -> pl.Series:
    """A ``samples`` column of ``n`` empty lists with the canonical dtype."""
    # built by polars, not from n Python lists: 100x faster (2,000 rows: 0.02 s instead of 2 s)
    return pl.select(pl.repeat(pl.lit([], dtype=SAMPLES_DTYPE), n)).to_series().alias("samples")


def conform(df: pl.DataFrame) -> pl.DataFrame:
    """Give a freshly loaded table the fixed columns, types and order (extra columns kept after)."""
    missing = [c for c in REQUIRED_INPUT_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"table is missing required column(s) {missing}")
    exprs = []
    for name, dtype in PROBLEM_SCHEMA.items():
        if name == "id":
            continue
        if name in df.columns:
            exprs.append(pl.col(name).cast(dtype, strict=False))
        else:
            exprs.append(pl.lit(None, dtype=dtype).alias(name))
    df = df.with_columns(exprs)
    if "id" not in df.columns or df["id"].null_count() > 0:
        df = df.with_columns(id_column(df["source"], df["problem"]))
    if "samples" not in df.columns:
        df = df.with_columns(empty_samples(df.height))
    first = list(PROBLEM_SCHEMA) + ["samples"]
    return df.select(first + [c for c in df.columns if c not in first])
