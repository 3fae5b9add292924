"""The program a response proposes: the last fenced block in its language, after the reasoning."""

from __future__ import annotations

import re

#: a fenced block: opening fence (3+ backticks or tildes) with an optional info string, body, same fence
_FENCE = re.compile(r"^[ \t]*(?P<fence>`{3,}|~{3,})[ \t]*(?P<info>[^\n`]*)\n(?P<body>.*?)^[ \t]*(?P=fence)[ \t]*$",
                    re.S | re.M)
#: info strings that name each language (the first word of the fence's info string)
ALIASES: dict[str, frozenset[str]] = {
    "python": frozenset({"python", "py", "python3", "py3"}),
    "cpp": frozenset({"cpp", "c++", "cc", "cxx"}),
}
THINK_END = "</think>"


def after_reasoning(text: str) -> str:
    """The part of a response after its reasoning (after the last ``</think>``), else all of it."""
    cut = text.rfind(THINK_END)
    return text[cut + len(THINK_END):] if cut >= 0 else text


def fenced_blocks(text: str) -> list[tuple[str, str]]:
    """``(language tag, body)`` of every closed fenced block, in order (an unclosed one is ignored).

    >>> fenced_blocks("a\\n```python\\nprint(1)\\n```\\n")
    [('python', 'print(1)\\n')]
    """
    return [(m["info"].strip().split(" ")[0].lower() if m["info"].strip() else "", m["body"])
            for m in _FENCE.finditer(text)]


def extract_program(response: str | None, language: str = "python") -> str | None:
    """The last fenced block tagged ``language`` after the reasoning; else the last untagged block.

    Blocks inside the reasoning are drafts and are never chosen. None when there is no block:
    a response without a program is a ``compile error``, not a guess at bare text.

    >>> extract_program("<think>```python\\nx=0\\n```</think>Answer:\\n```py\\nx = 1\\n```")
    'x = 1\\n'
    """
    if not response:
        return None
    names = ALIASES.get(language, frozenset({language}))
    blocks = fenced_blocks(after_reasoning(response))
    for tag, body in reversed(blocks):
        if tag in names:
            return body
    for tag, body in reversed(blocks):
        if not tag:
            return body
    return None
