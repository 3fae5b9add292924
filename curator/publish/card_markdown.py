"""Markdown that stays inert: model text, file names and labels put into a card render as text.

A reasoning chain may hold three backticks, a heading, a link, ``<img>`` or an unclosed
``<!--``; inside a card any of these would become live markup on the Hub page (an open
comment hides every section after it). The template therefore never prints data raw: block
text goes through ``fence`` (a fence longer than any backtick run inside), inline text
through ``text`` (markup characters backslash-escaped, so CommonMark shows them as
characters: HTML is escaped on the page), code-looking values through ``code``, and every
example through ``clip``. The template's own markdown is the only markup in a card.
"""

from __future__ import annotations

import re
from typing import Any

#: characters that can open inline markup in CommonMark / GFM / the Hub's math (``$``)
_INLINE_SPECIAL = re.compile(r"([\\`*\[\]<>!#|&~{}$])")
#: ``_`` between two letters or digits cannot open or close emphasis (``too_easy`` stays readable)
_UNDERSCORE = re.compile(r"(?<![^\W_])_|_(?![^\W_])")
#: inline markup that needs no special character: GFM autolinks
_AUTOLINK = re.compile(r"(?i)(://|www\.)")


def clip(value: Any, limit: int = 300) -> str:
    """At most ``limit`` characters of ``value`` (``…`` marks a cut); ``None`` is empty."""
    s = "" if value is None else str(value).strip()
    return s if len(s) <= limit else s[:limit].rstrip() + " …"


def text(value: Any) -> str:
    """Inline text with every markup character escaped and line breaks folded: safe in prose and cells."""
    s = "" if value is None else str(value)
    s = re.sub(r"[\r\n\t]+", " ", s)
    s = _INLINE_SPECIAL.sub(r"\\\1", s)
    s = _UNDERSCORE.sub(r"\\_", s)
    return _AUTOLINK.sub(lambda m: ":\\/\\/" if m.group(1) == "://" else m.group(1)[:3] + "\\.", s)


def _longest_run(s: str, ch: str) -> int:
    runs = re.findall(re.escape(ch) + "+", s)
    return max((len(r) for r in runs), default=0)


def code(value: Any) -> str:
    """An inline code span that no backtick inside can close; ``|`` escaped for table cells."""
    s = re.sub(r"[\r\n\t]+", " ", "" if value is None else str(value))
    ticks = "`" * (_longest_run(s, "`") + 1)
    pad = " " if s.startswith("`") or s.endswith("`") or not s.strip() else ""
    return f"{ticks}{pad}{s.replace('|', chr(92) + '|')}{pad}{ticks}"


def fence(value: Any, info: str = "text") -> str:
    """A fenced code block whose fence is longer than any backtick run in ``value``."""
    s = "" if value is None else str(value)
    s = s.replace("\r\n", "\n").replace("\r", "\n")
    ticks = "`" * max(3, _longest_run(s, "`") + 1)
    body = s if s.endswith("\n") or not s else s + "\n"
    return f"{ticks}{info}\n{body}{ticks}"


_CODE_SPAN = re.compile(r"(`+)(.+?)\1", re.S)


def prose(value: Any) -> str:
    """A recipe's own prose (its docstring): its code spans and paragraphs kept, but no raw HTML,
    comments, math or headings: ``<`` ``>`` ``&`` ``$`` escaped outside code spans, a leading
    ``#`` and setext underlines neutralised."""
    s = "" if value is None else str(value)
    out, pos = [], 0
    for m in _CODE_SPAN.finditer(s):
        out.append(re.sub(r"([<>&$])", r"\\\1", s[pos:m.start()]))
        out.append(m.group(0))
        pos = m.end()
    out.append(re.sub(r"([<>&$])", r"\\\1", s[pos:]))
    lines = []
    for line in "".join(out).split("\n"):
        stripped = line.lstrip()
        if stripped.startswith(("#", "```", "~~~")) or re.fullmatch(r"\s*(=+|-{2,})\s*", line):
            indent = line[: len(line) - len(stripped)]
            line = indent + "\\" + stripped
        lines.append(line)
    return "\n".join(lines)


def register(env: Any) -> None:
    """Add the filters to a jinja2 environment."""
    env.filters["text"] = text
    env.filters["code"] = code
    env.filters["fence"] = fence
    env.filters["clip"] = clip
    env.filters["prose"] = prose
