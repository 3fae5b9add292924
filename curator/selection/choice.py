"""Multiple-choice items in RL pools: keep them, drop them, or open them; shuffle their options.

The seed recipes ran RL on MedQA and TAL-SCQ5K multiple choice, so a pool may keep items that
have options (graded by letter). ``drop`` is Kimi k1.5's / Big-Math's rule (no multiple choice
in RL prompts). ``open`` follows HuatuoGPT-o1, which rewrote MedQA items into open questions
with a model; here it is rule-based: the options are removed and the gold becomes the gold
option's text, and items whose stem needs its options ("Which of the following", "下列") are
dropped with that reason, since only a model could rewrite them.

Position bias: ``shuffle`` permutes each item's options (fixed by the seed and the item id) and
remaps the gold letter, so a policy cannot learn "the answer is usually C".
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import polars as pl

from curator.core.options import gold_letter, options_json, parse_options, shuffle_options
from curator.core.stage import Stage, StageOutput, reject_frame

Policy = Literal["keep", "drop", "open"]
POLICIES = ("keep", "drop", "open")

#: stems that only make sense with their options (the ``open`` policy cannot rewrite them)
_NEEDS_OPTIONS = re.compile(
    r"which of the following|which one of the following|all of the following|except\b|following (?:is|are)"
    r"|下列|以下(?:哪|各|说法|选项)|哪一项|哪个选项|正确的是|错误的是|不正确的是", re.IGNORECASE)


def resolve_policy(choice: str, has_options: bool) -> Policy:
    """``""`` (the recipe default): ``keep`` when the source is multiple choice, else ``drop``."""
    if choice == "":
        return "keep" if has_options else "drop"
    if choice not in POLICIES:
        raise ValueError(f"choice={choice!r}: use keep, drop or open (or leave it empty for keep on "
                         "multiple-choice sources)")
    return choice  # type: ignore[return-value]


def choice_item(problem: str, answer: str | None, options: str | None, meta: str | None, policy: Policy,
                shuffle: bool, seed: int, key: str) -> tuple[str | None, str | None, str | None, str | None]:
    """(answer, options, meta, drop reason) of one item under ``policy`` (pure)."""
    opts = parse_options(options)
    if not opts:
        return answer, options, meta, None
    if policy == "drop":
        return answer, options, meta, "multiple choice"
    letter = gold_letter(answer, opts)
    if policy == "open":
        if letter is None:
            return answer, options, meta, "gold is not one of the options"
        if _NEEDS_OPTIONS.search(problem):
            return answer, options, meta, "stem needs its options (open needs a model rewrite)"
        data: dict[str, Any] = json.loads(meta) if meta else {}
        data = data if isinstance(data, dict) else {"meta": data}
        data.update(opened_from_options=opts, gold_letter=letter)
        return opts[letter], None, json.dumps(data, ensure_ascii=False, sort_keys=True), None
    if shuffle and letter is not None:
        opts, letter = shuffle_options(opts, letter, seed, key)
        return letter, options_json(opts), meta, None
    return answer, options, meta, None


@dataclass
class ChoiceItems(Stage):
    """Apply a multiple-choice policy (keep / drop / open) and optional option shuffling."""

    policy: Policy = "keep"
    shuffle: bool = False  # permute options per item (seeded), gold letter remapped
    seed: int = 0

    needs: ClassVar[tuple[str, ...]] = ("id", "problem", "answer")
    adds: ClassVar[tuple[str, ...]] = ("options",)

    def __post_init__(self) -> None:
        resolve_policy(self.policy, True)

    def apply(self, df: pl.DataFrame) -> StageOutput:
        opts = df["options"].to_list() if "options" in df.columns else [None] * df.height
        metas = df["meta"].to_list() if "meta" in df.columns else [None] * df.height
        out = [choice_item(p or "", a, o, m, self.policy, self.shuffle, self.seed, i)
               for p, a, o, m, i in zip(df["problem"], df["answer"], opts, metas, df["id"], strict=True)]
        df = df.with_columns(pl.Series("answer", [o[0] for o in out], pl.String),
                             pl.Series("options", [o[1] for o in out], pl.String),
                             pl.Series("meta", [o[2] for o in out], pl.String))
        kept, rejects = reject_frame(df, pl.Series("reason", [o[3] for o in out], pl.String))
        info = {"policy": self.policy, "multiple_choice": sum(1 for o in opts if o), "shuffled": self.shuffle}
        return StageOutput(kept, rejects if rejects.height else None, info=info)
