"""One prompt spec per item kind and language, shared by generation, probes and every export.

A spec family (``r1``, ``r1_zero``, ``boxed``, ``brief``, ``think``, ``plain``) holds one
instruction per (kind, language): kind ``math`` or ``choice`` (the item has options), language
``en`` or ``zh`` (Chinese problems get the Chinese instruction; other languages the English one).
The same function builds the chat messages for the Generate stage, the difficulty probe and the
verl / GRPO / SFT exports, so the pass rate that chose an item is measured on the prompt the
trainer will send.

Sources of the wording:

- ``r1``: DeepSeek-R1's usage recommendations - no system prompt, all instructions in the user
  turn, "Please reason step by step, and put your final answer within \\boxed{}." for math.
- ``r1_zero``: the DeepSeek-R1-Zero training template for base models (R1 paper, Table 1),
  the whole prompt as one user turn; the answer goes inside ``<answer> </answer>``.
- ``boxed``: verl's MATH preprocessing and DeepScaleR: "Let's think step by step and output the
  final answer within \\boxed{}." appended after a space.
- ``think``: a system prompt asking for ``<think>`` tags, for chat models that do not think natively.
- ``brief``: the embedded 135M demo model's prompt with two worked examples (see ``prompts.py``).
- ``plain``: the problem and its options only (SFT user turns).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from curator.core.options import render_options

KINDS = ("math", "choice")
LANGUAGES = ("en", "zh")

R1_ZERO_EN = (
    "A conversation between User and Assistant. The user asks a question, and the Assistant solves it. "
    "The assistant first thinks about the reasoning process in the mind and then provides the user with the "
    "answer. The reasoning process and answer are enclosed within <think> </think> and <answer> </answer> tags, "
    "respectively, i.e., <think> reasoning process here </think> <answer> answer here </answer>. "
    "User: {question}. Assistant:")
R1_ZERO_ZH = (
    "用户与助手之间的对话。用户提出一个问题，助手来解决它。助手先在脑海中思考推理过程，然后向用户给出答案。"
    "推理过程和答案分别写在 <think> </think> 和 <answer> </answer> 标签中，即 <think> 推理过程 </think> "
    "<answer> 答案 </answer>。用户：{question}。助手：")

THINK_SYSTEM = {
    "en": ("You are a helpful assistant. First think through the problem step by step inside <think> </think> "
           "tags. After </think>, write a short summary of your reasoning and give the final answer in \\boxed{}."),
    "zh": ("你是一个乐于助人的助手。先在 <think> </think> 标签内用中文逐步思考，然后在 </think> 之后"
           "用中文简要总结推理过程，并把最终答案写在 \\boxed{} 中。"),
}

_R1 = {
    ("math", "en"): "Please reason step by step, and put your final answer within \\boxed{}.",
    ("math", "zh"): "请逐步推理，并把最终答案写在 \\boxed{} 中。",
    ("choice", "en"): "Please reason step by step, and put the letter of the correct option within \\boxed{}.",
    ("choice", "zh"): "请逐步推理，并把正确选项的字母写在 \\boxed{} 中。",
}
_BOXED = {
    ("math", "en"): "Let's think step by step and output the final answer within \\boxed{}.",
    ("math", "zh"): "让我们一步一步地思考，并把最终答案写在 \\boxed{} 中。",
    ("choice", "en"): "Let's think step by step and output the letter of the correct option within \\boxed{}.",
    ("choice", "zh"): "让我们一步一步地思考，并把正确选项的字母写在 \\boxed{} 中。",
}
_R1_ZERO = {
    ("math", "en"): "",
    ("math", "zh"): "",
    ("choice", "en"): "Answer with the letter of the correct option.",
    ("choice", "zh"): "请用正确选项的字母作答。",
}
_BRIEF = {
    ("math", "en"): "Think briefly, then give the final answer as \\boxed{number}.",
    ("math", "zh"): "简要思考，然后把最终答案写成 \\boxed{数字}。",
    ("choice", "en"): "Think briefly, then give the letter of the correct option as \\boxed{letter}.",
    ("choice", "zh"): "简要思考，然后把正确选项的字母写成 \\boxed{字母}。",
}
_PLAIN = {(k, lang): "" for k in KINDS for lang in LANGUAGES}


@dataclass(frozen=True)
class PromptSpec:
    """A prompt family: an instruction per (kind, language), optional system prompt, wrapper and shots."""

    name: str
    instructions: Mapping[tuple[str, str], str]
    system: Mapping[str, str] = field(default_factory=dict)  # language -> system message; none by default
    wrapper: Mapping[str, str] = field(default_factory=dict)  # language -> text around {question} (R1-Zero)
    separator: str = "\n\n"  # between the question (with its options) and the instruction
    shots: tuple[tuple[str, str], ...] = ()  # worked (problem, answer) turns before the real question

    def user_text(self, problem: str, options: Mapping[str, str] | None = None, language: str = "en",
                  kind: str | None = None) -> str:
        """The user turn: problem, options in the language's layout, instruction (wrapped for R1-Zero)."""
        lang = "zh" if language == "zh" else "en"
        kind = "choice" if (kind == "choice" or (kind is None and options)) else "math"
        question = problem.strip()
        if options:
            question += "\n" + render_options(options, lang)
        instruction = self.instructions.get((kind, lang), "")
        text = question + (self.separator + instruction if instruction else "")
        wrap = self.wrapper.get(lang)
        return wrap.replace("{question}", text) if wrap else text

    def messages(self, problem: str, options: Mapping[str, str] | None = None, language: str = "en",
                 kind: str | None = None) -> list[dict[str, str]]:
        """Chat messages: [system], worked examples, the user turn."""
        lang = "zh" if language == "zh" else "en"
        out = [{"role": "system", "content": self.system[lang]}] if self.system.get(lang) else []
        for shot_problem, shot_answer in self.shots:
            out.append({"role": "user", "content": self.user_text(shot_problem, None, "en", "math")})
            out.append({"role": "assistant", "content": shot_answer})
        out.append({"role": "user", "content": self.user_text(problem, options, language, kind)})
        return out


BRIEF_SHOTS = (("What is 2 + 3?", "<think>\n2 + 3 = 5\n</think>\nThe final answer is \\boxed{5}."),
               ("What is 6 + 4?", "<think>\n6 + 4 = 10\n</think>\nThe final answer is \\boxed{10}."))

SPECS: dict[str, PromptSpec] = {
    "r1": PromptSpec("r1", _R1),
    "r1_zero": PromptSpec("r1_zero", _R1_ZERO, wrapper={"en": R1_ZERO_EN, "zh": R1_ZERO_ZH}, separator=" "),
    "boxed": PromptSpec("boxed", _BOXED, separator=" "),
    "think": PromptSpec("think", _R1, system=THINK_SYSTEM),
    # SmolLM2-135M-Instruct: without examples it boxed 2 of 32 answers and got none right; with these two
    # worked examples in R1's format it boxed 32/32 and solved 25/32 one-digit additions (per-problem
    # 0/4 to 4/4) at T=0.7 and T=1.0 - real, spread-out pass rates for the demo.
    "brief": PromptSpec("brief", _BRIEF, separator=" ", shots=BRIEF_SHOTS),
    "plain": PromptSpec("plain", _PLAIN),
}
#: earlier template names: the language and the kind are now chosen per item
ALIASES = {"r1_zh": "r1", "multiple_choice": "r1"}
