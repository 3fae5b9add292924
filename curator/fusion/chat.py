"""Chat rows in Qwen3's hybrid-thinking layout: flags in user turns, think blocks in replies.

Qwen3 (technical report, stage 3 "thinking mode fusion"; its model cards): a user switches
modes with ``/think`` or ``/no_think`` at the end of a turn, the last flag in a conversation
wins, and a reply without thinking still carries an empty think block, written by its chat
template exactly as ``<think>\\n\\n</think>\\n\\n``. A thinking reply is
``<think>\\n{reasoning}\\n</think>\\n\\n{answer}``. These functions build such rows from plain
strings; nothing here calls a model.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

Mode = Literal["think", "no_think"]

THINK_FLAG = "/think"
NO_THINK_FLAG = "/no_think"
#: the empty think block Qwen3's chat template writes for a non-thinking reply
EMPTY_THINK = "<think>\n\n</think>\n\n"


def flag(mode: Mode) -> str:
    """The soft switch for a mode.

    >>> flag("no_think")
    '/no_think'
    """
    return THINK_FLAG if mode == "think" else NO_THINK_FLAG


def user_turn(prompt: str, mode: Mode | None) -> dict[str, str]:
    """A user message with the mode's flag appended (``None``: no flag, the template's default).

    >>> user_turn("What is 2 + 2?", "think")["content"]
    'What is 2 + 2? /think'
    """
    text = prompt.rstrip()
    return {"role": "user", "content": f"{text} {flag(mode)}" if mode else text}


def assistant_turn(answer: str, reasoning: str | None = None) -> dict[str, str]:
    """A reply: ``<think>`` with the reasoning, or the empty block when there is none.

    >>> assistant_turn("4", "2 + 2 = 4")["content"]
    '<think>\\n2 + 2 = 4\\n</think>\\n\\n4'
    >>> assistant_turn("Paris.")["content"]
    '<think>\\n\\n</think>\\n\\nParis.'
    """
    body = answer.strip()
    thought = (reasoning or "").strip()
    if not thought:
        return {"role": "assistant", "content": EMPTY_THINK + body}
    return {"role": "assistant", "content": f"<think>\n{thought}\n</think>\n\n{body}"}


def last_flag(messages: Sequence[dict[str, str]]) -> Mode | None:
    """The mode the conversation is in: the last ``/think`` or ``/no_think`` in a user turn.

    >>> last_flag([{"role": "user", "content": "a /no_think"}, {"role": "assistant", "content": "x"},
    ...            {"role": "user", "content": "b /think"}])
    'think'
    """
    mode: Mode | None = None
    for m in messages:
        if m.get("role") != "user":
            continue
        text = m.get("content") or ""
        at_think, at_no = text.rfind(THINK_FLAG), text.rfind(NO_THINK_FLAG)  # "/think" is not in "/no_think"
        if max(at_think, at_no) >= 0:
            mode = "no_think" if at_no > at_think else "think"
    return mode


def single_turn(prompt: str, answer: str, reasoning: str | None, mode: Mode | None) -> list[dict[str, str]]:
    """One exchange; ``reasoning`` is dropped in ``no_think`` mode (the reply must not think)."""
    return [user_turn(prompt, mode), assistant_turn(answer, reasoning if mode != "no_think" else None)]


def multi_turn(turns: Sequence[tuple[str, str, str | None, Mode]]) -> list[dict[str, str]]:
    """Several exchanges, each in its own mode: ``(prompt, answer, reasoning, mode)`` per turn."""
    out: list[dict[str, str]] = []
    for prompt, answer, reasoning, mode in turns:
        out += single_turn(prompt, answer, reasoning, mode)
    return out
