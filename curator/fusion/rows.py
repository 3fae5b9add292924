"""Chat rows from a non-reasoning build's replies (R1's non-reasoning SFT rows)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from curator.core.stage import Map
from curator.fusion.chat import assistant_turn, user_turn
from curator.fusion.replies import reply_parts
from curator.fusion.stages import FUSED_SCHEMA


@dataclass
class ReplyMessages(Map):
    """``messages`` from each prompt's first kept reply: a short thought (R1) stays in ``<think>``,
    no thought gives the empty think block; rows without a usable reply get null ``messages``."""


    needs: ClassVar[tuple[str, ...]] = ("problem", "samples")
    adds: ClassVar[tuple[str, ...]] = ("messages", "mode")

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        messages = []
        for problem, samples in zip(df["problem"].to_list(), df["samples"].to_list(), strict=True):
            usable = [s for s in samples or [] if s.get("status") != "failed"]
            if not usable:
                messages.append(None)
                continue
            thought, answer = reply_parts(usable[0].get("text"), usable[0].get("reasoning"))
            messages.append([user_turn(problem, None), assistant_turn(answer, thought or None)])
        return df.with_columns(pl.Series("messages", messages, FUSED_SCHEMA["messages"]),
                               pl.lit("no_think").alias("mode"))
