"""Chinese answer forms: full-width characters, units and measure words, answers written as prose.

CMath and Gaokao answers are written ``3 个``, ``12 米``, ``\\boxed{5元}``, ``答：一共有 18 个。``,
``因此，所求的概率是 $\\dfrac38$``, often with full-width digits and letters (``故选Ｂ``). The
units come from a data file (``curator/data/answer_units.txt``), not from a regex in code, so
adding one is a one-line change. String work only: nothing is evaluated.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

UNITS_FILE = Path(__file__).parents[1] / "data" / "answer_units.txt"

#: full-width ASCII forms (U+FF01-U+FF5E) and the ideographic space -> ASCII: NFKC restricted to
#: these, since full NFKC also rewrites superscripts (x² -> x2) and would change the mathematics
_FULLWIDTH = {0xFF01 + i: 0x21 + i for i in range(0x5E)} | {0x3000: 0x20}

_CJK = re.compile(r"[\u3400-\u9fff\uf900-\ufaff]")
_NUMBER = r"[-+]?(?:\d+(?:\.\d+)?(?:\s*/\s*\d+)?|\.\d+)"
_LATEX_NUMBER = r"(?:\\[dt]?frac\s*\{[^{}]*\}\s*\{[^{}]*\}|\\[dt]?frac\d\d|" + _NUMBER + r")"
_MATH_SPAN = re.compile(r"\$\$?(.+?)\$\$?|\\\((.+?)\\\)")
_TEXT_UNIT = re.compile(r"\\(?:text|mathrm|mbox)\s*\{\s*([^{}]*?)\s*\}")


def fullwidth_to_ascii(s: str) -> str:
    """``１２Ｂ（Ａ）：`` -> ``12B(A):``.

    >>> fullwidth_to_ascii("故选Ｂ，答案：１２")
    '故选B,答案:12'
    """
    return s.translate(_FULLWIDTH)


@lru_cache(maxsize=1)
def units() -> tuple[str, ...]:
    """The unit and measure-word list, longest first (so 平方厘米 wins over 厘米)."""
    lines = UNITS_FILE.read_text(encoding="utf-8").splitlines()
    found = {ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")}
    return tuple(sorted(found, key=lambda u: (-len(u), u)))


@lru_cache(maxsize=1)
def _unit_tail() -> re.Pattern[str]:
    alts = "|".join(re.escape(u) for u in units())
    return re.compile(r"^(?P<num>" + _LATEX_NUMBER + r"|\S*?\d[^\s\u3400-\u9fff]*?)\s*(?:" + alts + r")$")


def has_cjk(s: str) -> bool:
    return bool(_CJK.search(s))


def strip_unit(s: str) -> str:
    """A number followed by a listed unit or measure word -> the number (``12 米`` -> ``12``).

    >>> strip_unit("12 平方厘米"), strip_unit("3个"), strip_unit("5\\\\text{元}")
    ('12', '3', '5')
    """
    t = _TEXT_UNIT.sub(lambda m: m.group(1) if has_cjk(m.group(1)) or m.group(1) in units() else m.group(0), s)
    t = t.strip()
    m = _unit_tail().match(t)
    return m.group("num").strip() if m else s


def prose_answer(s: str) -> str | None:
    """The answer inside a Chinese sentence: its last ``$..$`` span, else its last number (unit dropped).

    ``一共有 18 个`` -> ``18``; ``所求的概率是 $\\dfrac38$`` -> ``\\dfrac38``. None when the text is
    not Chinese prose or holds no number.

    >>> prose_answer("小明一共有 18 个苹果"), prose_answer("概率是 $\\\\dfrac38$"), prose_answer("x+1")
    ('18', '\\\\dfrac38', None)
    """
    if not has_cjk(s):
        return None
    spans = [a or b for a, b in _MATH_SPAN.findall(s)]
    if spans:
        return spans[-1].strip()
    numbers = re.findall(_LATEX_NUMBER, s)
    if numbers:
        return numbers[-1].replace(" ", "")
    counted = []
    for m in _NUMERAL_RUN.finditer(s):  # the shortest numeral a unit follows: 十六千克 is 十六 + 千克
        end = next((e for e in range(m.start() + 1, m.end() + 1) if s[e:].startswith(units())), None)
        value = chinese_numeral(s[m.start():end]) if end else None
        if value is not None:
            counted.append(value)
    return str(counted[-1]) if counted else None


_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_SMALL_UNITS = {"十": 10, "百": 100, "千": 1000}
_NUMERAL_RUN = re.compile("([" + "".join(_DIGITS) + "十百千万]+)")


def chinese_numeral(s: str) -> int | None:
    """``十三`` -> 13, ``二十`` -> 20, ``一百零五`` -> 105, ``三万两千`` -> 32000; None if not a numeral.

    Only read before a listed unit (``十三支``), so ``一共`` never counts as a number.

    >>> chinese_numeral("十三"), chinese_numeral("一百零五"), chinese_numeral("三万两千"), chinese_numeral("一共")
    (13, 105, 32000, None)
    """
    total = section = 0
    digit: int | None = None
    for ch in s:
        if ch in _DIGITS:
            digit = _DIGITS[ch]
        elif ch in _SMALL_UNITS:
            section += (1 if digit is None else digit) * _SMALL_UNITS[ch]
            digit = None
        elif ch == "万":
            total += (section + (digit or 0)) * 10000
            section, digit = 0, None
        else:
            return None
    return total + section + (digit or 0) if s else None


def chinese_form(s: str) -> str:
    """What to compare for a Chinese answer: the number without its unit, or the prose's answer."""
    t = strip_unit(s)
    if t != s or not has_cjk(t):
        return t
    return prose_answer(t) or s
