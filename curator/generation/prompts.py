"""Prompt templates and the row -> chat messages builder.

``r1`` follows DeepSeek-R1's output format (reasoning inside ``<think>...</think>``, then a
summary, final answer in ``\\boxed{}``; the user instruction is the one DeepSeek recommends
for R1 math evaluation). ``r1_zh`` is its Chinese variant, ``multiple_choice`` asks for a
letter, and ``brief`` is the short prompt the embedded 135M model sometimes answers right.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

R1_SYSTEM = (
    "You are a helpful assistant. First think through the problem step by step inside "
    "<think> </think> tags. After </think>, write a short summary of your reasoning and give "
    "the final answer in \\boxed{}."
)


@dataclass(frozen=True)
class PromptTemplate:
    """A system message (may be empty) and a user message with ``{problem}`` (and ``{choices}``)."""

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


TEMPLATES: dict[str, PromptTemplate] = {
    # DeepSeek-R1 usage notes: "Please reason step by step, and put your final answer within \boxed{}."
    "r1": PromptTemplate("r1", "{problem}\n\nPlease reason step by step, and put your final answer within \\boxed{{}}.",
                         R1_SYSTEM),
    "r1_zh": PromptTemplate(
        "r1_zh", "{problem}\n\n请逐步推理，并把最终答案写在 \\boxed{{}} 中。",
        "你是一个乐于助人的助手。先在 <think> </think> 标签内用中文逐步思考，然后在 </think> 之后"
        "用中文简要总结推理过程，并把最终答案写在 \\boxed{} 中。"),
    "multiple_choice": PromptTemplate(
        "multiple_choice",
        "{problem}\n{choices}\nPlease reason step by step, then give only the letter of the correct option "
        "within \\boxed{{}}.", R1_SYSTEM),
    # SmolLM2-135M-Instruct: without examples it boxed 2 of 32 answers and got none right; with these two
    # worked examples in R1's format it boxed 32/32 and solved 25/32 one-digit additions (per-problem
    # 0/4 to 4/4) at T=0.7 and T=1.0 - real, spread-out pass rates for the demo.
    "brief": PromptTemplate(
        "brief", "{problem} Think briefly, then give the final answer as \\boxed{{number}}.",
        shots=(("What is 2 + 3?", "<think>\n2 + 3 = 5\n</think>\nThe final answer is \\boxed{5}."),
               ("What is 6 + 4?", "<think>\n6 + 4 = 10\n</think>\nThe final answer is \\boxed{10}."))),
}


def get_template(template: str | PromptTemplate) -> PromptTemplate:
    """A template by name, or the given one; the error lists the names there are."""
    if isinstance(template, PromptTemplate):
        return template
    try:
        return TEMPLATES[template]
    except KeyError:
        raise ValueError(f"unknown prompt template {template!r}; use one of {sorted(TEMPLATES)} "
                         "or pass a PromptTemplate(name, user, system)") from None


def format_choices(meta: str | dict[str, Any] | None) -> str:
    """``A. ...`` lines from ``meta['choices']`` / ``meta['options']`` (a list or a letter->text dict)."""
    if isinstance(meta, str):
        try:
            meta = json.loads(meta)
        except ValueError:
            return ""
    if not isinstance(meta, dict):
        return ""
    choices = meta.get("choices", meta.get("options"))
    if isinstance(choices, dict):
        return "\n".join(f"{k}. {v}" for k, v in choices.items())
    if isinstance(choices, list):
        return "\n".join(f"{chr(65 + i)}. {c}" for i, c in enumerate(choices))
    return ""


def auto_template(language: str | None, base: str | PromptTemplate) -> str | PromptTemplate:
    """``r1`` becomes ``r1_zh`` for Chinese rows, so the reasoning stays in the problem's language."""
    if base == "r1" and language == "zh":
        return "r1_zh"
    return base


def row_messages(row: dict[str, Any], template: str | PromptTemplate) -> list[dict[str, str]]:
    """The chat messages for one problem row (``problem``, ``language``; ``meta`` for choices)."""
    tpl = get_template(auto_template(row.get("language"), template))
    return tpl.messages(row.get("problem") or "", format_choices(row.get("meta")))
