"""What a finished build must say out loud: failures, empty outputs and selections that collapsed.

Read from what the build left behind (``funnel.json``, ``outputs.json``, ``run.json``), so the
end-of-run summary, ``--fail-on-empty`` and the JSON log agree with the card.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from curator.core.funnel import StageStats, read_funnel


@dataclass
class RunSummary:
    rows: int  # rows of the final table (the last funnel stage's kept rows)
    failed_requests: int = 0  # samples whose request failed after the backend's retries (Generate info)
    truncated: int = 0  # samples cut at max_tokens (Generate info)
    empty_outputs: list[str] = field(default_factory=list)  # "config/split" written with 0 rows
    warnings: list[str] = field(default_factory=list)  # curricula, pools and bins that collapsed
    biggest_drop: str = ""  # where most rows went, for the 0-row error

    def line(self) -> str:
        """One line for the end of a build: rows, then every failure by name."""
        parts = [f"{self.rows:,} rows"]
        parts.append(f"{self.failed_requests:,} failed requests")
        parts.append(f"{self.truncated:,} truncated samples")
        empty = ", ".join(self.empty_outputs) if self.empty_outputs else "none"
        parts.append(f"empty splits: {empty}")
        return "summary: " + "; ".join(parts)

    def empty_reason(self) -> str:
        why = f" ({self.biggest_drop})" if self.biggest_drop else ""
        return (f"the build ended with 0 rows{why}. Look at the funnel above or `curator inspect`, "
                "or pass --allow-empty to accept an empty output")

    def as_dict(self) -> dict[str, Any]:
        return {"rows": self.rows, "failed_requests": self.failed_requests, "truncated": self.truncated,
                "empty_outputs": self.empty_outputs, "warnings": self.warnings}


def _stage_params(out_dir: Path) -> dict[str, dict[str, Any]]:
    try:
        record = json.loads((out_dir / "run.json").read_text())
    except (OSError, ValueError):
        return {}
    return {s["name"]: s.get("params") or {} for s in record.get("stages", [])}


def _samples_per_problem(params: dict[str, dict[str, Any]]) -> int | None:
    ks = [p["k"] for p in params.values() if isinstance(p.get("k"), int) and "temperature" in p]
    return sum(ks) if ks else None


def collapse_warnings(stats: list[StageStats], params: dict[str, dict[str, Any]]) -> list[str]:
    """Curricula with fewer stages than asked, balances short of target, bins k cannot fill."""
    out: list[str] = []
    k = _samples_per_problem(params)
    for s in stats:
        p = params.get(s.stage, {})
        info = s.info or {}
        if isinstance(info.get("stages"), list) and "n_stages" in p:
            asked = 2 if p.get("hardest_n") is not None else int(p["n_stages"])
            got = sum(1 for x in info["stages"] if x.get("rows"))
            if got < asked:
                hint = f" (k={k} gives only {k + 1} distinct pass rates)" if k is not None and k + 1 < asked else ""
                out.append(f"{s.stage}: asked for {asked} curriculum stages, got {got}{hint}")
        balance = info.get("balance")
        if isinstance(balance, dict) and balance.get("short_by"):
            out.append(f"{s.stage}: {balance['short_by']:,} rows short of its target of "
                       f"{balance.get('target_size', 0):,} (selected {balance.get('selected', 0):,}); "
                       "the pool has too few rows in some cells")
        binning = info.get("binning")
        if isinstance(binning, dict) and isinstance(info.get("bins"), list) and s.rows_in:
            labels = [str(x) for x in binning.get("labels", [])]
            filled = {str(b.get("bin")) for b in info["bins"] if b.get("rows")}
            used = [x for x in labels if x in filled]
            if labels and len(used) < len(labels):
                hint = ""
                if k is not None and binning.get("on") in ("pass_rate", "difficulty") and k - 1 < len(labels):
                    hint = (f"; k={k} samples per problem give {max(k - 1, 0)} pass rate(s) strictly between 0 and 1,"
                            f" too few for {len(labels)} bins: raise k or use fewer edges")
                out.append(f"{s.stage}: only {len(used)} of {len(labels)} difficulty bins hold rows{hint}")
    return out


def summarize(out_dir: str | Path) -> RunSummary:
    """The summary of a finished build directory."""
    out_dir = Path(out_dir)
    stats = read_funnel(out_dir / "funnel.json")
    rows = stats[-1].rows_out if stats else 0
    summary = RunSummary(rows=rows)
    for s in stats:
        summary.failed_requests += int((s.info or {}).get("samples_failed") or 0)
        summary.truncated += int((s.info or {}).get("samples_truncated") or 0)
    try:
        outputs = json.loads((out_dir / "outputs.json").read_text())
    except (OSError, ValueError):
        outputs = []
    summary.empty_outputs = [f"{o['config']}/{o['split']}" for o in outputs if not o.get("rows")]
    summary.warnings = collapse_warnings(stats, _stage_params(out_dir))
    droppers = [s for s in stats if s.rows_dropped]
    if droppers:
        worst = max(droppers, key=lambda s: s.rows_dropped)
        reason, n = max(worst.dropped.items(), key=lambda kv: kv[1])
        summary.biggest_drop = f"stage {worst.stage!r} dropped {worst.rows_dropped:,} rows, most for {reason!r}: {n:,}"
    elif stats and stats[0].rows_in == 0:
        summary.biggest_drop = "the input has no rows"
    return summary
