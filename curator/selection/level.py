"""Difficulty from an external label: MATH's ``Level 1`` .. ``Level 5`` (MATH-lighteval's ``level``).

The 2- and 5-stage curricula of this project's source material were also cut by MATH's own
levels, not only by pass rates. ``LevelDifficulty`` reads the label (a ``level`` column or
``meta.level``; ``"Level 3"``, ``3`` and ``"3"`` all read as 3), sets ``difficulty`` =
(level - 1) / (max_level - 1) in [0, 1] and ``bin`` = ``level N``, so ``Curriculum`` and
``Balance`` work unchanged. Rows without a readable label are rejected with that reason.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import Stage, StageOutput, reject_frame
from curator.core.table import parse_meta

NO_LEVEL = "no difficulty level label"


def parse_level(value: Any) -> int | None:
    """``"Level 3"`` / ``3`` / ``"3"`` -> 3; None for ``"Level ?"`` (MATH has a few) and the rest.

    >>> parse_level("Level 5"), parse_level(2), parse_level("Level ?")
    (5, 2, None)
    """
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, (int, float)):
        return int(value) if float(value).is_integer() and value >= 1 else None
    m = re.fullmatch(r"\s*(?:level\s*)?(\d+)\s*", str(value), re.IGNORECASE)
    return int(m.group(1)) if m and int(m.group(1)) >= 1 else None


def row_level(level: Any, meta: str | None, key: str = "level") -> int | None:
    """The level from a ``level`` column value, else from ``meta[key]``."""
    found = parse_level(level)
    return found if found is not None else parse_level(parse_meta(meta).get(key))


@dataclass
class LevelDifficulty(Stage):
    """``difficulty`` and ``bin`` from a level label instead of pass rates (``difficulty_from=level``)."""

    key: str = "level"  # column or meta field holding the label (MATH: "Level 1".."Level 5")
    max_level: int = 5  # MATH

    needs: ClassVar[tuple[str, ...]] = ("problem",)
    adds: ClassVar[tuple[str, ...]] = ("difficulty", "bin", "level")
    scope: ClassVar = "global"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        given = df[self.key].to_list() if self.key in df.columns else [None] * df.height
        metas = df["meta"].to_list() if "meta" in df.columns else [None] * df.height
        levels = [row_level(v, m, self.key) for v, m in zip(given, metas, strict=True)]
        span = max(self.max_level - 1, 1)
        df = df.with_columns(
            pl.Series("level", levels, pl.Int64),
            pl.Series("difficulty", [None if lv is None else min(max((lv - 1) / span, 0.0), 1.0) for lv in levels],
                      pl.Float64),
            pl.Series("bin", [None if lv is None else f"level {lv}" for lv in levels], pl.String),
        )
        reasons = pl.Series("reason", [NO_LEVEL if lv is None else None for lv in levels], pl.String)
        kept, rejects = reject_frame(df, reasons)
        counts = {f"level {lv}": levels.count(lv) for lv in sorted({x for x in levels if x is not None})}
        return StageOutput(kept, rejects if rejects.height else None, info={"levels": counts})
