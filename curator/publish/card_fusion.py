"""The card's section for a fused (thinking / non-thinking) SFT set: the mix and one row of each kind."""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from curator.publish.build_output import Build

#: characters of an example message shown in the card
EXAMPLE_CHARS = 600
MODES = ("think", "no_think", "multi_turn")


def fenced(text: str) -> str:
    """``text`` in a code fence longer than any backtick run inside it, so it stays inert.

    >>> fenced("a ``` b").startswith("````")
    True
    """
    longest = max((len(m) for m in re.findall(r"`+", text)), default=0)
    fence = "`" * max(3, longest + 1)
    return f"{fence}text\n{text}\n{fence}"


def _clip(text: str, n: int = EXAMPLE_CHARS) -> str:
    return text if len(text) <= n else text[:n] + " [...]"


def fusion(build: Build) -> dict[str, Any] | None:
    """Rows per mode and domain with shares, and one example conversation per mode."""
    df = build.table
    if df is None or not {"mode", "messages"} <= set(df.columns):
        return None
    df = df.filter(pl.col("messages").is_not_null())  # a prompt without a usable reply has no row to show
    if df.height == 0:
        return None
    domain = df["domain"].fill_null("(none)") if "domain" in df.columns else pl.Series(["(none)"] * df.height)
    counts = (df.select(pl.col("mode"), domain.alias("domain")).group_by("mode", "domain").len()
              .sort("mode", "domain"))
    total = df.height
    per_mode = {m: int(df.filter(pl.col("mode") == m).height) for m in MODES}
    examples = []
    for mode in MODES:
        rows = df.filter(pl.col("mode") == mode)
        if rows.height:
            turns = [f"[{m['role']}] {_clip(m['content'] or '')}" for m in rows["messages"][0]]
            examples.append({"mode": mode, "block": fenced("\n\n".join(turns))})
    return {
        "total": total,
        "modes": [{"mode": m, "rows": n, "share": n / total} for m, n in per_mode.items()],
        "by_domain": [{"mode": r["mode"], "domain": r["domain"], "rows": r["len"]} for r in counts.to_dicts()],
        "examples": examples,
    }
