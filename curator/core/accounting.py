"""The accounting of a run, shared by the local runner and the scale-out executors.

Counting a stage's output into its funnel entry, adding up shards, exporting rejects and
finishing a build (outputs, funnel.json, run.json, finishers) are done here and nowhere else,
so a local build and a Ray or Slurm build of the same pipeline write the same files.
"""

from __future__ import annotations

import dataclasses
import json
import platform
import sys
import time
from collections.abc import Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import TYPE_CHECKING, Any

import polars as pl

from curator.core.fingerprint import canonical
from curator.core.funnel import StageStats, merge_counts, render_funnel, write_funnel
from curator.core.io import write_table
from curator.core.outputs import OutputFile
from curator.core.redact import redact_command, redact_value
from curator.core.stage import Stage, StageError, StageOutput

if TYPE_CHECKING:
    from curator.core.run_options import PipelineSpec, RunOptions
    from curator.core.stage_cache import CacheEntry


def samples_count(df: pl.DataFrame | None) -> int:
    """Generated samples in a table (0 when it has no ``samples`` column).

    >>> samples_count(pl.DataFrame({"samples": [[{"text": "a"}], [{"text": "b"}, {"text": "c"}]]}))
    3
    """
    if df is None or "samples" not in df.columns or df.height == 0:
        return 0
    return int(df["samples"].list.len().sum() or 0)


def reason_counts(df: pl.DataFrame | None) -> dict[str, int]:
    """Dropped rows (or samples) per ``reason``.

    >>> reason_counts(pl.DataFrame({"reason": ["dup", "dup", "figure"]})) == {"dup": 2, "figure": 1}
    True
    """
    if df is None or df.height == 0:
        return {}
    counts = df.group_by("reason").len()
    return {str(r): int(n) for r, n in counts.iter_rows()}


def sum_info(infos: list[dict[str, Any]]) -> dict[str, Any]:
    """Row stages report per batch (and per shard): numbers add up, the rest keeps the last value.

    >>> sum_info([{"calls": 2, "model": "a", "by": {"x": 1}}, {"calls": 3, "model": "b", "by": {"x": 1, "y": 2}}])
    {'calls': 5, 'model': 'b', 'by': {'x': 2, 'y': 2}}
    """
    out: dict[str, Any] = {}
    for info in infos:
        for k, v in info.items():
            if isinstance(v, (int, float)) and not isinstance(v, bool) and isinstance(out.get(k, 0), (int, float)):
                out[k] = out.get(k, 0) + v
            elif isinstance(v, dict) and isinstance(out.get(k, {}), dict):
                out[k] = sum_info([out.get(k, {}), v])
            else:
                out[k] = v
    return out


def as_stage_output(result: StageOutput | pl.DataFrame, stage_name: str) -> StageOutput:
    """What ``Stage.apply`` returned as a ``StageOutput`` (a bare DataFrame keeps every row)."""
    if isinstance(result, pl.DataFrame):
        return StageOutput(result)
    if not isinstance(result, StageOutput):
        raise StageError(f"stage {stage_name!r} returned {type(result).__name__}; return a DataFrame or StageOutput")
    return result


def stage_stats(stage: Stage, fp: str, *, rows_in: int, rows_out: int, dropped: dict[str, int],
                samples_in: int, samples_out: int, samples_dropped: dict[str, int], samples_with_rows: int,
                infos: list[dict[str, Any]]) -> StageStats:
    """A stage's funnel entry from its counts (the same arithmetic for one batch or many shards)."""
    stats = StageStats(stage.name, stage.scope, fp, rows_in=rows_in, rows_out=rows_out, dropped=dict(dropped),
                       samples_in=samples_in, samples_out=samples_out, samples_dropped=dict(samples_dropped),
                       info=sum_info(infos))
    if samples_with_rows:
        stats.samples_dropped = merge_counts(stats.samples_dropped, {"row dropped": samples_with_rows})
    if stage.produces_samples:
        stats.samples_added = samples_out + sum(stats.samples_dropped.values()) - samples_in
    return stats


def gather_outputs(stage: Stage, fp: str, outs: list[StageOutput], rows_in: int,
                   samples_in: int) -> tuple[pl.DataFrame, StageStats]:
    """Concatenate batch outputs and count them into the stage's funnel entry."""
    kept = [o.kept for o in outs]
    rejects = [o.rejects for o in outs if o.rejects is not None and o.rejects.height]
    srejects = [o.sample_rejects for o in outs if o.sample_rejects is not None and o.sample_rejects.height]
    result = pl.concat(kept, how="diagonal_relaxed") if len(kept) > 1 else kept[0]
    rej = pl.concat(rejects, how="diagonal_relaxed") if rejects else None
    srej = pl.concat(srejects, how="diagonal_relaxed") if srejects else None
    stats = stage_stats(stage, fp, rows_in=rows_in, rows_out=result.height, dropped=reason_counts(rej),
                        samples_in=samples_in, samples_out=samples_count(result),
                        samples_dropped=reason_counts(srej),
                        samples_with_rows=samples_count(rej) if rej is not None else 0,
                        infos=[o.info for o in outs])
    return result, stats


def merge_stats(stage: Stage, fp: str, parts: Sequence[StageStats]) -> StageStats:
    """A stage's funnel entry from its shards' entries: counts and reasons added, info summed as per batch."""
    s = StageStats(stage.name, stage.scope, fp)
    for part in parts:
        s.rows_in += part.rows_in
        s.rows_out += part.rows_out
        s.dropped = merge_counts(s.dropped, part.dropped)
        s.samples_in += part.samples_in
        s.samples_out += part.samples_out
        s.samples_added += part.samples_added
        s.samples_dropped = merge_counts(s.samples_dropped, part.samples_dropped)
        s.seconds += part.seconds
    s.info = sum_info([p.info for p in parts])
    return s


# -- the output directory ------------------------------------------------------------------------
def clear_rejects(out_dir: Path) -> None:
    """Remove the rejects of an earlier build, so the folder holds this build's only."""
    out_dir.mkdir(parents=True, exist_ok=True)
    rejects_dir = out_dir / "rejects"
    if rejects_dir.exists():
        for old in rejects_dir.glob("*.parquet"):
            old.unlink()


def export_rejects(out_dir: Path, index: int, name: str, entry: CacheEntry) -> None:
    """A stage's dropped rows and samples as ``rejects/NN-name[.samples].parquet``, tagged with the stage."""
    base = out_dir / "rejects"
    rej = entry.rejects()
    if rej is not None and rej.height:
        write_table(rej.with_columns(pl.lit(name).alias("stage")), base / f"{index:02d}-{name}.parquet")
    srej = entry.sample_rejects()
    if srej is not None and srej.height:
        write_table(srej.with_columns(pl.lit(name).alias("stage")), base / f"{index:02d}-{name}.samples.parquet")


def write_outputs(pipeline: PipelineSpec, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
    files: list[OutputFile] = []
    for output in pipeline.outputs:
        files.extend(output.write(df, out_dir))
    (out_dir / "outputs.json").write_text(json.dumps([f.__dict__ for f in files], indent=2) + "\n")
    return files


def write_run_record(pipeline: PipelineSpec, options: RunOptions, fingerprints: dict[str, str],
                     files: list[OutputFile], started: float) -> None:
    """run.json: what was built, with which parameters and versions, from which command."""
    from curator.core.params import param_values

    # allow-list: declared, non-secret parameters by name; everything else redacted (curator.core.redact)
    params = redact_value(canonical(pipeline.params)) if pipeline.params is not None else None
    names = [f.name for f in dataclasses.fields(pipeline.params)] if dataclasses.is_dataclass(pipeline.params) else []
    record = {
        "pipeline": pipeline.name,
        "description": pipeline.description,
        "command": redact_command(options.command or sys.argv, names),
        "params": params,
        "param_values": redact_value(param_values(pipeline.params)),  # the same, as a plain mapping for the card
        "seed": options.seed,  # the effective seed (the CLI's --seed, or the recipe's `seed` param)
        "stages": [{"name": s.name, "scope": s.scope, "role": s.role, "params": redact_value(canonical(s.params()))}
                   for s in pipeline.stages],
        "fingerprints": fingerprints,
        "outputs": [f.__dict__ for f in files],
        "started": datetime.fromtimestamp(started, timezone.utc).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 3),
        "python": platform.python_version(),
        "versions": versions(),
    }
    out = options.out_path(pipeline.name)
    (out / "run.json").write_text(json.dumps(record, indent=2, ensure_ascii=False, default=str) + "\n")


def finish_run(pipeline: PipelineSpec, options: RunOptions, stats: list[StageStats], df: pl.DataFrame,
               fingerprints: dict[str, str], started: float, console: Any = None) -> None:
    """Outputs, funnel.json, run.json and the finishers (the data card), then the funnel on the console."""
    out = options.out_path(pipeline.name)
    files = write_outputs(pipeline, df, out)
    write_funnel(stats, out / "funnel.json")
    write_run_record(pipeline, options, fingerprints, files, started)
    for finish in pipeline.finishers:
        finish(out)
    if not options.quiet and console is not None:
        console.print(render_funnel(stats))
        console.print(f"[green]wrote[/] {out} ({df.height:,} rows)")


def versions() -> dict[str, str]:
    """Installed versions of the packages whose behaviour a build depends on."""
    from importlib.metadata import PackageNotFoundError, version

    out = {}
    for pkg in ("reasoning-curator", "polars", "datasets", "math-verify", "llama-cpp-python", "openai", "vllm"):
        try:
            out[pkg] = version(pkg)
        except PackageNotFoundError:
            continue
    return out
