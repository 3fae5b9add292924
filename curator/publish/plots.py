"""The card's plots: PNGs a reader understands at a glance (title, labelled axes, units).

Each function takes plain data, writes one PNG and returns its path, or returns ``None``
when there is nothing to draw (the card then leaves the plot out). Figures are built with
``matplotlib.figure.Figure`` and the Agg canvas directly: no pyplot, no global backend
switch, safe in threads, notebooks and headless CI.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

DPI = 110
COLORS = ("#4C72B0", "#DD8452", "#55A868", "#C44E52", "#8172B3", "#937860", "#DA8BC3", "#8C8C8C")


def new_figure(width: float = 7.0, height: float = 4.0) -> Any:
    """A figure on the Agg canvas (no pyplot state), laid out to fit its labels."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def save_png(fig: Any, path: Path) -> Path:
    """Write ``fig`` as a PNG atomically (a reader never sees half a file)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    fig.savefig(tmp, format="png")
    tmp.replace(path)
    return path


def difficulty_histogram(values_by_split: Mapping[str, Sequence[float]], path: Path,
                         bins: int = 10) -> Path | None:
    """Problems per difficulty bin in [0, 1], stacked by curriculum split (or one bar series)."""
    series = {k: [float(v) for v in vs if v is not None] for k, vs in values_by_split.items()}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    fig = new_figure()
    ax = fig.add_subplot()
    edges = [i / bins for i in range(bins + 1)]
    labels = list(series)
    ax.hist([series[k] for k in labels], bins=edges, stacked=True, label=labels,
            color=[COLORS[i % len(COLORS)] for i in range(len(labels))], edgecolor="white")
    ax.set_xlim(0, 1)
    ax.set_xlabel("difficulty (0 = always solved, 1 = never solved)")
    ax.set_ylabel("problems")
    ax.yaxis.get_major_locator().set_params(integer=True)
    n = sum(len(v) for v in series.values())
    ax.set_title(f"Difficulty of the {n:,} problems" + (" by split" if len(labels) > 1 else ""))
    if len(labels) > 1:
        ax.legend(title="split")
    return save_png(fig, path)


def reasoning_length(lengths_by_split: Mapping[str, Sequence[int]], unit: str, path: Path) -> Path | None:
    """Distribution of reasoning length per split: one box per split, counts in the labels."""
    series = {k: [int(v) for v in vs if v is not None] for k, vs in lengths_by_split.items()}
    series = {k: v for k, v in series.items() if v}
    if not series:
        return None
    fig = new_figure(7.0, 0.9 + 0.55 * len(series) if len(series) > 3 else 3.6)
    ax = fig.add_subplot()
    labels = list(series)
    ax.boxplot([series[k] for k in labels], orientation="horizontal", widths=0.6, showmeans=True,
               tick_labels=[f"{k}\n(n={len(series[k]):,})" for k in labels])
    ax.set_xlabel(f"reasoning length ({unit})")
    ax.set_ylabel("split")
    ax.set_title("Reasoning length per split")
    ax.grid(axis="x", alpha=0.3)
    return save_png(fig, path)


def funnel_bars(stages: Sequence[Mapping[str, Any]], path: Path) -> Path | None:
    """Rows kept and dropped at every stage, in pipeline order (top to bottom)."""
    if not stages:
        return None
    names = [str(s["stage"]) for s in stages]
    kept = [int(s["rows_out"]) for s in stages]
    dropped = [int(s["rows_in"]) - int(s["rows_out"]) for s in stages]
    fig = new_figure(7.0, 1.2 + 0.45 * len(names))
    ax = fig.add_subplot()
    y = list(range(len(names)))
    ax.barh(y, kept, color=COLORS[0], label="kept")
    ax.barh(y, dropped, left=kept, color=COLORS[3], label="dropped")
    for yi, k, d in zip(y, kept, dropped, strict=True):
        ax.text(k + d, yi, f" {k:,}" + (f" (-{d:,})" if d else ""), va="center", fontsize=8)
    ax.set_yticks(y, names)
    ax.invert_yaxis()
    ax.set_xlabel("rows (problems)")
    ax.set_title("Funnel: rows kept and dropped per stage")
    ax.set_xlim(0, max(k + d for k, d in zip(kept, dropped, strict=True)) * 1.25 or 1)
    ax.xaxis.get_major_locator().set_params(integer=True)
    fig.legend(loc="outside lower center", ncols=2, frameon=False)
    return save_png(fig, path)


def language_mix(counts: Mapping[str, int], path: Path) -> Path | None:
    """Rows per language of the final dataset."""
    items = sorted(((str(k), int(v)) for k, v in counts.items() if v), key=lambda kv: -kv[1])
    if not items:
        return None
    fig = new_figure(6.0, 1.2 + 0.4 * len(items))
    ax = fig.add_subplot()
    total = sum(v for _, v in items)
    y = list(range(len(items)))
    ax.barh(y, [v for _, v in items], color=COLORS[2])
    for yi, (_, v) in zip(y, items, strict=True):
        ax.text(v, yi, f" {v:,} ({100 * v / total:.0f}%)", va="center", fontsize=8)
    ax.set_yticks(y, [k for k, _ in items])
    ax.invert_yaxis()
    ax.set_xlabel("rows (problems)")
    ax.set_ylabel("language")
    ax.set_xlim(0, max(v for _, v in items) * 1.3)
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.set_title("Language mix")
    return save_png(fig, path)
