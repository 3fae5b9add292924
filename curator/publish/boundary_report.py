"""``curator compare``: a reasoning-boundary report from one or more builds.

Reads each build's table, turns its samples into per-model outcomes (a boundary build holds
several models, any other build one), compares them on the problems they share
(``curator.analysis.boundary.compare``) and writes a report folder:

- ``README.md``: the curves as a table, crossovers, boundary counts, the plots;
- ``plots/pass_at_k.png``, ``plots/maj_at_k.png``: curves on shared log2(k) axes, 95% bands;
- ``report.json``: every number of the README;
- ``per_problem.parquet``: n, c, pass@k and maj@k per problem and model;
- ``breakdown.csv``: the curves by domain, source and difficulty bin;
- ``boundary/<a>__not__<b>.jsonl``: problems ``a`` solves at some k and ``b`` never does.
"""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from curator.analysis.boundary import BoundaryReport, Curve, compare
from curator.analysis.outcomes import Outcomes, model_slug, table_outcomes
from curator.answers.verify import VerifyPool
from curator.core.outputs import OutputFile
from curator.publish.build_output import Build, CardError
from curator.publish.plots import COLORS, new_figure, save_png

#: problem columns copied into the boundary tables
PROBLEM_COLUMNS = ("id", "problem", "answer", "source", "domain", "language", "bin", "difficulty")


def curve_plot(curves: Sequence[Curve], metric: str, path: Path) -> Path | None:
    """pass@k or maj@k against log2 k, one line per model with its 95% bootstrap band."""
    drawn = 0
    fig = new_figure()
    ax = fig.add_subplot()
    for i, c in enumerate(curves):
        mean, lo, hi = ((c.pass_at_k, c.pass_lo, c.pass_hi) if metric == "pass"
                        else (c.maj_at_k, c.maj_lo, c.maj_hi))
        pts = [(k, m, a, b) for k, m, a, b in zip(c.ks, mean, lo, hi, strict=True) if m is not None]
        if not pts:
            continue
        ks, ms, los, his = zip(*pts, strict=True)
        color = COLORS[i % len(COLORS)]
        ax.plot(ks, ms, marker="o", color=color, label=c.model)
        if all(v is not None for v in los + his):
            ax.fill_between(ks, los, his, color=color, alpha=0.18, linewidth=0)
        drawn += 1
    if not drawn:
        return None
    ax.set_xscale("log", base=2)
    ax.set_ylim(0, 1)
    ax.set_xlabel("k (samples per problem, log2 scale)")
    ax.set_ylabel(f"{metric}@k (share of problems)")
    n = curves[0].problems if curves else 0
    ax.set_title(f"{metric}@k on {n:,} shared problems (95% bootstrap band)")
    ax.grid(True, alpha=0.3)
    ax.legend(title="model")
    return save_png(fig, path)


def _md(text: object) -> str:
    """Text from a build (model labels) made inert in Markdown: HTML escaped, pipes too."""
    return html.escape(str(text)).replace("|", "&#124;").replace("\n", " ")


def _pct(v: float | None) -> str:
    return "-" if v is None else f"{100 * v:.1f}"


def render_markdown(report: BoundaryReport, plots: dict[str, str], title: str) -> str:
    """The report's README: what was compared, the curves, crossovers and boundary counts."""
    lines = [f"# {_md(title)}", "",
             f"{len(report.models)} model(s) on {report.problems:,} shared problems "
             "(problems every model has at least one gradable sample for). pass@k is the unbiased "
             "estimator of the Codex paper; maj@k is the expected majority vote over k samples with "
             "answers grouped by equivalence; intervals are 95% bootstrap intervals over problems.", ""]
    head = "| model | " + " | ".join(f"k={k}" for k in report.ks) + " |"
    sep = "|---|" + "---:|" * len(report.ks)
    for metric in ("pass", "maj"):
        lines += [f"## {metric}@k (%)", "", head, sep]
        for m in report.models:
            c = report.curves[m]
            vals = c.pass_at_k if metric == "pass" else c.maj_at_k
            lines.append(f"| {_md(m)} | " + " | ".join(_pct(v) for v in vals) + " |")
        if metric in plots:
            lines += ["", f"![{metric}@k]({plots[metric]})"]
        lines.append("")
    if report.crossovers:
        lines += ["## Crossovers", "", "| ahead at k=1 | behind at k=1 | pass@k catches up at k | maj@k catches up at k |",
                  "|---|---|---:|---:|"]
        for x in report.crossovers:
            lines.append(f"| {_md(x['ahead_at_1'])} | {_md(x['behind_at_1'])} | {x['pass_crossover_k'] or 'never'} "
                         f"| {x['maj_crossover_k'] or 'never'} |")
        lines.append("")
    if report.boundaries:
        lines += ["## Boundaries", "", "Problems one model solves with some sample and the other never does: the "
                  "set outside a model's boundary is what a distillation set should target.", "",
                  "| a | b | a only | b only | both | neither | table (a only) | table (b only) |",
                  "|---|---|---:|---:|---:|---:|---|---|"]
        for b in report.boundaries:
            lines.append(f"| {_md(b.a)} | {_md(b.b)} | {len(b.a_only)} | {len(b.b_only)} | {b.both} | {b.neither} "
                         f"| [{boundary_file(b.a, b.b)}]({boundary_file(b.a, b.b)}) "
                         f"| [{boundary_file(b.b, b.a)}]({boundary_file(b.b, b.a)}) |")
        lines.append("")
    dropped = {m: v for m, v in report.dropped.items() if v}
    if dropped:
        lines += ["Left out for lack of a gradable sample: "
                  + ", ".join(f"{_md(m)}: {v}" for m, v in dropped.items()) + ".", ""]
    lines += ["Tables: `per_problem.parquet` (n, c, pass@k, maj@k per problem and model), `breakdown.csv` "
              "(by domain, source and difficulty bin), `report.json` (every number above).", ""]
    return "\n".join(lines)


def boundary_file(a: str, b: str) -> str:
    """Relative path of the table of problems ``a`` solves and ``b`` never does."""
    return f"boundary/{model_slug(a)}__not__{model_slug(b)}.jsonl"


def write_report(report: BoundaryReport, out_dir: str | Path, *, title: str = "Reasoning boundary") -> Path:
    """Write the report folder; returns the README's path."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    plots: dict[str, str] = {}
    for metric in ("pass", "maj"):
        if curve_plot(list(report.curves.values()), metric, out / "plots" / f"{metric}_at_k.png"):
            plots[metric] = f"plots/{metric}_at_k.png"
    (out / "report.json").write_text(json.dumps(report.summary(), indent=2, ensure_ascii=False) + "\n")
    report.per_problem.write_parquet(out / "per_problem.parquet")
    report.breakdown.write_csv(out / "breakdown.csv")
    info = report.per_problem.select([c for c in report.per_problem.columns
                                      if c in PROBLEM_COLUMNS or c.startswith(("n__", "c__"))])
    for b in report.boundaries:
        for a, other, ids in ((b.a, b.b, b.a_only), (b.b, b.a, b.b_only)):
            path = out / boundary_file(a, other)
            path.parent.mkdir(parents=True, exist_ok=True)
            info.filter(pl.col("id").is_in(ids)).write_ndjson(path)
    readme = out / "README.md"
    readme.write_text(render_markdown(report, plots, title))
    return readme


def build_outcomes(build_dirs: Sequence[str | Path], labels: Sequence[str] | None = None, *,
                   kind: str = "math", workers: int = 2) -> tuple[list[Outcomes], pl.DataFrame]:
    """Every model's outcomes in the builds, and their problems' columns (by ``id``)."""
    if labels and len(labels) != len(build_dirs):
        raise CardError(f"{len(labels)} labels for {len(build_dirs)} builds: give one label per build, or none")
    outcomes: list[Outcomes] = []
    problems: list[pl.DataFrame] = []
    with VerifyPool(workers) as pool:
        for i, d in enumerate(build_dirs):
            b = Build.load(d)
            if b.table is None:
                raise CardError(f"{d}: the build has no table with samples; build with TableOutput()")
            found = table_outcomes(b.table, pool, kind=kind)
            if labels:
                if len(found) != 1:
                    raise CardError(f"{d} holds {len(found)} models; a label can only rename a one-model build")
                found[0].model = labels[i]
            outcomes += found
            problems.append(b.table.select([c for c in PROBLEM_COLUMNS if c in b.table.columns]))
    meta = pl.concat(problems, how="diagonal_relaxed").unique("id", keep="first") if problems else None
    names = [o.model for o in outcomes]
    if len(set(names)) != len(names):
        raise CardError(f"two builds have the same model name ({names}); give labels: --label A --label B")
    return outcomes, meta if meta is not None else pl.DataFrame()


def compare_builds(build_dirs: Sequence[str | Path], out_dir: str | Path, labels: Sequence[str] | None = None, *,
                   kind: str = "math", draws: int = 8, seed: int = 0) -> BoundaryReport:
    """The Python face of ``curator compare``: read the builds, compare, write the report."""
    outcomes, problems = build_outcomes(build_dirs, labels, kind=kind)
    report = compare(outcomes, problems, draws=draws, seed=seed)
    write_report(report, out_dir)
    return report


@dataclass
class BoundaryReportOutput:
    """An output that writes the boundary report of the build's own models into ``report/``."""

    folder: str = "report"
    copy_to: str | None = None  # also write the report here (relative to the working directory)
    kind: str = "math"  # the answer kind for rows whose meta names none
    draws: int = 8  # random vote orders per problem for maj@k
    seed: int = 0

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        with VerifyPool() as pool:
            outcomes = table_outcomes(df, pool, kind=self.kind)
        problems = df.select([c for c in PROBLEM_COLUMNS if c in df.columns])
        report = compare(outcomes, problems, draws=self.draws, seed=self.seed)
        title = "Reasoning boundary: " + ", ".join(report.models)
        write_report(report, Path(out_dir) / self.folder, title=title)
        if self.copy_to:
            write_report(report, Path(self.copy_to), title=title)
        return []
