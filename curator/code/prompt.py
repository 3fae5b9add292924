"""The prompt for code problems: reason first, then one fenced program (what ``extract_program`` reads)."""

from __future__ import annotations

from curator.generation.prompts import PromptTemplate

CODE_SYSTEM = (
    "You are a helpful assistant. First think through the problem step by step inside <think> </think> "
    "tags. After </think>, give your complete solution as one Python 3 program in a ```python code block."
)
#: stdin/stdout problems (APPS/TACO/Codeforces) and function problems (HumanEval) alike: the program
#: is the last ```python block after the reasoning (curator.code.extract)
CODE_TEMPLATE = PromptTemplate(
    "code", "{problem}\n\nWrite a Python 3 solution. Read from standard input and write to standard output "
    "unless a function is asked for. Put the whole program in one ```python code block at the end.", CODE_SYSTEM)
