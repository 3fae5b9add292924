"""``curator inspect OUT_DIR``: a build in the terminal (funnel, columns, rejects, a few samples).

For the moment between "the build finished" and "I trust this data": the same facts as the
card, read from the same files, without leaving the terminal. Text from the data is shown
as plain ``rich.text.Text`` so brackets in problems are never read as markup.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import polars as pl

from curator.core.funnel import StageStats, render_funnel
from curator.publish.build_output import Build, fmt_num

#: C0/C1 control characters other than newline and tab: escape sequences in model text could
#: otherwise drive the terminal (clear it, retitle it, hide lines, forge hyperlinks).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def inert(text: str) -> str:
    r"""Text safe to print to a terminal: control characters shown as ``\x1b`` and the like.

    >>> inert("ok\x1b[2Jgone")
    'ok\\x1b[2Jgone'
    """
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def _clip(value: Any, n: int) -> str:
    s = "" if value is None else inert(str(value).strip())
    return s if len(s) <= n else s[:n].rstrip() + " …"


def column_summary(df: pl.DataFrame) -> list[tuple[str, str, str, str]]:
    """(column, type, non-null, summary) for every column a person would look at."""
    rows = []
    for name in df.columns:
        if name.startswith("_"):
            continue
        s = df[name]
        dtype = s.dtype
        non_null = df.height - s.null_count()
        if name == "samples" and isinstance(dtype, pl.List):
            lens = s.list.len()
            summary = f"{int(lens.sum() or 0):,} samples, {fmt_num(float(lens.mean() or 0), 1)} per row"
            type_name = "list[struct]"
        elif dtype.is_numeric() and non_null:
            summary = f"min {fmt_num(s.min())}, mean {fmt_num(float(s.mean()))}, max {fmt_num(s.max())}"
            type_name = str(dtype)
        elif dtype == pl.Boolean and non_null:
            summary = f"{fmt_num(float(s.cast(pl.Float64).mean()) * 100, 1)}% true"
            type_name = str(dtype)
        elif dtype == pl.String and non_null:
            counts = s.drop_nulls().value_counts(sort=True)
            top, n = counts.row(0)
            summary = f"{counts.height:,} distinct; most common: {_clip(top, 40)!r} ({n:,})"
            type_name = str(dtype)
        else:
            summary, type_name = "", str(dtype)
        rows.append((name, type_name, f"{non_null:,}", summary))
    return rows


def _sample_panel(row: dict[str, Any], index: int, width: int) -> Any:
    from rich.panel import Panel
    from rich.text import Text

    text = Text()
    text.append("problem  ", style="bold")
    text.append(_clip(row.get("problem"), width * 3) + "\n")
    text.append("answer   ", style="bold")
    text.append(_clip(row.get("answer"), 200) + "\n")
    facts = [f"{k}={fmt_num(row[k])}" for k in ("language", "domain", "difficulty", "bin", "split", "pass_rate")
             if row.get(k) is not None]
    if facts:
        text.append("row      ", style="bold")
        text.append(", ".join(facts) + "\n")
    samples = row.get("samples") or []
    if samples:
        s = samples[0]
        mark = {True: ("correct", "green"), False: ("wrong", "red")}.get(s.get("correct"), ("ungraded", "yellow"))
        text.append(f"sample 1 of {len(samples)}  ", style="bold")
        text.append(mark[0], style=mark[1])
        tokens = s.get("completion_tokens")
        text.append(f"  ({s.get('model') or 'model?'}" + (f", {tokens:,} tokens" if tokens else "") + ")\n")
        text.append("reasoning ", style="bold")
        text.append(_clip(s.get("reasoning") or s.get("text"), width * 4) + "\n", style="dim")
        text.append("final    ", style="bold")
        text.append(_clip(s.get("final"), width) + "\n")
        text.append("extracted ", style="bold")
        text.append(_clip(s.get("extracted"), width))
    return Panel(text, title=f"row {index}  id {row.get('id')}", title_align="left")


def rejects_summary(build: Build) -> list[tuple[str, str, int, str]]:
    """(stage, reason, rows, example problem) for every reason rows were dropped."""
    out = []
    for stage, df in build.rejects():
        if "reason" not in df.columns:
            continue
        for (reason,), part in df.group_by("reason", maintain_order=True):
            example = part["problem"][0] if "problem" in part.columns else part.row(0)
            out.append((stage, str(reason), part.height, _clip(example, 70)))
    return out


def sample_rejects_summary(build: Build) -> list[tuple[str, str, int, str]]:
    """(stage, reason, samples, example reasoning) for every reason samples were dropped."""
    out = []
    for stage, df in build.sample_rejects():
        if "reason" not in df.columns:
            continue
        text_col = next((c for c in ("reasoning", "text", "final") if c in df.columns), None)
        for (reason,), part in df.group_by("reason", maintain_order=True):
            example = part[text_col][0] if text_col else ""
            out.append((stage, str(reason), part.height, _clip(example, 70)))
    return out


def inspect_build(out_dir: str | Path, console: Any = None, samples: int = 3) -> Build:
    """Print the build in ``out_dir`` to ``console`` (a ``rich.console.Console``)."""
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    console = console or Console()
    build = Build.load(out_dir)
    run = build.run
    console.print(Text(f"{build.pretty_name}  ({build.out_dir})", style="bold"))
    if run.get("command"):
        console.print(Text(f"built {run.get('started', '?')} by: {inert(str(run['command']))}", style="dim"))
    console.print(render_funnel([StageStats(**s) for s in build.funnel]))

    files = Table(title="Outputs")
    for col in ("config", "split", "rows", "file"):
        files.add_column(col, justify="right" if col == "rows" else "left")
    for f in build.outputs:
        files.add_row(str(f["config"]), str(f["split"]), f"{int(f['rows']):,}", str(f["path"]))
    console.print(files)

    totals = [StageStats(**s) for s in build.funnel]
    rows_dropped = sum(s.rows_dropped for s in totals)
    samples_dropped = sum(sum(s.samples_dropped.values()) for s in totals)
    generated = sum(s.samples_added for s in totals)
    console.print(Text(f"dropped: {rows_dropped:,} rows; {samples_dropped:,} of {generated:,} generated samples",
                       style="bold"))
    if build.table is None:
        console.print("[yellow]no readable output table (outputs.json lists none in .parquet or .jsonl)[/]")
        return build
    cols = Table(title=f"Columns of config {build.main_config!r} ({build.table.height:,} rows)")
    for col in ("column", "type", "non-null", "summary"):
        cols.add_column(col, justify="right" if col == "non-null" else "left")
    for row in column_summary(build.table):
        cols.add_row(*(Text(c) for c in row))
    console.print(cols)

    dropped = rejects_summary(build)
    if dropped:
        rej = Table(title="Rejected rows by reason (rejects/*.parquet)")
        for col in ("stage", "reason", "rows", "example"):
            rej.add_column(col, justify="right" if col == "rows" else "left")
        for stage, reason, n, example in dropped:
            rej.add_row(Text(stage), Text(reason), f"{n:,}", Text(example))
        console.print(rej)
    sample_drops = sample_rejects_summary(build)
    if sample_drops:
        srej = Table(title="Dropped samples by reason (rejects/*.samples.parquet)")
        for col in ("stage", "reason", "samples", "example"):
            srej.add_column(col, justify="right" if col == "samples" else "left")
        for stage, reason, n, example in sample_drops:
            srej.add_row(Text(stage), Text(reason), f"{n:,}", Text(example))
        console.print(srej)

    width = max(60, min(console.width, 140) - 10)
    for i, row in enumerate(build.table.head(samples).iter_rows(named=True)):
        console.print(_sample_panel(row, i, width))
    card = build.out_dir / "README.md"
    if card.is_file():
        console.print(Text(f"card: {card}  (regenerate with `curator card {build.out_dir}`)", style="dim"))
    return build
