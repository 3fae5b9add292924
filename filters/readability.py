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


def ascii_ngram_fractions(texts: list[str], n: int = 10) -> list[float]:
    """``repeated_ngram_fraction`` of many pure-ASCII texts at once, in polars.

    For ASCII text the words of ``_TOKEN`` after ``lower()`` are exactly the runs of
    ``[a-z0-9]`` (Python's and Rust's ``\\w`` agree on ASCII), so polars can cut them; each
    word is hashed, each n-gram is a 64-bit polynomial of its words' hashes (wrapping), and the
    distinct n-grams of a text are its distinct values (tests/test_readability.py).
    """
    if not texts:
        return []
    words = pl.DataFrame({"t": texts}).with_row_index("r").select(
        "r", w=pl.col("t").str.to_lowercase().str.extract_all("[a-z0-9]+"))
    flat = words.explode("w").drop_nulls("w").with_columns(h=pl.col("w").hash(seed=0))
    gram = pl.lit(0, dtype=pl.UInt64)
    for k in range(n):
        gram = gram * pl.lit(int(_PRIME), dtype=pl.UInt64) + pl.col("h").shift(-k).over("r")
    grams = flat.select("r", g=gram).drop_nulls("g")
    stats = grams.group_by("r").agg(m=pl.len(), d=pl.col("g").n_unique())
    counts = dict(zip(words["r"].to_list(), words["w"].list.len().fill_null(0).to_list(), strict=True))
    by_row = {r: (m, d) for r, m, d in stats.iter_rows()}
    out = []
    for r in range(len(texts)):
        if counts[r] < 2 * n:
            out.append(0.0)
            continue
        m, d = by_row[r]
        out.append(1.0 - d / m)
    return out


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
    return [readability_reason(*vals[:-1], rules=rules, ngram_fraction=vals[-1]) for vals in rows]


def readability_reasons(samples: pl.DataFrame, rules: ReadabilityRules | None = None, pool: Any = None) -> pl.Series:
    """One reason (or null) per sample row of an exploded table (see ``curator.core.samples``)."""
    def col(name: str) -> list:
        return samples[name].to_list() if name in samples.columns else [None] * samples.height

    cols = [col(c) for c in ("text", "reasoning", "final", "extracted", "finish_reason", "status", "domain")]
    r = rules or ReadabilityRules()
    fractions: list[float | None] = [None] * samples.height
    if r.max_repeated_ngram_frac is not None:  # ASCII bodies: the n-gram share in polars, for all rows at once
        bodies = [reasoning if reasoning and reasoning.strip() else (text or "")
                  for text, reasoning in zip(cols[0], cols[1], strict=True)]
        ascii_rows = [i for i, b in enumerate(bodies) if b.isascii()]
        for i, f in zip(ascii_rows, ascii_ngram_fractions([bodies[i] for i in ascii_rows], r.ngram), strict=True):
            fractions[i] = f
    rows = list(zip(*cols, fractions, strict=True))
    return pl.Series("reason", map_chunks(_reasons_all, rows, rules, pool=pool, chunk=256), dtype=pl.String)


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
