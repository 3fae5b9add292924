"""The fusion stage: draw the mix, build chat rows, account for every item not used."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

import polars as pl

from curator.core.stage import Stage, StageOutput
from curator.fusion.mix import fuse, plan_mix

#: columns of a fused row
FUSED_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.String(), "mode": pl.String(), "messages": pl.List(pl.Struct({"role": pl.String(),
                                                                          "content": pl.String()})),
    "domain": pl.String(), "language": pl.String(), "item_ids": pl.List(pl.String()),
}


@dataclass
class Fuse(Stage):
    """Global stage: thinking and non-thinking items -> a fused SFT table (Qwen3 stage 3).

    Each input row is used once: as a single-turn row, as one turn of a multi-turn row (the
    other turn's row is then dropped as "merged into a multi-turn row"), or dropped as
    "not drawn (mix)". So the funnel adds up and the unused items stay in the rejects.
    """

    think_ratio: float = 0.5  # share of thinking rows among single-turn rows (Qwen3 gives no ratio)
    multi_turn_share: float = 0.1  # share of multi-turn rows that switch modes
    size: int | None = None  # total rows; None = as many as the items allow at this ratio
    domain_shares: dict[str, float] = field(default_factory=dict)  # per-domain shares; {} = as available
    flags: bool = True  # /think on thinking turns too (False: Qwen3's default mode is thinking)
    seed: int = 0

    scope: ClassVar[str] = "global"
    needs: ClassVar[tuple[str, ...]] = ("id", "problem", "kind", "reasoning", "reply")
    adds: ClassVar[tuple[str, ...]] = ("mode", "messages", "item_ids")

    def apply(self, df: pl.DataFrame) -> StageOutput:
        items = [{**r, "answer": r["reply"]} for r in df.iter_rows(named=True)]
        thinks = [r for r in items if r["kind"] == "think"]
        replies = [r for r in items if r["kind"] == "reply"]
        plan = plan_mix(len(thinks), len(replies), self.think_ratio, self.multi_turn_share, self.size)
        fused = fuse(thinks, replies, plan, shares=self.domain_shares or None, flags=self.flags, seed=self.seed)
        kept = pl.DataFrame(fused.rows, schema=FUSED_SCHEMA)
        # a multi-turn row carries both items; the first one is accounted for as merged into it
        merged = {ids[0] for ids in kept.filter(pl.col("mode") == "multi_turn")["item_ids"].to_list()}
        reasons = pl.Series("reason", ["merged into a multi-turn row" if i in merged else
                                       None if i in fused.used else "not drawn (mix)"
                                       for i in df["id"].to_list()], pl.String)
        rejects = df.with_columns(reasons).filter(reasons.is_not_null())
        counts = kept.group_by("mode", "domain").len().sort("mode", "domain").to_dicts()
        info = {"plan": {"think": plan.think, "no_think": plan.no_think, "multi_turn": plan.multi},
                "available": {"think": len(thinks), "no_think": len(replies)},
                "mix": {f"{c['mode']}/{c['domain']}": c["len"] for c in counts}}
        return StageOutput(kept, rejects=rejects, info=info)
