"""The card's pass@k / maj@k curves for builds with at least 8 samples per problem.

A build that drew k >= 8 samples per problem can show how accuracy grows with k (pass@k) and
with voting (maj@k), per model: the numbers DeepSeek-Math and Yue et al. (2025) read RL's
effect from. The curves are ``curator.analysis.boundary.compare`` on the build's own table;
grouping answers for the vote runs in the verify pool.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from curator.analysis.boundary import BoundaryReport, compare
from curator.analysis.outcomes import table_outcomes
from curator.answers.verify import VerifyPool
from curator.publish.boundary_report import curve_plot
from curator.publish.build_output import Build

#: fewest samples per problem (the most any problem has) for the card to draw curves
MIN_SAMPLES = 8
PLOT_NAMES = {"pass": "pass_at_k_curve", "maj": "maj_at_k_curve"}


def report(build: Build, min_samples: int = MIN_SAMPLES) -> BoundaryReport | None:
    """The curves of the build's model(s), or None when it has fewer than ``min_samples``."""
    df = build.table
    if df is None or "samples" not in df.columns or df.height == 0:
        return None
    if not any(s.get("correct") is not None for row in df["samples"].head(200).to_list() for s in row or []):
        return None  # never verified: nothing to count
    most = int(df["n_samples"].max() or 0) if "n_samples" in df.columns else int(df["samples"].list.len().max() or 0)
    if most < min_samples:
        return None
    with VerifyPool() as pool:
        outcomes = table_outcomes(df, pool)
    result = compare(outcomes, resamples=200)
    return result if result.problems else None


def plots(curves: BoundaryReport | None, into: Path, plots_dir: str) -> dict[str, str]:
    """Write the curve PNGs under ``into/plots_dir``; {name: relative path}."""
    written: dict[str, str] = {}
    for metric, name in PLOT_NAMES.items():
        target = into / plots_dir / f"{name}.png"
        if curves is not None and curve_plot(list(curves.curves.values()), metric, target):
            written[name] = f"{plots_dir}/{name}.png"
        elif target.exists():
            target.unlink()
    return written


def context(curves: BoundaryReport | None) -> dict[str, Any] | None:
    """Rows for the card's table: one per model and metric, one cell per k."""
    if curves is None:
        return None
    rows = []
    for m in curves.models:
        c = curves.curves[m]
        rows.append({"model": m, "metric": "pass@k", "values": c.pass_at_k})
        rows.append({"model": m, "metric": "maj@k", "values": c.maj_at_k})
    return {"ks": curves.ks, "rows": rows, "problems": curves.problems, "models": curves.models}
