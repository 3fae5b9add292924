"""DeepSeek-R1's readability rules on generated samples, each a named reason.

R1 kept cold-start and rejection-sampled chains of thought only in a readable format:
reasoning inside ``<think>``, then a summary with the final answer, no repetition, no long
paragraphs, no code blocks in a math CoT. R1 publishes the rules, not their thresholds:
the numbers below are this project's (unconfirmed) and every one is a parameter.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import numpy as np
import polars as pl

from curator.core.stage import SampleFilter, runtime
from curator.core.workers import OwnsProcessPool, map_chunks

_TOKEN = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+")
_FENCE = re.compile(r"^\s*```", re.M)
_BOXED = re.compile(r"\\(?:boxed|fbox)\s*\{")


@dataclass
class ReadabilityRules:
    """Which rules run and their thresholds (None switches a rule off)."""

    require_think: bool = True  # R1-Zero format reward: reasoning inside <think>...</think>
    drop_truncated: bool = True  # finish_reason == "length": the answer never came
    require_final_answer: bool = True  # R1: reasoning, summary, final answer in \boxed{}
    code_ok_domains: tuple[str, ...] = ("code", "programming")  # R1: no code blocks in math CoTs
    max_paragraph_chars: int | None = 3000  # R1 "long paragraphs"; threshold unconfirmed
    max_repeated_line_frac: float | None = 0.3  # Gopher's duplicate-line fraction (web text)
    min_line_chars: int = 20  # short lines ("Wait," "So:") repeat legitimately
    ngram: int = 10  # Gopher duplicate n-gram fraction uses 5..10-grams
    max_repeated_ngram_frac: float | None = 0.3  # Gopher allows 0.10 for 10-grams; a CoT revisits more


def repeated_line_fraction(text: str, min_chars: int = 20) -> float:
    """Share of substantial lines that repeat an earlier line exactly (after stripping)."""
    lines = [ln.strip() for ln in text.splitlines() if len(ln.strip()) >= min_chars]
    if len(lines) < 3:
        return 0.0
    counts = Counter(lines)
    return sum(c - 1 for c in counts.values()) / len(lines)


#: multiplier of the rolling n-gram hash (FNV-1a's 64-bit prime)
_PRIME = np.uint64(1099511628211)


def repeated_ngram_fraction(text: str, n: int = 10) -> float:
    """Share of word n-grams (CJK characters count as words) that occurred earlier in the text.

    Never builds the n-grams: words become integer ids and each n-gram a 64-bit polynomial
    hash of its ids, computed for all positions at once in ``n`` array steps (a 4k-token chain
    would otherwise be 4,000 tuples); distinct hashes are distinct n-grams, as with the tuple
    hashes of ``repeated_ngram_fraction_reference``.

    >>> repeated_ngram_fraction("one two three four five six seven eight nine ten " * 6, 10) > 0.7
    True
    """
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < 2 * n:
        return 0.0
    vocab: dict[str, int] = {}
    ids = np.fromiter((vocab.setdefault(t, len(vocab) + 1) for t in tokens), dtype=np.uint64, count=len(tokens))
    m = len(ids) - n + 1
    h = np.zeros(m, dtype=np.uint64)
    with np.errstate(over="ignore"):  # wrapping arithmetic is the hash
        for k in range(n):
            h = h * _PRIME + ids[k:k + m]
    return 1.0 - len(np.unique(h)) / m


def repeated_ngram_fraction_reference(text: str, n: int = 10) -> float:
    """The same share from every n-gram as a tuple (the test's reference)."""
    tokens = _TOKEN.findall(text.lower())
    if len(tokens) < 2 * n:
        return 0.0
    grams = [hash(tuple(tokens[i:i + n])) for i in range(len(tokens) - n + 1)]
    return 1.0 - len(set(grams)) / len(grams)


def longest_paragraph(text: str) -> int:
    """Characters of the longest line outside code blocks (a wall of text has no line breaks)."""
    prose = re.sub(r"```.*?(?:```|\Z)", "", text, flags=re.S)
    return max((len(p.strip()) for p in prose.splitlines()), default=0)


def readability_reason(text: str | None, reasoning: str | None = None, final: str | None = None,
                       extracted: str | None = None, finish_reason: str | None = None,
                       status: str | None = None, domain: str | None = None,
                       rules: ReadabilityRules | None = None, ngram_fraction: float | None = None) -> str | None:
    """The first readability rule a sample breaks, or None when it is readable.

    >>> readability_reason("<think>2+2 is 4.</think> The answer is $\\\\boxed{4}$.")
    >>> readability_reason("The answer is 4.")
    'missing <think>'
    """
    r = rules or ReadabilityRules()
    if status == "failed":
        return "generation failed"
    if r.drop_truncated and (finish_reason == "length" or status == "truncated"):
        return "truncated"
    text = text or ""
    has_reasoning = bool(reasoning and reasoning.strip())
    if r.require_think and not has_reasoning:
        if "<think>" not in text:
            return "missing <think>"
        if "</think>" not in text.split("<think>", 1)[1]:
            return "unclosed <think>"
    body = reasoning if has_reasoning else text
    tail = final if final is not None else (text.rsplit("</think>", 1)[-1] if "</think>" in text else text)
    if r.require_final_answer and not (extracted and extracted.strip()) and not _BOXED.search(tail or ""):
        return "no final answer"
    full = f"{body}\n{tail}" if has_reasoning else text
    if (domain or "").lower() not in r.code_ok_domains and _FENCE.search(full):
        return "code block"
    if r.max_paragraph_chars is not None and longest_paragraph(full) > r.max_paragraph_chars:
        return "long paragraph"
    if r.max_repeated_line_frac is not None and \
            repeated_line_fraction(body, r.min_line_chars) > r.max_repeated_line_frac:
        return "repetition (lines)"
    if r.max_repeated_ngram_frac is not None:
        frac = ngram_fraction if ngram_fraction is not None else repeated_ngram_fraction(body, r.ngram)
        if frac > r.max_repeated_ngram_frac:
            return "repetition (n-grams)"
    return None


def _reasons_all(rows: list[tuple], rules: ReadabilityRules | None) -> list[str | None]:
    return [readability_reason(*vals, rules=rules) for vals in rows]


#: what Python's ``str.strip()`` and ``re``'s ``\s`` take for whitespace (Rust's lacks \x1c-\x1f)
PY_SPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
            "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")
#: characters on which Python and Rust agree for ``lower()`` and ``[^\W_]`` (tests/test_readability.py
#: checks every one): ASCII, Latin-1 letters, CJK, kana, Hangul, CJK and fullwidth punctuation, math
SAFE_CHARS = ("\x00-\x7f\u00c0-\u00ff\u2000-\u200b\u200e-\u203e\u2041-\u2053\u2055-\u206f\u2100-\u214f"
              "\u2190-\u22ff\u3000-\u3029\u3030-\u303f\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af"
              "\uff00-\uff3e\uff40-\uffef")
#: a text with any of these takes the Python path: code fences, line breaks other than \n, other characters
_SLOW_RS = f"```|[\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]|[^{SAFE_CHARS}]"
_TOKEN_RS = _TOKEN.pattern
_BOXED_RS = f"\\\\(?:boxed|fbox)[{PY_SPACE}]*\\{{"


def ngram_fractions(texts: pl.Series, n: int = 10) -> list[float]:
    """``repeated_ngram_fraction`` of many texts of ``SAFE_CHARS`` at once: words cut and hashed in
    polars, each n-gram a 64-bit polynomial of its words' hashes over the whole batch in ``n``
    numpy steps (an n-gram across two texts is dropped), distinct n-grams counted per text."""
    if texts.len() == 0:
        return []
    tokens = texts.fill_null("").str.to_lowercase().str.extract_all(_TOKEN_RS)
    counts = tokens.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = tokens.explode().drop_nulls()
    out = [0.0] * texts.len()
    if flat.len() < n:
        return out
    h = flat.hash(seed=0).to_numpy()
    row = np.repeat(np.arange(len(counts)), counts)
    m = len(h) - n + 1
    g = h[:m].copy()
    with np.errstate(over="ignore"):  # wrapping arithmetic is the hash
        for k in range(1, n):
            g *= _PRIME
            g += h[k:k + m]
    valid = row[:m] == row[n - 1:]
    distinct = pl.DataFrame({"r": row[:m][valid], "g": g[valid]}).group_by("r").agg(d=pl.col("g").n_unique())
    for r, d in distinct.iter_rows():
        c = int(counts[r])
        if c >= 2 * n:
            out[r] = 1.0 - d / (c - n + 1)
    return out


def ascii_ngram_fractions(texts: list[str], n: int = 10) -> list[float]:
    """``ngram_fractions`` of pure-ASCII texts (kept for callers of the earlier ASCII-only path)."""
    return ngram_fractions(pl.Series(texts, dtype=pl.String), n)


def _line_stats(texts: pl.Series, min_chars: int) -> pl.DataFrame:
    """Per text (no line break but ``\n``): longest stripped line, substantial lines, distinct ones."""
    lines = (pl.DataFrame({"t": texts.fill_null("")}).with_row_index("i")
             .select("i", ln=pl.col("t").str.strip_suffix("\n").str.split("\n")).explode("ln")
             .with_columns(pl.col("ln").fill_null("").str.strip_chars(PY_SPACE))
             .with_columns(size=pl.col("ln").str.len_chars()))
    big = pl.col("size") >= min_chars
    return (lines.group_by("i").agg(longest=pl.col("size").max(), n=big.sum(), d=pl.col("ln").filter(big).n_unique())
            .sort("i"))


def fast_reasons(frame: pl.DataFrame, rules: ReadabilityRules) -> pl.Series:
    """``readability_reason`` for rows that are failed or truncated, or have ``reasoning`` and
    ``final`` of ``SAFE_CHARS`` without code fences or unusual line breaks: every rule as polars
    expressions over the batch; n-grams only for rows that pass every other rule."""
    r = rules
    t = frame.with_columns(pl.col("final").fill_null(""), body=pl.col("reasoning").fill_null(""))
    reason = pl.when(pl.col("status") == "failed").then(pl.lit("generation failed"))
    if r.drop_truncated:
        reason = reason.when((pl.col("finish_reason") == "length") | (pl.col("status") == "truncated")).then(
            pl.lit("truncated"))
    if r.require_final_answer:
        has_extracted = pl.col("extracted").fill_null("").str.strip_chars(PY_SPACE).str.len_chars() > 0
        reason = reason.when(~has_extracted & ~pl.col("final").str.contains(_BOXED_RS)).then(pl.lit("no final answer"))
    stats = _line_stats(t["body"], r.min_line_chars)
    final_longest = t["final"].str.split("\n").list.eval(
        pl.element().str.strip_chars(PY_SPACE).str.len_chars()).list.max().fill_null(0)
    t = t.with_columns(longest=pl.max_horizontal(stats["longest"], final_longest), n=stats["n"], d=stats["d"])
    if r.max_paragraph_chars is not None:
        reason = reason.when(pl.col("longest") > r.max_paragraph_chars).then(pl.lit("long paragraph"))
    if r.max_repeated_line_frac is not None:
        frac = pl.when(pl.col("n") >= 3).then((pl.col("n") - pl.col("d")) / pl.col("n")).otherwise(0.0)
        reason = reason.when(frac > r.max_repeated_line_frac).then(pl.lit("repetition (lines)"))
    out = t.select(reason.otherwise(pl.lit(None, dtype=pl.String)).alias("reason"))["reason"]
    if r.max_repeated_ngram_frac is None:
        return out
    todo = out.is_null().arg_true()
    fracs = ngram_fractions(t["body"].gather(todo), r.ngram)
    hits = [i for i, f in zip(todo.to_list(), fracs, strict=True) if f > r.max_repeated_ngram_frac]
    if hits:
        out = out.scatter(hits, "repetition (n-grams)")
    return out


def readability_reasons(samples: pl.DataFrame, rules: ReadabilityRules | None = None, pool: Any = None) -> pl.Series:
    """One reason (or null) per sample row of an exploded table (see ``curator.core.samples``).

    Rows ``fast_reasons`` can decide (nearly all generated chains) are scored in polars for the
    whole batch; the others (no reasoning field, code fences, other scripts) row by row in Python,
    over ``pool`` when given. The same reasons either way (tests/test_readability.py).
    """
    names = ("text", "reasoning", "final", "extracted", "finish_reason", "status", "domain")
    frame = samples.select([pl.col(c).cast(pl.String) if c in samples.columns else pl.lit(None, dtype=pl.String).alias(c)
                            for c in names])
    r = rules or ReadabilityRules()
    early = pl.col("status") == "failed"
    if r.drop_truncated:
        early = early | (pl.col("finish_reason") == "length") | (pl.col("status") == "truncated")
    has_reasoning = pl.col("reasoning").fill_null("").str.strip_chars(PY_SPACE).str.len_chars() > 0
    clean = ~pl.col("reasoning").fill_null("").str.contains(_SLOW_RS) & ~pl.col("final").fill_null("").str.contains(_SLOW_RS)
    fast = frame.select(early.fill_null(False) | (has_reasoning & pl.col("final").is_not_null() & clean.fill_null(False)))
    fast = fast.to_series()
    out = pl.Series("reason", [None] * frame.height, dtype=pl.String)
    if fast.any():
        idx = fast.arg_true()
        out = out.scatter(idx, fast_reasons(frame.filter(fast), r))
    if not fast.all():
        idx = (~fast).arg_true()
        rows = list(frame.filter(~fast).iter_rows())
        out = out.scatter(idx, pl.Series(map_chunks(_reasons_all, rows, rules, pool=pool, chunk=256), dtype=pl.String))
    return out.alias("reason")


@dataclass
class Readability(OwnsProcessPool, SampleFilter):
    """Drops unreadable samples (R1 cold start and rejection sampling); rows stay."""

    rules: ReadabilityRules = field(default_factory=ReadabilityRules)
    workers: int = 2  # processes scoring samples: the project's 2-core machines
    _pool: Any = runtime()

    needs: ClassVar[tuple[str, ...]] = ("samples",)
    not_params: ClassVar[tuple[str, ...]] = ("label", "workers")  # workers do not change the output

    def sample_reasons(self, samples: pl.DataFrame) -> pl.Series:
        return readability_reasons(samples, self.rules, self._pool)
