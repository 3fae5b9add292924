"""Problem-level quality rules from s1, Big-Math and Kimi k1.5, each switchable, each a reason.

RL with verifiable rewards needs problems with one checkable, closed-form answer: Big-Math
drops multiple choice, multi-part, true/false, yes/no and proof questions and hyperlinks;
Kimi k1.5 drops multiple choice, true/false and proofs (a model guesses them); s1 drops
``[asy]`` figures (unless AIME) and images. Rules are regexes over the problem, so their
misses are easy to see and to switch off.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import Filter

_I = re.I | re.M
_ASY = re.compile(r"\[asy\]|\\begin\{asy\}", re.I)
_IMAGE = re.compile(r"!\[[^\]]*\]\([^)]*\)|<img\b|\\includegraphics|https?://\S+\.(?:png|jpe?g|gif|svg|webp)\b", re.I)
_LINK = re.compile(r"https?://|\bwww\.\w", re.I)
_CHOICE = r"(?:^|[\s(（\[{])\(?\\?(?:textbf\{)?\(?{L}\s*[).．.:、）}]"
_CHOICES = [re.compile(_CHOICE.replace("{L}", letter), re.M) for letter in "ABC"]
_CHOICE_WORDS = re.compile(r"\b(?:answer choices|which of the following|choose the correct)\b|以下哪|下列(?:选项|各|哪)", re.I)
_TRUE_FALSE = re.compile(r"\btrue\s*(?:or|/)\s*false\b|\bfalse\s*(?:or|/)\s*true\b|判断(?:对错|正误|真假)|是否正确", re.I)
_YES_NO = re.compile(r"\byes\s*(?:or|/)\s*no\b|是否存在|能否|是不是", re.I)
_YES_NO_QUESTION = re.compile(
    r"(?:^|[.!?。]\s*)(?:is|are|does|do|can|could|will|was|were|has|have|must)\s+[^.!?]*\?\s*$", re.I)
_PROOF = re.compile(r"\b(?:prove|proof|show that|demonstrate that)\b|证明|求证", re.I)
_PARTS = [
    (re.compile(r"(?:^|\s)\(a\)", re.M), re.compile(r"(?:^|\s)\(b\)", re.M)),  # lowercase: (A) is a choice
    (re.compile(r"(?:^|\s)\(i\)", re.M), re.compile(r"(?:^|\s)\(ii\)", re.M)),
    (re.compile(r"(?:^|[\s.。;；:：])[(（]1[)）]", re.M), re.compile(r"(?:^|[\s.。;；:：])[(（]2[)）]", re.M)),
    (re.compile(r"^\s*(?:part\s*)?a[).:]\s", _I), re.compile(r"^\s*(?:part\s*)?b[).:]\s", _I)),
    (re.compile(r"^\s*1[).]\s", re.M), re.compile(r"^\s*2[).]\s", re.M)),
]
_YES_NO_ANSWERS = {"yes", "no", "是", "否", "能", "不能"}
_TRUE_FALSE_ANSWERS = {"true", "false", "t", "f", "对", "错", "正确", "错误", "√", "×"}


@dataclass
class QualityRules:
    """Each rule on (True) or off (False); the reason string is the rule's name with spaces."""

    empty_problem: bool = True
    missing_answer: bool = True  # Big-Math: "uniquely verifiable"; no gold, no reward
    asy_figure: bool = True  # s1: drop [asy] figures ...
    asy_allowed_sources: tuple[str, ...] = ("aime",)  # ... unless AIME (source contains it)
    image: bool = True  # s1
    hyperlink: bool = True  # Big-Math
    multiple_choice: bool = True  # Big-Math, Kimi k1.5
    true_false: bool = True  # Big-Math, Kimi k1.5
    yes_no: bool = True  # Big-Math
    proof: bool = True  # Big-Math, Kimi k1.5, R1 RL prompts
    multi_part: bool = True  # Big-Math
    unparseable_answer: bool = True  # RECIPES: unparseable gold = ungradable
    answer_kind: str = "math"  # what curator.answers.grading.gold_is_parseable checks the gold as


def _multi_part(problem: str) -> bool:
    return any(a.search(problem) and b.search(problem) for a, b in _PARTS)


def _multiple_choice(problem: str) -> bool:
    return all(c.search(problem) for c in _CHOICES) or bool(_CHOICE_WORDS.search(problem))


def _answer_key(answer: str) -> str:
    return re.sub(r"[\s$.\\{}]|boxed|text", "", answer.lower())


def quality_reason(problem: str | None, answer: str | None = None, source: str | None = None,
                   rules: QualityRules | None = None) -> str | None:
    """The first quality rule a problem breaks, or None.

    >>> quality_reason("Prove that there are infinitely many primes.", "")
    'missing answer'
    >>> quality_reason("Prove that there are infinitely many primes.", "n/a", rules=QualityRules(unparseable_answer=False))
    'proof'
    """
    r = rules or QualityRules()
    problem = problem or ""
    gold = (answer or "").strip()
    if r.empty_problem and not problem.strip():
        return "empty problem"
    if r.missing_answer and not gold:
        return "missing answer"
    if r.asy_figure and _ASY.search(problem) and \
            not any(s in (source or "").lower() for s in r.asy_allowed_sources):
        return "asy figure"
    if r.image and _IMAGE.search(problem):
        return "image"
    if r.hyperlink and _LINK.search(problem):
        return "hyperlink"
    if r.multiple_choice and _multiple_choice(problem):
        return "multiple choice"
    key = _answer_key(gold)
    if r.true_false and (_TRUE_FALSE.search(problem) or key in _TRUE_FALSE_ANSWERS):
        return "true/false"
    if r.yes_no and (_YES_NO.search(problem) or key in _YES_NO_ANSWERS or _YES_NO_QUESTION.search(problem.strip())):
        return "yes/no"
    if r.proof and _PROOF.search(problem):
        return "proof"
    if r.multi_part and _multi_part(problem):
        return "multi-part"
    if r.unparseable_answer and gold and not _parseable(gold, r.answer_kind):
        return "unparseable answer"
    return None


def _parseable(gold: str, kind: str) -> bool:
    try:
        from curator.answers.grading import gold_is_parseable  # the verifier owns what "parseable" means
    except ImportError as err:
        raise RuntimeError("the unparseable_answer rule needs curator.answers.grading.gold_is_parseable, which this "
                           "install lacks; update the package or pass QualityRules(unparseable_answer=False)") from err

    return bool(gold_is_parseable(gold, kind))


#: what Python's ``str.strip()`` and ``\s`` take as whitespace (Rust's ``\s`` lacks \x1c-\x1f)
_PY_SPACE = " \t\n\x0b\x0c\r\x1c\x1d\x1e\x1f\x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006" \
            "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000"


def _rust(pattern: re.Pattern[str]) -> str:
    """The same regex for polars (Rust regex): flags inline, ``\\s``/``\\S`` widened to Python's whitespace.

    One difference remains: ``\b`` follows Rust's ``\\w`` (letters, marks, decimal digits), Python's
    follows ``str.isalnum`` (also other numerals such as ``²``), which matters only where such a
    character touches a keyword.
    """
    out, in_class, i, src = [], False, 0, pattern.pattern
    while i < len(src):
        ch = src[i]
        if ch == "\\" and i + 1 < len(src):
            nxt = src[i + 1]
            if nxt == "s":
                out.append("\\s\\x1c-\\x1f" if in_class else "[\\s\\x1c-\\x1f]")
            elif nxt == "S" and not in_class:
                out.append("[^\\s\\x1c-\\x1f]")
            else:
                out.append(src[i:i + 2])
            i += 2
            continue
        if ch == "[" and not in_class:
            in_class = True
        elif ch == "]" and in_class and out and out[-1] != "[":
            in_class = False
        out.append(ch)
        i += 1
    flags = ("i" if pattern.flags & re.I else "") + ("m" if pattern.flags & re.M else "")
    return (f"(?{flags})" if flags else "") + "".join(out)


def _has(col: pl.Expr, pattern: re.Pattern[str]) -> pl.Expr:
    return col.str.contains(_rust(pattern))


def quality_exprs(rules: QualityRules | None = None, columns: tuple[str, ...] = ("problem", "answer", "source")
                  ) -> list[tuple[str, pl.Expr]]:
    """(reason, boolean expression) per regex rule, in ``quality_reason``'s order.

    The same decisions as ``quality_reason`` row by row (tests/test_quality.py compares
    them), evaluated by polars over the whole column in Rust instead of a Python call per
    row: at a million problems the per-row loop cost about 40 s.
    """
    r = rules or QualityRules()
    lit = pl.lit("")
    problem = pl.col("problem").fill_null("") if "problem" in columns else lit
    gold = pl.col("answer").fill_null("").str.strip_chars(_PY_SPACE) if "answer" in columns else lit
    source = pl.col("source").fill_null("").str.to_lowercase() if "source" in columns else lit
    key = gold.str.to_lowercase().str.replace_all(_rust(re.compile(r"[\s$.\\{}]|boxed|text")), "")
    out: list[tuple[str, pl.Expr]] = []
    if r.empty_problem:
        out.append(("empty problem", problem.str.strip_chars(_PY_SPACE) == ""))
    if r.missing_answer:
        out.append(("missing answer", gold == ""))
    if r.asy_figure:
        allowed = pl.any_horizontal([source.str.contains(s, literal=True) for s in r.asy_allowed_sources]) \
            if r.asy_allowed_sources else pl.lit(False)
        out.append(("asy figure", _has(problem, _ASY) & ~allowed))
    if r.image:
        out.append(("image", _has(problem, _IMAGE)))
    if r.hyperlink:
        out.append(("hyperlink", _has(problem, _LINK)))
    if r.multiple_choice:
        out.append(("multiple choice", pl.all_horizontal([_has(problem, c) for c in _CHOICES])
                     | _has(problem, _CHOICE_WORDS)))
    if r.true_false:
        out.append(("true/false", _has(problem, _TRUE_FALSE) | key.is_in(sorted(_TRUE_FALSE_ANSWERS))))
    if r.yes_no:
        out.append(("yes/no", _has(problem, _YES_NO) | key.is_in(sorted(_YES_NO_ANSWERS))
                    | _has(problem.str.strip_chars(_PY_SPACE), _YES_NO_QUESTION)))
    if r.proof:
        out.append(("proof", _has(problem, _PROOF)))
    if r.multi_part:
        out.append(("multi-part", pl.any_horizontal([_has(problem, a) & _has(problem, b) for a, b in _PARTS])))
    return out


def quality_reasons(df: pl.DataFrame, rules: QualityRules | None = None) -> pl.Series:
    """One reason (or null) per row of a problem table: regex rules in polars, then the verifier.

    ``unparseable_answer`` asks the verifier once per distinct gold of the rows no earlier
    rule dropped (golds repeat: numbers, letters).
    """
    r = rules or QualityRules()
    exprs = quality_exprs(r, tuple(df.columns))
    reason: pl.Expr = pl.lit(None, dtype=pl.String)
    for name, cond in reversed(exprs):  # the first rule that matches wins
        reason = pl.when(cond).then(pl.lit(name)).otherwise(reason)
    reasons = df.lazy().select(reason.alias("reason")).collect()["reason"] if df.height else \
        pl.Series("reason", [], dtype=pl.String)
    if r.unparseable_answer and "answer" in df.columns and df.height:
        golds = df["answer"].fill_null("").str.strip_chars(_PY_SPACE)
        todo = reasons.is_null() & (golds != "")
        verdict = {g: _parseable(g, r.answer_kind) for g in golds.filter(todo).unique().to_list()}
        bad = todo & golds.replace_strict(verdict, default=True, return_dtype=pl.Boolean).not_()
        reasons = pl.select(pl.when(bad).then(pl.lit("unparseable answer")).otherwise(reasons)).to_series()
    return reasons.alias("reason").cast(pl.String)


def quality_reasons_rowwise(df: pl.DataFrame, rules: QualityRules | None = None) -> pl.Series:
    """``quality_reason`` row by row: the reference the vectorised rules are tested against."""
    def col(name: str) -> list:
        return df[name].to_list() if name in df.columns else [None] * df.height

    return pl.Series("reason", [quality_reason(p, a, s, rules) for p, a, s in
                                zip(col("problem"), col("answer"), col("source"), strict=True)], dtype=pl.String)


@dataclass
class ProblemQuality(Filter):
    """Drops problems that cannot be verified or that a model can guess (see ``QualityRules``)."""

    rules: QualityRules = field(default_factory=QualityRules)

    needs: ClassVar[tuple[str, ...]] = ("problem", "answer")
    batch_size: ClassVar[int] = 100_000  # vectorised rules: per-batch costs (cache parts) dominate small batches

    @property
    def code_modules(self) -> tuple[Any, ...]:  # type: ignore[override]
        """The verifier's code decides "unparseable", so it is part of this stage's fingerprint."""
        if self.rules.unparseable_answer:
            from curator.answers import grading

            return (grading,)
        return ()

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        return quality_reasons(df, self.rules)
