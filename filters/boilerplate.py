"""What corpora wrap around a problem, removed before problems are compared.

OpenR1-Math, NuminaMath and Big-Math carry the same problem with and without "Problem:",
"3.", "**bold**" or "Please reason step by step, and put your final answer within
\\boxed{}." around it. Dedup and decontamination compare the problem, not the wrapping, so
both strip these from the start and end (never the middle) of a text. The phrases live in a
data file users extend (``curator/data/boilerplate_phrases.txt``); the regexes here only
handle shapes, not words: list numbering and markdown emphasis.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import polars as pl

PHRASES_FILE = Path(__file__).resolve().parent.parent / "curator" / "data" / "boilerplate_phrases.txt"
_CJK = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]")


@dataclass(frozen=True)
class Boilerplate:
    """Labels (start only, before a number/colon/period) and phrases (start or end)."""

    labels: tuple[str, ...]  # "Problem", "Question", "例题" (from the data file)
    phrases: tuple[str, ...]  # "Give your answer in simplest form." (from the data file)
    source: str = ""  # the file they came from, for the funnel info


def parse_boilerplate(text: str, source: str = "") -> Boilerplate:
    """``[labels]`` and ``[phrases]`` sections, one entry a line, ``#`` comments."""
    sections: dict[str, list[str]] = {"labels": [], "phrases": []}
    current: str | None = None
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip().lower()
            if current not in sections:
                raise ValueError(f"{source or 'boilerplate'} line {number}: unknown section {line}; "
                                 "use [labels] or [phrases]")
            continue
        if current is None:
            raise ValueError(f"{source or 'boilerplate'} line {number}: {line!r} is outside a section; "
                             "put it under [labels] or [phrases]")
        sections[current].append(line)
    return Boilerplate(tuple(sections["labels"]), tuple(sections["phrases"]), source)


@lru_cache(maxsize=8)
def load_boilerplate(path: str | None = None) -> Boilerplate:
    """The bundled phrase file, or the user's (same format)."""
    p = Path(path) if path else PHRASES_FILE
    if not p.is_file():
        raise FileNotFoundError(f"boilerplate phrase file {p} not found; pass an existing file or None "
                                "for the bundled one")
    return parse_boilerplate(p.read_text(encoding="utf-8"), p.name)


# --- shapes: before punctuation is removed (the colon and period are what make them labels) ------------
# Each needs whitespace (or, after a CJK label, a non-digit) after its mark, which normalised text never
# has after a symbol: so stripping twice equals stripping once.
_NUMBERING = r"^(?:\s*(?:\d{1,3}|[a-z]|[ivx]{1,4})[.)]\s+)+"
_BOLD = r"(^|[^\w*]|[\u3400-\u9fff])\*\*((?s:.+?))\*\*([^\w*]|[\u3400-\u9fff]|$)"  # "**x**", not Python's v**2


def _alternation(words: list[str]) -> str:
    return "|".join(re.escape(w) for w in sorted(words, key=len, reverse=True))


def strip_shapes_expr(col: pl.Expr, labels: tuple[str, ...]) -> pl.Expr:
    """Markdown bold anywhere, list numbering and labels at the start (lowercased input)."""
    return strip_labels_expr(strip_unlabelled_shapes_expr(col), labels)


def strip_unlabelled_shapes_expr(col: pl.Expr) -> pl.Expr:
    """Markdown bold anywhere and list numbering at the start: ``strip_shapes_expr`` without labels
    (numbering is stripped as a whole run, so stripping it again changes nothing)."""
    out = col.str.replace_all(_BOLD, "${1}${2}${3}").str.replace_all(_BOLD, "${1}${2}${3}")  # adjacent pairs
    return out.str.replace(_NUMBERING, "")


def strip_labels_expr(col: pl.Expr, labels: tuple[str, ...]) -> pl.Expr:
    """Labels at the start of text ``strip_unlabelled_shapes_expr`` has seen, then the numbering after them."""
    out = col
    latin = [label.lower() for label in labels if not _CJK.match(label)]
    cjk = [label for label in labels if _CJK.match(label)]
    if latin:
        out = out.str.replace(rf"^\s*(?:{_alternation(latin)})\s*\d{{0,3}}\s*[.:)]\s+", "")
    if cjk:
        out = out.str.replace(rf"^\s*(?:{_alternation(cjk)})\s*\d{{0,3}}\s*[.:]([^\d.:]|$)", "${1}")
    return out.str.replace(_NUMBERING, "")  # "Problem. 5. Find x": the number after the label


def strip_phrases_expr(col: pl.Expr, phrases: tuple[str, ...]) -> pl.Expr:
    """Phrases (already normalised like the text) removed at the start or the end, runs of them too.

    A Latin phrase must start at a word boundary ("...with answer in simplest form" keeps
    "with"); a CJK phrase need not (Chinese has no spaces). Text that is nothing but
    boilerplate is kept as it was.
    """
    latin = _alternation([p for p in phrases if p and not _CJK.match(p)])
    cjk = _alternation([p for p in phrases if p and _CJK.match(p)])
    out = col
    for _ in range(2):  # a Latin run after a CJK one (or the reverse)
        if latin:
            out = (out.str.replace(rf"^(?:(?:{latin})\s+)+", "").str.replace(rf"^(?:{latin})([^\w\s]|$)", "${1}")
                   .str.replace(rf"(^|\W)(?:{latin})(?:\W*(?:{latin}))*\W*$", "${1}"))
        if cjk:
            out = out.str.replace(rf"^(?:(?:{cjk})\W*)+", "").str.replace(rf"(?:(?:{cjk})\W*)+$", "")
        out = out.str.strip_chars()
    return pl.when(out == "").then(col).otherwise(out)
