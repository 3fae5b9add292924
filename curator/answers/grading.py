"""Final answers: extract them from responses, decide equivalence, grade, aggregate.

Every stage that needs "is this sample correct?" (verify, rejection sampling, difficulty,
consensus, RL-pool evaluability) goes through these pure functions, so the project has
one notion of correctness. Math equivalence is math-verify's (gold first, gold wrapped in
``\\boxed{}``, its default 6-place float rounding), after the normalization layer in
``curator.answers.forms``; cheap exact checks run first. Raw model output is never
``eval``-ed or ``sympify``-ed.

>>> extract_answer("<think>maybe \\\\boxed{5}</think> So the answer is \\\\boxed{\\\\dfrac{1}{2}}.")
'\\\\dfrac{1}{2}'
>>> is_equivalent("\\\\frac{1}{2}", "50\\\\%"), is_equivalent("1/3", "0.333")
(True, False)
>>> grade("The answer is 1,000.", "1000")
True
>>> pass_at_k(n=4, c=1, k=2)
0.5
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Mapping, Sequence
from functools import lru_cache
from typing import Any

from curator.answers.chinese import fullwidth_to_ascii
from curator.answers.forms import (
    CHOICE_LETTERS,
    braced_argument,
    choice_letter,
    normalize,
    numbers_equal,
    parse_number,
    parse_sequence,
    sequences_equal,
    strip_wrappers,
    text_answer,
)
from curator.core.options import parse_options

KINDS = ("math", "choice", "text")
#: math-verify's own default per-call limit (seconds); worker processes pass None instead
MV_TIMEOUT_S = 5  # math_verify.parse(parsing_timeout=5), verify(timeout_seconds=5)

Options = Mapping[str, str] | Sequence[str] | None
#: longest string handed whole to math-verify's own extraction (a long response costs seconds to parse)
RAW_MAX_CHARS = 400

# -- extraction ---------------------------------------------------------------------------

_BOX = re.compile(r"\\(?:boxed|fbox)\b")
_FINAL_ANSWER = re.compile(r"final\s+answer\s*(?:is|:|=)?\s*[:：]?", re.IGNORECASE)
_ANSWER = re.compile(r"(?:\banswer\s*(?:is|:|=)|\banswer\b\s*[:：])\s*[:：]?", re.IGNORECASE)
_ZH = re.compile(r"(?:最终答案|故答案为|答案应为|答案是|答案为|答案|所以[^，,。\n]{0,30}?[为是]|因此[^，,。\n]{0,30}?[为是])"
                 r"\s*[:：]?\s*")
#: Chinese conclusions without 答案: 答：..., 因此/所以/故 ... 是/为/等于/= ..., else the clause after them
_ZH_CONCLUSION = re.compile(r"(?:^|[\n。.!！;；])\s*(?:答\s*[:：]|(?:因此|所以|故|综上所述|综上|从而)[,，\s]*"
                           r"(?:[^。\n]{0,30}?(?:是|为|等于|=))?)\s*[:：]?\s*")
#: a last line that ends in ``x = value`` / ``d = value``
_ASSIGN_END = re.compile(r"(?<![\w\\])[A-Za-z](?:_\{?\w+\}?)?\s*=\s*([^=\n]+?)\s*[.。]?\s*$")
_ANSWER_TAG = re.compile(r"<answer>(.*?)</answer>", re.DOTALL)
_CHOICE_ANCHOR = re.compile(
    r"(?:answer|option|choice)\s*(?:is|:|：|=)?\s*(?:option\s*|choice\s*)?[(\[]?\**\s*([A-J])\b(?![a-z])"
    r"|(?:选项|应选|故选|本题选|选择|选|正确答案是|答案是|答案为|答案|正确的是|正确的选项是)\s*[:：]?\s*[(（]?"
    r"([A-J])(?![a-zA-Z])",
    re.IGNORECASE,
)
_LINE_LETTER = re.compile(r"^\s*\**\(?([A-J])\)?\**\s*(?:[.:)]\s*.*)?$")


def _sections(text: str) -> list[str] | None:
    """Where to look, in order: the part after the reasoning, then (if that is empty) the rest.

    An opened ``<think>`` that never closes means a truncated response: no final answer.
    """
    if "</think>" in text:
        reasoning, _, final = text.rpartition("</think>")
        return [final] if final.strip() else [reasoning]
    if "<think>" in text:
        return None
    return [text]


_BOX_SEPARATOR = re.compile(
    r"^(?:\s|,|;|\$|\\[()\[\]]|\\q?quad|\\[,;!]|and|or|&|\\text\{\s*(?:and|or|,)?\s*\})*$")


def _boxes(text: str) -> list[tuple[int, int, str | None]]:
    """Every box: (start, end, content or None when never closed)."""
    out = []
    for m in _BOX.finditer(text):
        inner, end = braced_argument(text, m.end())
        if inner is None:  # \boxed 5 (no braces), or a truncated box
            tail = text[m.end():]
            bare = re.match(r"\s+([^\s$.,{]+)", tail)
            out.append((m.start(), m.end() + (bare.end() if bare else 0), bare.group(1) if bare else None))
        else:
            out.append((m.start(), end, inner.strip()))
    return out


def _last_box(text: str) -> str | None:
    """The last ``\\boxed{..}`` / ``\\fbox{..}`` (nested braces); None if it is empty or unclosed.

    Boxes written one after another with only separators between them (``\\boxed{1}, \\boxed{2}``)
    are one multi-part answer; boxes with prose between them are drafts and the last counts.
    """
    boxes = _boxes(text)
    if not boxes or not boxes[-1][2]:
        return None
    parts = [boxes[-1][2]]
    for i in range(len(boxes) - 2, -1, -1):
        start, end, content = boxes[i]
        if not content or not _BOX_SEPARATOR.match(text[end: boxes[i + 1][0]]):
            break
        parts.insert(0, content)
    return ", ".join(parts)


def _after_anchor(text: str, start: int) -> str | None:
    """The answer written after an anchor phrase: a ``$..$`` span, else up to the sentence end."""
    rest = text[start:].lstrip(" *:：\t")
    box = _last_box(rest.split("\n", 1)[0]) if _BOX.search(rest.split("\n", 1)[0]) else None
    if box:
        return box
    for left, right in (("$$", "$$"), ("$", "$"), ("\\(", "\\)"), ("\\[", "\\]")):
        if rest.startswith(left):
            close = rest.find(right, len(left))
            return rest[len(left): close].strip() or None if close > 0 else None
    line = rest.split("\n", 1)[0]
    line = re.split(r"(?<!\d)\.(?:\s|$)|\.\s|。|；|;|,\s*(?:so|which|and|I hope)\b|\s+I hope", line, maxsplit=1)[0]
    line = line.strip().strip("*").strip()
    line = re.sub(r"[.。]+$", "", line).strip()
    return line or None


def _anchored(text: str, pattern: re.Pattern[str]) -> str | None:
    for m in reversed(list(pattern.finditer(text))):
        ans = _after_anchor(text, m.end())
        if ans:
            return ans
    return None


def _extract_math(section: str) -> str | None:
    if _BOX.search(section):
        last = _boxes(section)[-1][1]
        final = list(_FINAL_ANSWER.finditer(section, last))  # "The final answer is $10,455$" after a draft box
        return (_after_anchor(section, final[-1].end()) if final else None) or _last_box(section)
    for pattern in (_FINAL_ANSWER, _ANSWER, _ZH, _ZH_CONCLUSION):
        ans = _anchored(section, pattern)
        if ans:
            return ans
    lines = [ln for ln in section.strip().splitlines() if ln.strip()]
    m = _ASSIGN_END.search(lines[-1]) if lines else None
    return m.group(1).strip().strip("$").strip() or None if m else None


def _extract_choice(section: str) -> str | None:
    if _BOX.search(section):
        box = _last_box(section)
        return (choice_letter(box) or (box if _letters(box) else None)) if box else None
    matches = list(_CHOICE_ANCHOR.finditer(section))
    for m in reversed(matches):
        letter = (m.group(1) or m.group(2) or "").upper()
        if letter and letter in CHOICE_LETTERS and (m.group(1) is None or m.group(1).isupper()):
            return letter
    lines = [ln for ln in section.strip().splitlines() if ln.strip()]
    if lines:
        m = _LINE_LETTER.match(lines[-1])
        if m:
            return m.group(1)
    return None


def extract_answer(text: str | None, kind: str = "math") -> str | None:
    """The final answer of a response, or None when it gives none (truncated, empty box).

    Math: the last ``\\boxed{}``/``\\fbox{}`` after the reasoning, else "final answer is",
    "Answer:", Chinese phrasings (答案是, 故答案为, 所以...为). Choice: a letter A-J only
    (``(B)``, ``answer is B``, ``选B``), never an expression.

    >>> extract_answer("First \\\\boxed{2}, then \\\\boxed{3}.")
    '3'
    >>> extract_answer("所以答案是 (C)。", kind="choice")
    'C'
    """
    _check_kind(kind)
    if not text:
        return None
    sections = _sections(fullwidth_to_ascii(text))
    if sections is None:
        return None
    for section in sections:
        tagged = _ANSWER_TAG.findall(section)  # R1-Zero's <answer> ... </answer>
        if tagged and tagged[-1].strip():
            inner = tagged[-1].strip()
            ans = (_extract_choice(inner) or choice_letter(inner)) if kind == "choice" else \
                (_extract_math(inner) if _BOX.search(inner) else inner)
        else:
            ans = _extract_choice(section) if kind == "choice" else _extract_math(section)
        if ans:
            return ans.strip()
    return None


# -- equivalence --------------------------------------------------------------------------


def _check_kind(kind: str) -> None:
    if kind not in KINDS:
        raise ValueError(f"unknown answer kind {kind!r}; use one of {KINDS}")


check_kind = _check_kind  # public: stages check their ``kind=`` when they are built


def _mv_timeout(timeout_s: int | None) -> int | None:
    """math-verify's alarm works only in the main thread; elsewhere the caller owns time limits."""
    return timeout_s if threading.current_thread() is threading.main_thread() else None


@lru_cache(maxsize=65536)
def _mv_parse(latex: str, timeout_s: int | None) -> tuple[Any, ...]:
    """math-verify's parse of ``\\boxed{latex}`` (cached: k samples of a problem share a gold)."""
    from math_verify import parse

    logging.getLogger("math_verify").setLevel(logging.ERROR)
    return tuple(parse(f"\\boxed{{{latex}}}", parsing_timeout=timeout_s))


def _mv_equal(gold: str, pred: str, timeout_s: int | None) -> bool:
    from math_verify import verify

    t = _mv_timeout(timeout_s)
    g, p = _mv_parse(gold, t), _mv_parse(pred, t)
    if not g or not p:
        return False
    return bool(verify(list(g), list(p), timeout_seconds=t))


def _compact(s: str) -> str:
    return s.replace(" ", "")


def _options_map(options: Options | str) -> dict[str, str]:
    """Options in any layout ``curator.core.options.parse_options`` reads (dict, list, JSON, TAL lists)."""
    if options is None:
        return {}
    return parse_options(options) or {}


def _letters(answer: str) -> str | None:
    """``AB`` / ``A, C`` -> ``AB`` (a multiple-answer gold); None for anything else."""
    t = fullwidth_to_ascii(strip_wrappers(answer)).strip().upper()
    return "".join(sorted(set(re.findall(r"[A-J]", t)))) if re.fullmatch(r"[A-J](?:\s*[,、 ]?\s*[A-J])+", t) \
        else None


def _letter_for(answer: str, options: dict[str, str], timeout_s: int | None) -> str | None:
    letter = choice_letter(answer)
    if letter or not options:
        return letter
    matches = [k for k, v in options.items() if _math_equivalent(v, answer, timeout_s)]
    return matches[0] if len(matches) == 1 else None


_DECIMAL_COMMA = re.compile(r"^-?\d+,\d+$")


def _answer_part(s: str) -> str:
    """A whole response given where an answer was expected: use its extracted final answer."""
    if _BOX.search(s) or "</think>" in s or any(p.search(s) for p in (_FINAL_ANSWER, _ANSWER, _ZH)):
        return extract_answer(s) or s
    return s


def _cheap_decision(g: str, p: str, gold: str, pred: str) -> bool | None:
    """Exact string, word-answer and exact-number checks: a decision, or None (ask math-verify)."""
    if _compact(g) == _compact(p):
        return True
    gt = text_answer(gold)
    if gt is not None:
        return gt == (text_answer(pred) or _compact(_strip_text(p)).lower())
    gn, pn = parse_number(g), parse_number(p)
    if gn is not None and pn is not None:
        return numbers_equal(gn, pn)
    for a, b in ((g, p), (p, g)):  # 1,22 vs 1.22: a decimal comma, only against a decimal point
        if _DECIMAL_COMMA.match(a) and "." in b and parse_number(b) is not None:
            n = parse_number(a.replace(",", "."))
            return n is not None and numbers_equal(n, parse_number(b))
    gl = choice_letter(g)
    if gl is not None and len(_compact(g)) <= 3:
        return gl == choice_letter(p)
    gs, ps = parse_sequence(g), parse_sequence(p)
    if gs is not None and ps is not None:
        return sequences_equal(gs, ps)
    return None


def _strip_text(s: str) -> str:
    return re.sub(r"\\(?:text|mathrm|textbf)\s*\{([^{}]*)\}", r"\1", s)


def _mv_raw_equal(gold: str, pred: str, timeout_s: int | None) -> bool:
    """math-verify's own extraction on the strings as given (sentences, relations, $..$ spans)."""
    from math_verify import parse, verify

    t = _mv_timeout(timeout_s)
    g, p = parse(gold, parsing_timeout=t), parse(pred, parsing_timeout=t)
    return bool(g and p and verify(g, p, timeout_seconds=t))


_PART_JOIN = re.compile(r"(?:\s*[\w$\\{}]+){0,2}\s*(?:,|;|and|&|和|及|与)\s*(?:[\w$\\{}]+\s*){0,2}", re.IGNORECASE)


def _gold_part(s: str) -> str:
    """A gold whose boxes are joined by a conjunction (``\\boxed{1} papers and \\boxed{2} bins``) is all of them."""
    boxes = _boxes(s)
    if len(boxes) > 1 and all(c for _, _, c in boxes) and all(
            _PART_JOIN.fullmatch(s[a[1]: b[0]]) for a, b in zip(boxes, boxes[1:], strict=False)):
        return ", ".join(c for _, _, c in boxes if c)
    return _answer_part(s)


def _math_equivalent(gold: str, pred: str, timeout_s: int | None) -> bool:
    original = (gold.strip(), pred.strip())
    gold, pred = _gold_part(gold), _answer_part(pred)
    g, p = normalize(gold), normalize(pred)
    if not g or not p:
        return False
    decided = _cheap_decision(g, p, gold, pred)
    if decided is not None:
        return decided
    if _mv_equal(g, p, timeout_s):
        return True
    gi, pi = normalize(gold, intervals=False), normalize(pred, intervals=False)
    if (gi, pi) != (g, p) and _mv_equal(gi, pi, timeout_s):
        return True  # relation against relation: math-verify compares them directly
    # math-verify's own extraction on the strings as given (short ones; of a long response, the part
    # we extracted), for what ours left: prose, delimiters, parts boxed apart
    # (``\\boxed{(3, 3)} for part (a) and \\boxed{(1, 1)}``), a box never closed
    raw = tuple(o if len(o) <= RAW_MAX_CHARS else x.strip() for o, x in zip(original, (gold, pred), strict=True))
    if any(_is_prose_or_delimited(x) or (_BOX.search(x) and extract_answer(x) is None) for x in raw):
        return _mv_raw_equal(*raw, timeout_s)
    return False


def _is_prose_or_delimited(s: str) -> bool:
    without_commands = re.sub(r"\\[A-Za-z]+", " ", s)
    return bool(re.search(r"\$|\\\(|\\\[", s)) or len(re.findall(r"[A-Za-z]{3,}", without_commands)) >= 2


def is_equivalent(gold: str | None, predicted: str | None, kind: str = "math", *,
                  options: Options = None, timeout_s: int | None = MV_TIMEOUT_S) -> bool:
    """Whether ``predicted`` is the same answer as ``gold`` (asymmetric: gold first).

    ``kind="choice"`` compares option letters; with ``options`` (letter -> text, or a list)
    an answer given as the option's text counts as its letter. ``kind="text"`` compares
    lowercase words. ``timeout_s`` is math-verify's per-call alarm (main thread only).

    >>> is_equivalent("3", "x = 3"), is_equivalent("3", "3, -3"), is_equivalent("90", "90^\\\\circ")
    (True, False, True)
    >>> is_equivalent("C", "29", "choice", options={"A": "21", "C": "29"})
    True
    """
    _check_kind(kind)
    if gold is None or predicted is None or not str(gold).strip() or not str(predicted).strip():
        return False
    if kind == "choice":
        opts = _options_map(options)
        several = _letters(gold)
        if several:  # a multiple-answer item: the same set of letters
            return several == (_letters(predicted) or choice_letter(predicted))
        g, p = _letter_for(gold, opts, timeout_s), _letter_for(predicted, opts, timeout_s)
        if g is not None or p is not None:
            return g is not None and g == p
        return _math_equivalent(gold, predicted, timeout_s)
    if kind == "text":
        return (text_answer(gold) or _compact(normalize(gold)).lower()) == (
            text_answer(predicted) or _compact(normalize(predicted)).lower())
    return _math_equivalent(gold, predicted, timeout_s)


@lru_cache(maxsize=65536)
def _gold_parseable(gold: str, kind: str, timeout_s: int | None) -> bool:
    g = normalize(gold)
    if not g:
        return False
    if kind == "choice":
        return True  # a letter, or option text matched to a letter at grading time
    if kind == "text" or text_answer(gold) is not None or parse_number(g) is not None:
        return True
    from sympy import Basic, MatrixBase

    return any(isinstance(x, (Basic, MatrixBase)) for x in _mv_parse(g, _mv_timeout(timeout_s)))


def gold_is_parseable(gold: str | None, kind: str = "math", *, timeout_s: int | None = MV_TIMEOUT_S) -> bool:
    """Whether a gold answer can be checked by rules (an RL prompt needs one that can).

    >>> gold_is_parseable("\\\\frac{3}{4}"), gold_is_parseable(""), gold_is_parseable("See the proof above.")
    (True, False, False)
    """
    _check_kind(kind)
    if gold is None or not str(gold).strip():
        return False
    if kind == "math" and len(str(gold)) > 300 or re.search(r"\b(?:prove|proof|show that)\b", str(gold), re.I):
        return False
    return _gold_parseable(str(gold), kind, timeout_s)


def grade(response_text: str | None, gold: str | None, kind: str = "math", *,
          options: Options = None, timeout_s: int | None = MV_TIMEOUT_S) -> bool | None:
    """Extract the final answer and compare it with the gold: True / False, or None when
    the gold itself can't be parsed (ungradable is not wrong)."""
    return grade_detail(response_text, gold, kind, options=options, timeout_s=timeout_s)[1]


def grade_detail(response_text: str | None, gold: str | None, kind: str = "math", *,
                 options: Options = None, timeout_s: int | None = MV_TIMEOUT_S) -> tuple[str | None, bool | None]:
    """``(extracted answer, correct)``: what ``grade`` decides, plus the answer it read."""
    extracted = extract_answer(response_text, kind)
    if kind == "choice" and extracted is None and options:
        extracted = extract_answer(response_text, "math")
    if not gold_is_parseable(gold, kind, timeout_s=timeout_s):
        return extracted, None
    if extracted is None:
        return None, False
    return extracted, is_equivalent(gold, extracted, kind, options=options, timeout_s=timeout_s)


# -- aggregation --------------------------------------------------------------------------


def pass_at_k(n: int, c: int, k: int) -> float:
    """Unbiased pass@k (Codex paper): 1 - C(n-c, k) / C(n, k), in its stable product form.

    >>> pass_at_k(10, 0, 1), pass_at_k(10, 10, 5), round(pass_at_k(10, 3, 1), 3)
    (0.0, 1.0, 0.3)
    """
    if not 0 <= c <= n or k < 1:
        raise ValueError(f"pass_at_k needs 0 <= c <= n and k >= 1, got n={n}, c={c}, k={k}")
    if k > n:
        raise ValueError(f"pass_at_k needs at least k samples: n={n} < k={k}; request k <= samples per problem")
    if n - c < k:
        return 1.0
    prod = 1.0
    for i in range(n - c + 1, n + 1):
        prod *= 1.0 - k / i
    return 1.0 - prod


def majority_answer(answers: Sequence[str | None], kind: str = "math", *, options: Options = None,
                    timeout_s: int | None = MV_TIMEOUT_S) -> tuple[str | None, float]:
    """The most frequent answer, grouping answers by equivalence, and its share of all answers.

    Missing answers (None) count in the denominator but never win. Ties go to the answer
    seen first.

    >>> majority_answer(["1/2", "0.5", "\\\\frac{1}{2}", "3", None])
    ('1/2', 0.6)
    """
    _check_kind(kind)
    if not answers:
        return None, 0.0
    groups: list[tuple[str, int]] = []  # (representative, count)
    by_string: dict[str, int] = {}
    for ans in answers:
        if ans is None or not str(ans).strip():
            continue
        key = _compact(normalize(ans)) if kind != "choice" else (choice_letter(ans) or _compact(ans))
        idx = by_string.get(key)
        if idx is None:
            idx = next((i for i, (rep, _) in enumerate(groups)
                        if is_equivalent(rep, ans, kind, options=options, timeout_s=timeout_s)), None)
            if idx is None:
                groups.append((ans, 0))
                idx = len(groups) - 1
            by_string[key] = idx
        rep, count = groups[idx]
        groups[idx] = (rep, count + 1)
    if not groups:
        return None, 0.0
    best = max(range(len(groups)), key=lambda i: (groups[i][1], -i))
    return groups[best][0], groups[best][1] / len(answers)


__all__ = [
    "KINDS", "extract_answer", "gold_is_parseable", "grade", "grade_detail", "is_equivalent",
    "majority_answer", "pass_at_k", "strip_wrappers",
]
