"""The ``options`` column: one canonical form for the option lists of multiple-choice data.

Public datasets write options in many layouts; all become one ordered ``letter -> text``
mapping, stored in the table as a JSON object string (``{"A": "...", "B": "..."}``):

- a dict: MedQA's ``options`` (``{"A": "Ampicillin", ...}``), ARC's ``{"label": [...], "text": [...]}``;
- a list of texts (``["21", "27"]``), or of labelled strings (AGIEval / Gaokao ``["(A)1", "(B)2"]``,
  ``"A. 1"``, ``"（A）1"``);
- TAL-SCQ5K's ``answer_option_list``: a list of one-element lists of ``{"aoVal": "A", "content": "..."}``
  (plain lists of such dicts, and ``{"label"/"key", "text"/"content"}`` dicts, too);
- a JSON string of any of those, or one string with inline labels (``"(A) 1 (B) 2"``).

Pure functions only; nothing here guesses an answer.
"""

from __future__ import annotations

import json
import random
import re
from collections.abc import Mapping
from typing import Any

#: the letters an option may carry (MMLU-Pro has ten options)
LETTERS = "ABCDEFGHIJ"
#: keys under which a source's option list may sit in ``meta`` (MedQA, AGIEval: options; MMLU: choices;
#: TAL-SCQ5K: answer_option_list)
OPTION_KEYS = ("options", "choices", "answer_option_list")

_LABEL = re.compile(r"^\s*[(（\[]?\s*([A-Ja-j])\s*[)）\]]?\s*[.．:：、)）]?\s*")
_LABEL_STRICT = re.compile(r"^\s*(?:[(（\[]\s*([A-Ja-j])\s*[)）\]]|([A-J])\s*[.．:：、)）])\s*")
_INLINE = re.compile(r"(?:^|(?<=\s))(?:[(（]\s*([A-J])\s*[)）]|([A-J])\s*[.．:：、])\s*")


def _labelled(text: str) -> tuple[str | None, str]:
    """(letter, rest) when a string starts with an option label (``(A)``, ``A.``, ``（A）``)."""
    m = _LABEL_STRICT.match(text)
    if not m:
        return None, text.strip()
    return (m.group(1) or m.group(2)).upper(), text[m.end():].strip()


def _from_pairs(pairs: list[tuple[str | None, str]]) -> dict[str, str] | None:
    """Letters from labels when every item has one (in any order), else by position."""
    if not pairs:
        return None
    labels = [p[0] for p in pairs]
    if all(labels) and len(set(labels)) == len(labels):
        return {k: v for k, v in sorted(pairs, key=lambda p: p[0] or "")}  # type: ignore[misc]
    if len(pairs) > len(LETTERS):
        return None
    return {LETTERS[i]: v for i, (_, v) in enumerate(pairs)}


def _item(value: Any) -> tuple[str | None, str] | None:
    """One option: a labelled string, a bare value, or a ``{aoVal, content}``-like dict."""
    while isinstance(value, list) and len(value) == 1:  # TAL-SCQ5K: [[{aoVal, content}], ...]
        value = value[0]
    if isinstance(value, Mapping):
        label = next((value[k] for k in ("aoVal", "label", "key", "letter") if k in value), None)
        text = next((value[k] for k in ("content", "text", "value", "option") if k in value), None)
        if text is None:
            return None
        letter = str(label).strip().upper() if label is not None else None
        return (letter if letter and letter in LETTERS else None), str(text).strip()
    if isinstance(value, (list, tuple)):
        return None
    if value is None:
        return None
    return _labelled(str(value))


def parse_inline(text: str) -> dict[str, str] | None:
    """``"(A) 1 (B) 2 (C) 3"`` -> ``{"A": "1", ...}`` when labels A, B, ... appear in order."""
    marks = [(m.start(), m.end(), (m.group(1) or m.group(2))) for m in _INLINE.finditer(text)]
    seq: list[tuple[int, int, str]] = []
    for mark in marks:
        if mark[2] == LETTERS[len(seq)] if len(seq) < len(LETTERS) else False:
            seq.append(mark)
    if len(seq) < 2 or text[: seq[0][0]].strip():
        return None
    out = {}
    for i, (_, end, letter) in enumerate(seq):
        stop = seq[i + 1][0] if i + 1 < len(seq) else len(text)
        out[letter] = text[end:stop].strip().rstrip(";；,，").strip()
    return out if all(out.values()) else None


def parse_options(value: Any) -> dict[str, str] | None:
    """Any accepted option layout -> ``{"A": text, ...}`` in letter order; None when there are none.

    >>> parse_options({"B": "27", "A": "21"})
    {'A': '21', 'B': '27'}
    >>> parse_options(["(A)1", "(B)2"])
    {'A': '1', 'B': '2'}
    >>> parse_options([[{"aoVal": "A", "content": "$$0$$ "}], [{"aoVal": "B", "content": "$$1$$"}]])
    {'A': '$$0$$', 'B': '$$1$$'}
    """
    if value is None:
        return None
    if isinstance(value, str):
        s = value.strip()
        if not s:
            return None
        if s[0] in "[{":
            try:
                return parse_options(json.loads(s))
            except ValueError:
                pass
        return parse_inline(s)
    if isinstance(value, Mapping):
        if "text" in value and "label" in value and isinstance(value["text"], (list, tuple)):  # ARC
            return _from_pairs([(str(lab).strip().upper(), str(t).strip())
                                for lab, t in zip(value["label"], value["text"], strict=False)])
        if "aoVal" in value or "content" in value:
            one = _item(value)
            return {one[0] or "A": one[1]} if one else None
        pairs = []
        for k, v in value.items():
            key = str(k).strip().upper()
            m = _LABEL.fullmatch(key)
            pairs.append(((m.group(1).upper() if m else None), "" if v is None else str(v).strip()))
        return _from_pairs(pairs)
    if isinstance(value, (list, tuple)):
        items = [_item(v) for v in value]
        if any(i is None for i in items):
            return None
        return _from_pairs(items)  # type: ignore[arg-type]
    return None


def options_json(options: Mapping[str, str] | None) -> str | None:
    """The column's stored form: a JSON object in letter order (non-ASCII kept readable)."""
    if not options:
        return None
    return json.dumps(dict(sorted(options.items())), ensure_ascii=False)


def render_options(options: Mapping[str, str] | None, language: str = "en") -> str:
    """The options in the dataset's usual layout: ``A. text`` lines; ``（A）text`` lines in Chinese."""
    if not options:
        return ""
    layout = "（{k}）{v}" if language == "zh" else "{k}. {v}"
    return "\n".join(layout.format(k=k, v=v) for k, v in options.items())


def gold_letter(answer: str | None, options: Mapping[str, str] | None, answer_idx: Any = None) -> str | None:
    """The gold option's letter: ``answer_idx`` (MedQA) / ``label`` (AGIEval) when it is a letter,
    else an answer that is a letter, else the one option whose text equals the answer.

    >>> gold_letter("Ampicillin", {"A": "Ceftriaxone", "D": "Ampicillin"}, "D")
    'D'
    >>> gold_letter("Ampicillin", {"A": "Ceftriaxone", "D": "Ampicillin"})
    'D'
    """
    if not options:
        return None
    for cand in (answer_idx, answer):
        if cand is None:
            continue
        letter, rest = _labelled(str(cand))
        s = str(cand).strip().strip("()（）").strip().upper()
        if s in options:
            return s
        if letter in options and not rest:
            return letter
    if answer is not None:
        text = str(answer).strip()
        hits = [k for k, v in options.items() if v.strip() == text]
        if len(hits) == 1:
            return hits[0]
    return None


def shuffle_options(options: Mapping[str, str], gold: str | None, seed: int, key: str = "") -> tuple[dict[str, str], str | None]:
    """The option texts in a new order (fixed by ``seed`` and the item ``key``), gold letter remapped.

    >>> shuffle_options({"A": "x", "B": "y", "C": "z"}, "A", seed=1, key="q1")
    ({'A': 'z', 'B': 'y', 'C': 'x'}, 'C')
    """
    letters = list(options)
    order = letters[:]
    random.Random(f"{seed}\x1f{key}").shuffle(order)
    new = {LETTERS[i]: options[old] for i, old in enumerate(order)}
    new_gold = LETTERS[order.index(gold)] if gold in options else gold
    return new, new_gold
