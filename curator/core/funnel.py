"""The funnel: per stage, rows in / kept / dropped per reason, samples likewise, seconds.

It must always add up; the runner checks every stage against it, so a stage that loses
rows without a reason fails loudly instead of shrinking the dataset in silence.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any


class FunnelError(RuntimeError):
    """A stage's counts do not add up: rows or samples went missing without a reason."""


@dataclass
class StageStats:
    stage: str
    scope: str
    fingerprint: str
    rows_in: int = 0
    rows_out: int = 0
    dropped: dict[str, int] = field(default_factory=dict)
    samples_in: int = 0
    samples_out: int = 0
    samples_added: int = 0
    samples_dropped: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0
    cached: bool = False
    info: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_dropped(self) -> int:
        return sum(self.dropped.values())

    def check(self) -> None:
        if self.rows_in != self.rows_out + self.rows_dropped:
            raise FunnelError(
                f"stage {self.stage!r}: {self.rows_in} rows in, {self.rows_out} kept and "
                f"{self.rows_dropped} dropped with a reason - {self.rows_in - self.rows_out - self.rows_dropped} "
                "rows are unaccounted for. A stage must return every row it drops in its rejects."
            )
        dropped = sum(self.samples_dropped.values())
        if self.samples_in + self.samples_added != self.samples_out + dropped:
            raise FunnelError(
                f"stage {self.stage!r}: samples do not add up ({self.samples_in} in + {self.samples_added} "
                f"generated != {self.samples_out} kept + {dropped} dropped). Drop samples through SampleFilter "
                "so each one keeps its reason."
            )


def merge_counts(a: dict[str, int], b: dict[str, int]) -> dict[str, int]:
    out = dict(a)
    for k, v in b.items():
        out[k] = out.get(k, 0) + v
    return out


def write_funnel(stats: list[StageStats], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    doc = {"stages": [asdict(s) for s in stats]}
    path.write_text(json.dumps(doc, indent=2, ensure_ascii=False, default=str) + "\n")
    return path


def read_funnel(path: Path) -> list[StageStats]:
    doc = json.loads(Path(path).read_text())
    return [StageStats(**s) for s in doc["stages"]]


def render_funnel(stats: list[StageStats]) -> Any:
    """A rich Table of the funnel, for the end of a run and ``curator inspect``."""
    from rich.table import Table

    table = Table(title="Funnel", show_lines=False)
    for col, kw in [("stage", {}), ("rows in", {"justify": "right"}), ("kept", {"justify": "right"}),
                    ("dropped (reason: n)", {}), ("samples kept", {"justify": "right"}),
                    ("samples dropped", {}), ("seconds", {"justify": "right"}), ("notes", {})]:
        table.add_column(col, **kw)
    for s in stats:
        reasons = ", ".join(f"{k}: {v}" for k, v in sorted(s.dropped.items(), key=lambda kv: -kv[1])) or "-"
        sreasons = ", ".join(f"{k}: {v}" for k, v in sorted(s.samples_dropped.items(), key=lambda kv: -kv[1])) or "-"
        table.add_row(s.stage, f"{s.rows_in:,}", f"{s.rows_out:,}", reasons, f"{s.samples_out:,}", sreasons,
                      f"{s.seconds:.2f}", ", ".join(stage_flags(s)))
    return table


def stage_flags(s: StageStats) -> list[str]:
    """What the stage's own row must show: failed requests and truncated samples it produced."""
    flags = ["cached"] if s.cached else []
    for key, label in (("samples_failed", "failed requests"), ("samples_truncated", "truncated")):
        if s.info.get(key):
            flags.append(f"{label}: {s.info[key]:,}")
    return flags
