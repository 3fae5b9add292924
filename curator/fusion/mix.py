"""Drawing a thinking / non-thinking / multi-turn mix with exact counts (Qwen3 stage 3).

Qwen3 fuses long-CoT data with instruction data without reasoning so one model does both; the
mix is a choice of the builder, so it is a parameter here and its realised counts are exact:
the share of thinking rows holds within one row, per-domain shares by largest remainder, and a
multi-turn row consumes one item of each kind (its two turns switch modes; the last flag wins).
Pure functions over item tables; ``curator.fusion.stages.Fuse`` applies them.
"""

from __future__ import annotations

import math
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from curator.fusion.chat import Mode, multi_turn, single_turn


@dataclass
class MixPlan:
    """How many rows of each kind to draw."""

    think: int
    no_think: int
    multi: int

    @property
    def total(self) -> int:
        return self.think + self.no_think + self.multi


def plan_mix(n_think: int, n_no_think: int, think_ratio: float, multi_share: float = 0.0,
             size: int | None = None) -> MixPlan:
    """Row counts from the items available: single-turn thinking rows are ``think_ratio`` of the
    single-turn rows (within one row), multi-turn rows ``multi_share`` of all rows.

    >>> plan_mix(100, 100, 0.5)
    MixPlan(think=100, no_think=100, multi=0)
    >>> plan_mix(30, 100, 0.75, multi_share=0.1)
    MixPlan(think=26, no_think=9, multi=4)
    """
    if not 0.0 <= think_ratio <= 1.0 or not 0.0 <= multi_share < 1.0:
        raise ValueError(f"think_ratio must be in [0, 1] and multi_share in [0, 1), got {think_ratio}, {multi_share}")
    best = MixPlan(0, 0, 0)
    hi = size if size is not None else n_think + n_no_think
    for total in range(hi, -1, -1):  # the largest total the items allow
        multi = round(multi_share * total)
        single = total - multi
        think = round(think_ratio * single)
        plan = MixPlan(think, single - think, multi)
        if plan.think + multi <= n_think and plan.no_think + multi <= n_no_think:
            best = plan
            break
    return best


def domain_quota(available: Mapping[str, int], n: int, shares: Mapping[str, float] | None = None) -> dict[str, int]:
    """Items to draw per domain: proportional to ``shares`` (default: to what is available),
    by largest remainder, never more than a domain has; a short domain's rest goes to others.

    >>> domain_quota({"math": 10, "code": 2}, 6, {"math": 0.5, "code": 0.5})
    {'math': 4, 'code': 2}
    """
    if n > sum(available.values()):
        raise ValueError(f"cannot draw {n} items from {sum(available.values())}")
    weights = {d: (shares or {}).get(d, 0.0) if shares else float(c) for d, c in available.items()}
    if sum(weights.values()) <= 0:
        weights = {d: float(c) for d, c in available.items()}
    quota = {d: 0 for d in available}
    left = n
    while left > 0:
        open_ = {d: w for d, w in weights.items() if quota[d] < available[d]}
        if not any(open_.values()):
            open_ = {d: 1.0 for d in available if quota[d] < available[d]}
        total = sum(open_.values())
        ideal = {d: left * w / total for d, w in open_.items()}
        give = {d: min(math.floor(v), available[d] - quota[d]) for d, v in ideal.items()}
        if sum(give.values()) == 0:  # hand out the remainders one by one, largest first
            order = sorted(open_, key=lambda d: (ideal[d] - math.floor(ideal[d]), open_[d]), reverse=True)
            give = {order[0]: 1}
        for d, g in give.items():
            quota[d] += g
            left -= g
    return quota


def draw(items: Sequence[Mapping[str, Any]], n: int, shares: Mapping[str, float] | None, rng: random.Random
         ) -> list[Mapping[str, Any]]:
    """``n`` items, domains by ``domain_quota``, seeded order within each domain."""
    by_domain: dict[str, list[Mapping[str, Any]]] = {}
    for it in items:
        by_domain.setdefault(str(it.get("domain") or "general"), []).append(it)
    quota = domain_quota({d: len(v) for d, v in by_domain.items()}, n, shares)
    out: list[Mapping[str, Any]] = []
    for d, group in by_domain.items():
        out += rng.sample(group, quota[d])
    rng.shuffle(out)
    return out


@dataclass
class Fused:
    """The drawn rows and which items they used."""

    rows: list[dict[str, Any]] = field(default_factory=list)
    used: set[str] = field(default_factory=set)


def fuse(think_items: Sequence[Mapping[str, Any]], reply_items: Sequence[Mapping[str, Any]], plan: MixPlan, *,
         shares: Mapping[str, float] | None = None, flags: bool = True, seed: int = 0) -> Fused:
    """Rows with ``messages`` and ``mode`` (think, no_think, multi_turn) following ``plan``.

    Items are dicts with ``id``, ``problem``, ``answer`` (the reply after any reasoning),
    ``reasoning`` (thinking items), ``domain``. ``flags=False`` leaves thinking turns unflagged
    (Qwen3's default mode is thinking); non-thinking turns always carry ``/no_think``.
    """
    rng = random.Random(seed)
    thinks = draw(think_items, plan.think + plan.multi, shares, rng)
    replies = draw(reply_items, plan.no_think + plan.multi, shares, rng)
    out = Fused()
    think_flag: Mode | None = "think" if flags else None

    def row(mode: str, messages: list[dict[str, str]], parts: list[Mapping[str, Any]]) -> None:
        out.rows.append({"id": "+".join(str(p["id"]) for p in parts), "mode": mode, "messages": messages,
                         "domain": str(parts[-1].get("domain") or "general"),
                         "language": parts[-1].get("language"), "item_ids": [str(p["id"]) for p in parts]})
        out.used.update(str(p["id"]) for p in parts)

    for it in thinks[:plan.think]:
        row("think", single_turn(it["problem"], it["answer"], it.get("reasoning"), think_flag), [it])
    for it in replies[:plan.no_think]:
        row("no_think", single_turn(it["problem"], it["answer"], None, "no_think"), [it])
    for t, r in zip(thinks[plan.think:], replies[plan.no_think:], strict=True):
        first, second = (t, r) if rng.random() < 0.5 else (r, t)
        turns = [(x["problem"], x["answer"], x.get("reasoning"), "think" if x is t else "no_think")
                 for x in (first, second)]
        row("multi_turn", multi_turn(turns), [first, second])
    return out
