"""The normalization layer under ``curator.answers.grading``: answer forms math-verify misses.

Math-verify (the parser we trust for LaTeX) handles most notation, but graders of real
data also meet thousands separators written ``1\\,000`` or ``1 000``, degrees as ``°``,
units after numbers (``5 dollars``), text answers (``\\text{Monday}``, which math-verify
turns into a product of single-letter symbols), inequalities where the gold is an
interval, and multiple-choice letters. Everything here is string work and exact
``Fraction`` arithmetic: nothing is ever ``eval``-ed or ``sympify``-ed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction

from curator.answers.chinese import chinese_form, fullwidth_to_ascii, has_cjk

#: math-verify's default numeric tolerance: floats are compared after rounding to 6 places
FLOAT_ROUNDING = 6  # math_verify.verify(float_rounding=6)

#: the letters a multiple-choice answer may use (MMLU-Pro has ten options)
CHOICE_LETTERS = "ABCDEFGHIJ"

_WRAPPERS = (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]"))
_SPACING = re.compile(r"(?<!\\)\\[!,;:> ]|~|\\quad|\\qquad")
_TEXT_CMD = re.compile(r"\\(?:text|textbf|textit|mathrm|mathbf|mbox|operatorname)\s*\{([^{}]*)\}")
_DEGREES = re.compile(r"\^\s*\{?\\circ\}?|°|\\degree|\\circ$")
_UNIT_TAIL = re.compile(
    r"^(?P<num>[-+]?[\d.,\\{}/ ]*\d[\d.,\\{}/ ]*(?:\\%|%)?)\s*"
    r"(?P<unit>(?:\\(?:text|mathrm|mbox)\s*\{\s*[A-Za-z][A-Za-z .^0-9/-]*\})"
    r"|(?:[A-Za-z]{2,}\.?(?:\s+[A-Za-z]{2,}\.?)*(?:\^\{?[23]\}?)?))\s*$"
)
_CURRENCY = re.compile(r"^(?:\\\$|\$|US\$|USD|€|£|¥|\\euro)\s*")
_ASSIGN = re.compile(r"^\s*(?:[A-Za-z]|\\[a-zA-Z]+)(?:_\{?[A-Za-z0-9]+\}?)?\s*(?:=|\\in)\s*(?P<rhs>[^=]+)$")
_THOUSANDS = re.compile(r"^[-+]?[1-9]\d{0,2}(?:,\d{3})+(?:\.\d+)?(?:\\%|%)?$")
_LETTER = re.compile(r"^\(?([A-J])\)?(?:[.:)]|\s|$)")
_SEVERAL_LETTERS = re.compile(r"\(?[A-J]\)?(?:\s*(?:,|、|;|和|与|及|and|&|\s)?\s*\(?[A-J]\)?)+")

_NUMBER_WORDS = {
    w: i for i, w in enumerate(
        "zero one two three four five six seven eight nine ten eleven twelve thirteen fourteen "
        "fifteen sixteen seventeen eighteen nineteen twenty".split()
    )
}
#: short words that are answers, not products of variables
_TEXT_WORDS = {"yes", "no", "true", "false", "none", "even", "odd", "never", "always"}
_LATEX_WORDS = {"sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "lim", "max", "min", "det",
                "gcd", "lcm", "mod", "pi", "infty", "inf", "sqrt", "frac", "and", "or"}


def strip_wrappers(s: str) -> str:
    """Remove math delimiters around a whole answer: ``$..$``, ``\\(..\\)``, ``\\[..\\]``, ``\\boxed{..}``."""
    s = s.strip()
    changed = True
    while changed and s:
        changed = False
        for left, right in _WRAPPERS:
            if len(s) > len(left) + len(right) - 1 and s.startswith(left) and s.endswith(right):
                s = s[len(left): len(s) - len(right)].strip()
                changed = True
        for cmd in ("\\boxed", "\\fbox"):
            if s.startswith(cmd):
                inner, end = braced_argument(s, len(cmd))
                if inner is not None and end == len(s):
                    s, changed = inner.strip(), True
    return s


def braced_argument(s: str, pos: int) -> tuple[str | None, int]:
    """The ``{...}`` argument starting at ``pos`` (nested braces counted): (content, index after it).

    Returns (None, pos) when there is no opening brace or it is never closed (truncated text).
    """
    while pos < len(s) and s[pos] == " ":
        pos += 1
    if pos >= len(s) or s[pos] != "{":
        return None, pos
    depth = 0
    for i in range(pos, len(s)):
        c = s[i]
        if c == "\\":
            continue
        if c == "{" and s[i - 1] != "\\":
            depth += 1
        elif c == "}" and s[i - 1] != "\\":
            depth -= 1
            if depth == 0:
                return s[pos + 1: i], i + 1
    return None, pos


def normalize(s: str, intervals: bool = True) -> str:
    """A canonical LaTeX string for comparison and for math-verify's parser.

    Strips delimiters, spacing commands, ``\\left``/``\\right``, degrees, currency, a unit
    after a number, an ``x =`` / ``x \\in`` prefix, thousands separators and a final period;
    ``\\dfrac``/``\\tfrac`` become ``\\frac``; a simple inequality becomes an interval.
    """
    s = strip_wrappers(fullwidth_to_ascii(s))
    if has_cjk(s) or "\\text" in s or s.endswith(("°C", "℃")):  # 3 个, 12\\text{米}, 一共有 18 个 -> the number
        s = strip_wrappers(chinese_form(s))  # (curator.answers.chinese)
    s = s.replace("\\left", "").replace("\\right", "").replace("\\dfrac", "\\frac").replace("\\tfrac", "\\frac")
    s = s.replace("\\displaystyle", "").replace("{,}", ",")
    s = re.sub(r"(\d)\\[,!;: ]\s*(\d{3})(?!\d)", r"\1\2", s)  # 1\,000 thin-space thousands
    s = re.sub(r"(\d),\\!\s*(?=\d{3}(?!\d))", r"\1,", s)  # 10,\!000 (MATH style)
    s = re.sub(r"^(\d{1,3})((?: \d{3})+)(?=$|\.\d)", lambda m: m.group(1) + m.group(2).replace(" ", ""), s)
    s = _SPACING.sub(" ", s)
    s = _DEGREES.sub("", s).strip()
    s = re.sub(r"[.。]+$", "", s).strip()
    s = _CURRENCY.sub("", s)
    m = _UNIT_TAIL.match(s)
    if m and not any(w.lower() in _LATEX_WORDS for w in re.findall(r"[A-Za-z]+", m.group("unit"))):
        s = m.group("num").strip()
    m = _ASSIGN.match(s)
    if m and "," not in m.group("rhs") or (m and "\\in" in s):
        s = m.group("rhs").strip()
    if intervals:
        s = _inequality_to_interval(s)
    if _THOUSANDS.match(s):
        s = s.replace(",", "")
    return re.sub(r"\s+", " ", s).strip()


_REL = {"<": "<", "\\lt": "<", "\\le": "<=", "\\leq": "<=", "\\leqslant": "<=", "≤": "<=",
        ">": ">", "\\gt": ">", "\\ge": ">=", "\\geq": ">=", "\\geqslant": ">=", "≥": ">="}
_REL_PAT = r"(<=|>=|<|>|\\leqslant|\\geqslant|\\leq|\\geq|\\le|\\ge|\\lt|\\gt|≤|≥)"
_BOUND = r"([-+]?(?:[\d.]+|\\infty|\\pi|\\frac\{[^{}]+\}\{[^{}]+\}|\\sqrt\{[^{}]+\})(?:\\pi)?)"


def _inequality_to_interval(s: str) -> str:
    """``1 < x \\le 2`` -> ``(1,2]``; ``x \\ge 3`` -> ``[3,\\infty)``: one variable, simple bounds."""
    t = s.replace(" ", "")
    rel = {"<=": "<=", ">=": ">="}
    m = re.fullmatch(_BOUND + _REL_PAT + r"[a-zA-Z]" + _REL_PAT + _BOUND, t)
    if m:
        lo, r1, r2, hi = m.group(1), _REL.get(m.group(2), rel.get(m.group(2))), _REL.get(m.group(3), rel.get(m.group(3))), m.group(4)
        if r1 and r2 and r1[0] == r2[0] == "<":
            return ("[" if r1 == "<=" else "(") + f"{lo},{hi}" + ("]" if r2 == "<=" else ")")
        if r1 and r2 and r1[0] == r2[0] == ">":
            return ("[" if r2 == ">=" else "(") + f"{hi},{lo}" + ("]" if r1 == ">=" else ")")
        return s
    m = re.fullmatch(r"[a-zA-Z]" + _REL_PAT + _BOUND, t)
    if m:
        r, b = _REL.get(m.group(1), rel.get(m.group(1))), m.group(2)
        if r == "<":
            return f"(-\\infty,{b})"
        if r == "<=":
            return f"(-\\infty,{b}]"
        if r == ">":
            return f"({b},\\infty)"
        if r == ">=":
            return f"[{b},\\infty)"
    return s


@dataclass(frozen=True)
class Number:
    """An exactly parsed numeric answer. ``is_float`` = written with a decimal point."""

    value: Fraction
    is_float: bool = False
    percent: bool = False


_INT = r"\d+"
_DEC = r"(?:\d+\.\d*|\.\d+|\d+)"
_FRAC_LATEX = re.compile(r"^\\frac\{\s*([-+]?" + _DEC + r")\s*\}\{\s*([-+]?" + _DEC + r")\s*\}$")
_FRAC_SHORT = re.compile(r"^\\frac(\d)(\d)$")
_FRAC_SLASH = re.compile(r"^(" + _DEC + r")\s*/\s*(" + _DEC + r")$")
_MIXED = re.compile(r"^(" + _INT + r")\s*(\\frac\{\d+\}\{\d+\}|\\frac\d\d|\d+\s*/\s*\d+)$")
_MIXED_SPACE = re.compile(r"^(" + _INT + r") (\d+/\d+)$")
_SCI = re.compile(r"^(" + _DEC + r")\s*(?:\\times|\\cdot|\*|x)\s*10\^\{?\s*([-+]?\d{1,3})\s*\}?$")
_E_NOTATION = re.compile(r"^(" + _DEC + r")[eE]([-+]?\d{1,3})$")
_REPEATING = re.compile(r"^(\d*)\.(\d*)\\overline\{(\d+)\}$")
_MAX_NUMBER_CHARS = 80  # longer strings go to math-verify (and its time limit)


def _dec(text: str) -> Fraction:
    return Fraction(text) if not text.startswith(".") else Fraction("0" + text)


def parse_number(s: str) -> Number | None:
    """Parse a plain numeric answer exactly (ints, decimals, fractions, mixed numbers,
    percents, scientific notation, repeating decimals, number words); None otherwise.

    >>> parse_number("\\\\frac{3}{4}").value
    Fraction(3, 4)
    >>> parse_number("2 1/2").value
    Fraction(5, 2)
    >>> parse_number("x + 1") is None
    True
    """
    s = s.strip()
    if not s or len(s) > _MAX_NUMBER_CHARS:
        return None
    percent = False
    for suffix in ("\\%", "%", "\\text{%}", "percent"):
        if s.endswith(suffix):
            s, percent = s[: -len(suffix)].strip(), True
            break
    sign = 1
    if s[:1] in "+-":
        sign, s = (-1 if s[0] == "-" else 1), s[1:].strip()
        if s.startswith("(") and s.endswith(")"):
            s = s[1:-1].strip()
    num = _unsigned_number(s)
    if num is None:
        return None
    return Number(sign * num.value, num.is_float, percent)


def _unsigned_number(s: str) -> Number | None:
    if re.fullmatch(_DEC, s):
        return Number(_dec(s), "." in s)
    if s.lower() in _NUMBER_WORDS:
        return Number(Fraction(_NUMBER_WORDS[s.lower()]))
    for pat in (_FRAC_LATEX, _FRAC_SHORT, _FRAC_SLASH):
        m = pat.match(s)
        if m:
            den = _dec(m.group(2).lstrip("+"))
            if den == 0:
                return None
            is_float = "." in m.group(1) or "." in m.group(2)
            num = m.group(1)
            value = (-_dec(num[1:]) if num.startswith("-") else _dec(num.lstrip("+"))) / den
            return Number(value, is_float)
    m = _MIXED.match(s) or _MIXED_SPACE.match(s)
    if m:
        part = _unsigned_number(m.group(2).replace(" ", ""))
        return Number(int(m.group(1)) + part.value) if part is not None and part.value < 1 else None
    m = _SCI.match(s) or _E_NOTATION.match(s)
    if m:
        return Number(_dec(m.group(1)) * Fraction(10) ** int(m.group(2)), "." in m.group(1))
    m = _REPEATING.match(s)
    if m:
        whole, fixed, rep = m.group(1) or "0", m.group(2), m.group(3)
        value = Fraction(int(whole)) + (Fraction(int(fixed), 10 ** len(fixed)) if fixed else 0)
        value += Fraction(int(rep), (10 ** len(rep) - 1) * 10 ** len(fixed))
        return Number(value)
    return None


def _candidates(n: Number) -> list[Fraction]:
    """A percent may mean p/100 or the bare p (a gold that dropped the percent sign)."""
    return [n.value / 100, n.value] if n.percent else [n.value]


def numbers_equal(gold: Number, pred: Number) -> bool:
    """Exact for rationals; rounded to 6 places when either side was written as a decimal."""
    rounding = gold.is_float or pred.is_float
    for g in _candidates(gold):
        for p in _candidates(pred):
            if (round(g, FLOAT_ROUNDING) == round(p, FLOAT_ROUNDING)) if rounding else g == p:
                return True
    return False


def text_answer(s: str) -> str | None:
    """The canonical form of a word answer (``\\text{Monday}``, ``yes``), None for math.

    Math-verify would read ``Monday`` as a product of six symbols, so word answers are
    compared as lowercase strings instead.
    """
    t = strip_wrappers(s)
    inner = _TEXT_CMD.fullmatch(t.strip())
    if inner:
        t = inner.group(1)
    t = re.sub(r"[.!。]+$", "", t).strip().strip("*").strip()
    if not t or re.search(r"[\d\\^_=+*/<>{}]", t):
        return None
    words = re.findall(r"[^\W\d_]+", t)
    if not words:
        return None
    lowered = [w.lower() for w in words]
    if inner is None and not any(len(w) >= 3 or w in _TEXT_WORDS for w in lowered):
        return None
    if inner is None and any(w in _LATEX_WORDS for w in lowered):
        return None
    if re.fullmatch(r"\(?[A-J]\)?", t.strip()):
        return None  # a choice letter, not a word
    return " ".join(lowered)


def choice_letter(s: str) -> str | None:
    """The option letter an answer names: ``B``, ``(B)``, ``\\text{(B)}``, ``B) 27``, ``option B``."""
    t = strip_wrappers(fullwidth_to_ascii(s))
    inner = _TEXT_CMD.fullmatch(t)
    if inner:
        t = inner.group(1).strip()
    t = re.sub(r"^(?:option|choice|answer|选项|选)\s*[:：]?\s*", "", t, flags=re.IGNORECASE).strip()
    t = re.sub(r"\s*项$", "", t.strip("*").strip())
    if _SEVERAL_LETTERS.fullmatch(t):
        return None  # two letters are not one option: wrong for a single-choice item
    m = _LETTER.match(t)
    if m and (len(t) <= 3 or re.match(r"^\(?[A-J][).:]\s", t) or t[1:2] == ")"):
        return m.group(1)
    return None


@dataclass(frozen=True)
class Sequence_:
    """A tuple / interval / set / bare list of plain numbers (``\\infty`` allowed)."""

    shape: str  # "()", "(]", "[)", "[]" (ordered), "{}" (set) or "," (bare list, unordered)
    items: tuple[Number | str, ...]


def parse_sequence(s: str) -> Sequence_ | None:
    """``(1, 2)``, ``[0,\\infty)``, ``\\{1,2\\}``, ``3, -3`` with plain-number items; None otherwise."""
    t = s.strip()
    if t.startswith("\\{") and t.endswith("\\}"):
        shape, inner = "{}", t[2:-2]
    elif t[:1] in "([" and t[-1:] in ")]":
        shape, inner = t[0] + t[-1], t[1:-1]
    elif "," in t:
        shape, inner = ",", t
    else:
        return None
    if not inner.strip() or re.search(r"[()\[\]{}]", inner.replace("\\infty", "")):
        return None
    items: list[Number | str] = []
    for part in inner.split(","):
        p = part.strip()
        if p in ("\\infty", "+\\infty", "-\\infty", "\\infinity"):
            items.append(p.lstrip("+"))
            continue
        n = parse_number(p)
        if n is None:
            return None
        items.append(n)
    if shape != "," and shape != "{}" and len(items) < 2:
        return None
    return Sequence_(shape, tuple(items))


def _item_equal(a: Number | str, b: Number | str) -> bool:
    if isinstance(a, str) or isinstance(b, str):
        return a == b
    return numbers_equal(a, b)


def sequences_equal(gold: Sequence_, pred: Sequence_) -> bool | None:
    """Decide equal shapes exactly (ordered: item by item; sets and lists: as multisets); None otherwise."""
    if gold.shape != pred.shape:
        return None
    if len(gold.items) != len(pred.items):
        return False
    if gold.shape in ("{}", ","):
        left = list(pred.items)
        for g in gold.items:
            match = next((i for i, p in enumerate(left) if _item_equal(g, p)), None)
            if match is None:
                return False
            left.pop(match)
        return True
    return all(_item_equal(g, p) for g, p in zip(gold.items, pred.items, strict=True))
