"""The row -> chat messages builder, over the prompt specs of ``prompt_spec`` (and custom templates).

A row's prompt depends on its item kind (``choice`` when it has options) and language (``zh``
gets the Chinese instruction), never on who asks: generation, the difficulty probe and the
verl / GRPO / SFT exports all call ``row_messages``. ``r1_zh`` and ``multiple_choice`` are
earlier names of ``r1``, which now picks language and kind per row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from curator.core.options import OPTION_KEYS, parse_options, render_options
from curator.core.table import parse_meta
from curator.generation.prompt_spec import ALIASES, SPECS, THINK_SYSTEM, PromptSpec

R1_SYSTEM = THINK_SYSTEM["en"]


@dataclass(frozen=True)
class PromptTemplate:
    """A custom template: a system message (may be empty) and a user message with ``{problem}``
    (and ``{choices}``, the options rendered ``A. ...``). The built-in prompts are ``PromptSpec``s."""

    name: str
    user: str
    system: str = ""
    #: worked examples as (problem, assistant answer) turns before the real question
    shots: tuple[tuple[str, str], ...] = ()

    def messages(self, problem: str, choices: str = "") -> list[dict[str, str]]:
        user = self.user.format(problem=problem.strip(), choices=choices).strip()
        out = [{"role": "system", "content": self.system}] if self.system else []
        for shot_problem, shot_answer in self.shots:
            out.append({"role": "user", "content": self.user.format(problem=shot_problem, choices="").strip()})
            out.append({"role": "assistant", "content": shot_answer})
        out.append({"role": "user", "content": user})
        return out


#: the built-in prompt families by name (``prompt_spec.SPECS``) and the earlier names that map onto them
TEMPLATES: dict[str, PromptSpec] = {**SPECS, **{old: SPECS[new] for old, new in ALIASES.items()}}
Template = str | PromptSpec | PromptTemplate


def get_template(template: Template) -> PromptSpec | PromptTemplate:
    """A spec by name, or the given spec / template; the error lists the names there are."""
    if isinstance(template, (PromptTemplate, PromptSpec)):
        return template
    try:
        return TEMPLATES[template]
    except KeyError:
        raise ValueError(f"unknown prompt template {template!r}; use one of {sorted(TEMPLATES)} "
                         "or pass a PromptSpec / PromptTemplate(name, user, system)") from None


def _meta_options(meta: str | dict[str, Any] | None) -> dict[str, str] | None:
    data = meta if isinstance(meta, dict) else parse_meta(meta) if isinstance(meta, str) else {}
    key = next((k for k in OPTION_KEYS if data.get(k)), None)
    return parse_options(data[key]) if key else None


def row_language(row: dict[str, Any]) -> str:
    """The row's ``language``; where it is null, ``zh`` when the problem's script says so (cheap), else ``en``."""
    lang = row.get("language")
    if lang:
        return "zh" if str(lang).lower().startswith("zh") else str(lang)
    from filters.language import script_language

    return "zh" if script_language(row.get("problem") or "") == "zh" else "en"


def row_item(row: dict[str, Any]) -> tuple[str, dict[str, str] | None, str, str]:
    """(problem, options, language, kind) of a row: ``options`` column first, then ``meta``'s option list."""
    options = parse_options(row.get("options")) or _meta_options(row.get("meta"))
    kind = "choice" if options else "math"
    return row.get("problem") or "", options, row_language(row), kind


def row_messages(row: dict[str, Any], template: Template) -> list[dict[str, str]]:
    """The chat messages for one problem row (``problem``, ``options``, ``language``; ``meta`` as fallback).

    Generation, the difficulty probe and the exports all call this, so one item gets one prompt.
    """
    tpl = get_template(template)
    problem, options, language, kind = row_item(row)
    if isinstance(tpl, PromptTemplate):
        return tpl.messages(problem, render_options(options, language))
    return tpl.messages(problem, options, language, kind)


def prompt_columns() -> tuple[str, ...]:
    """The row fields ``row_messages`` reads (select these before ``to_dicts``)."""
    return ("problem", "options", "language", "meta")
