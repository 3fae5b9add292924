"""Row stages over a Parquet file in bounded memory: one batch at a time through every stage.

The runner (``curator.core.pipeline``) writes each batch's output as it finishes but keeps
the stage's whole input and output in memory, which long chains of thought outgrow: a
million 4k-token samples are about 16 GB of text. ``stream_stages`` reads the input one
batch of rows at a time, passes it through every stage, writes the kept rows and the
rejects of each stage as numbered parts the moment the batch is done, and keeps only the
counts, so memory is one batch (times the stages' workers), whatever the input's size.
Batches are cut from the input in order and never regrouped, so the parts read back in
order are what ``Pipeline.run`` returns for the same row stages (tests/test_streaming.py).
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from curator.core.funnel import StageStats, merge_counts
from curator.core.stage import RunContext, Stage, StageOutput


@dataclass
class StreamResult:
    """Where the parts went and the funnel of the run (counts only; the rows are on disk)."""

    out_dir: Path
    batches: int = 0
    stats: list[StageStats] = field(default_factory=list)

    def kept(self) -> pl.DataFrame:
        """The kept rows read back (for tests and small runs: this loads them all)."""
        return pl.concat([pl.read_parquet(p) for p in sorted(self.out_dir.glob("kept/part-*.parquet"))],
                         how="diagonal_relaxed")


def parquet_batches(path: str | Path, rows: int) -> Iterator[pl.DataFrame]:
    """A Parquet file as frames of at most ``rows`` rows, read one after another."""
    import pyarrow.parquet as pq

    for batch in pq.ParquetFile(path).iter_batches(batch_size=rows):
        yield pl.from_arrow(batch)  # type: ignore[misc]


def _samples(df: pl.DataFrame) -> int:
    return int(df["samples"].list.len().sum() or 0) if "samples" in df.columns and df.height else 0


def _reasons(df: pl.DataFrame | None) -> dict[str, int]:
    if df is None or df.height == 0:
        return {}
    return {str(r): int(n) for r, n in df.group_by("reason").len().iter_rows()}


def _write(df: pl.DataFrame | None, path: Path) -> None:
    if df is not None and df.height:
        path.parent.mkdir(parents=True, exist_ok=True)
        df.write_parquet(path)


def stream_stages(stages: Sequence[Stage], source: str | Path, out_dir: str | Path, *, batch_rows: int = 512,
                  seed: int = 0) -> StreamResult:
    """Run row ``stages`` over the Parquet file ``source`` in batches of ``batch_rows`` rows.

    Writes ``kept/part-NNNNN.parquet`` and, per stage, ``rejects/<stage>/part-NNNNN.parquet``
    and ``sample_rejects/<stage>/part-NNNNN.parquet`` under ``out_dir``. Each stage's
    ``setup`` runs once before the first batch (its worker pool serves every batch).
    """
    for stage in stages:
        if stage.scope != "row":
            raise ValueError(f"stream_stages: stage {stage.name!r} is a global stage (it needs the whole table); "
                             "stream only row stages and run global ones with Pipeline.run")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    ctx = RunContext(out / ".work", out, seed)
    result = StreamResult(out, stats=[StageStats(s.name, s.scope, "") for s in stages])
    started: list[Stage] = []
    try:
        for stage in stages:
            stage.setup(ctx)
            started.append(stage)
        for b, df in enumerate(parquet_batches(source, batch_rows)):
            for stage, st in zip(stages, result.stats, strict=True):
                t0 = time.perf_counter()
                rows_in, samples_in = df.height, _samples(df)
                res = stage.apply(df)
                res = res if isinstance(res, StageOutput) else StageOutput(res)
                _write(res.rejects, out / "rejects" / stage.name / f"part-{b:05d}.parquet")
                _write(res.sample_rejects, out / "sample_rejects" / stage.name / f"part-{b:05d}.parquet")
                df = res.kept
                st.rows_in += rows_in
                st.rows_out += df.height
                st.samples_in += samples_in
                st.samples_out += _samples(df)
                st.dropped = merge_counts(st.dropped, _reasons(res.rejects))
                st.samples_dropped = merge_counts(st.samples_dropped, _reasons(res.sample_rejects))
                with_rows = _samples(res.rejects) if res.rejects is not None else 0
                if with_rows:  # samples that leave with their row, counted as the runner counts them
                    st.samples_dropped = merge_counts(st.samples_dropped, {"row dropped": with_rows})
                st.seconds += time.perf_counter() - t0
            (out / "kept").mkdir(exist_ok=True)
            df.write_parquet(out / "kept" / f"part-{b:05d}.parquet")  # even empty: the parts keep the schema
            result.batches += 1
    finally:
        for stage in reversed(started):
            stage.teardown()
    for st in result.stats:
        st.check()
    return result
