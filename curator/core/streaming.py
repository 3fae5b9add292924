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
from typing import Any

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
    """A Parquet file as frames of ``rows`` rows (the last may be shorter), read one after another.

    One reader per row group: a single ``iter_batches`` over the whole file kept what it had read,
    so a streamed run's memory grew with the file (0.1 -> 0.8 GiB reading 100k chains, 6.3 GiB peak
    for a million); within a row group batches are still read ``rows`` at a time, so a file written
    as one large row group is not loaded whole.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    rest: pa.Table | None = None
    for i in range(pf.num_row_groups):
        for batch in pf.iter_batches(batch_size=rows, row_groups=[i]):
            table = pa.Table.from_batches([batch])
            if rest is not None:
                table = pa.concat_tables([rest, table])
            while table.num_rows >= rows:
                yield pl.from_arrow(table.slice(0, rows))  # type: ignore[misc]
                table = table.slice(rows)
            rest = table if table.num_rows else None
    if rest is not None:
        yield pl.from_arrow(rest)  # type: ignore[misc]


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


def _check_row_stages(stages: Sequence[Stage]) -> None:
    for stage in stages:
        if stage.scope != "row":
            raise ValueError(f"stream_stages: stage {stage.name!r} is a global stage (it needs the whole table); "
                             "stream only row stages and run global ones with Pipeline.run")


#: per stage: rows in, rows out, samples in, samples out, row reasons, sample reasons, seconds
BatchCounts = tuple[int, int, int, int, dict[str, int], dict[str, int], float]


def run_batch(stages: Sequence[Stage], b: int, df: pl.DataFrame, out: Path) -> list[BatchCounts]:
    """Batch ``b`` through every stage: its kept rows and each stage's rejects written as part ``b``."""
    counts: list[BatchCounts] = []
    for stage in stages:
        t0 = time.perf_counter()
        rows_in, samples_in = df.height, _samples(df)
        res = stage.apply(df)
        res = res if isinstance(res, StageOutput) else StageOutput(res)
        _write(res.rejects, out / "rejects" / stage.name / f"part-{b:05d}.parquet")
        _write(res.sample_rejects, out / "sample_rejects" / stage.name / f"part-{b:05d}.parquet")
        df = res.kept
        sample_reasons = _reasons(res.sample_rejects)
        with_rows = _samples(res.rejects) if res.rejects is not None else 0
        if with_rows:  # samples that leave with their row, counted as the runner counts them
            sample_reasons = merge_counts(sample_reasons, {"row dropped": with_rows})
        counts.append((rows_in, df.height, samples_in, _samples(df), _reasons(res.rejects), sample_reasons,
                       time.perf_counter() - t0))
    (out / "kept").mkdir(exist_ok=True)
    df.write_parquet(out / "kept" / f"part-{b:05d}.parquet")  # even empty: the parts keep the schema
    return counts


def _add(stats: list[StageStats], counts: list[BatchCounts]) -> None:
    for st, (rows_in, rows_out, samples_in, samples_out, dropped, samples_dropped, seconds) in zip(
            stats, counts, strict=True):
        st.rows_in += rows_in
        st.rows_out += rows_out
        st.samples_in += samples_in
        st.samples_out += samples_out
        st.dropped = merge_counts(st.dropped, dropped)
        st.samples_dropped = merge_counts(st.samples_dropped, samples_dropped)
        st.seconds += seconds


#: a batch worker's stages, set up once by ``_start_worker`` (one process, one copy)
_WORKER: dict[str, Any] = {}


def _start_worker(stages: Sequence[Stage], out: Path, seed: int) -> None:
    from multiprocessing.util import Finalize

    for stage in stages:  # the batch workers are the parallelism: no pools inside them (Verify keeps
        if hasattr(stage, "workers"):  # one grading process, for its time limit)
            stage.workers = 1  # type: ignore[attr-defined]
        stage.setup(RunContext(out / ".work", out, seed))
    _WORKER.update(stages=stages, out=out)
    Finalize(None, _stop_worker, exitpriority=10)


def _stop_worker() -> None:
    for stage in reversed(_WORKER.get("stages", [])):
        stage.teardown()


def _worker_batch(b: int, df: pl.DataFrame) -> list[BatchCounts]:
    return run_batch(_WORKER["stages"], b, df, _WORKER["out"])


def stream_stages(stages: Sequence[Stage], source: str | Path, out_dir: str | Path, *, batch_rows: int = 512,
                  seed: int = 0, workers: int = 1) -> StreamResult:
    """Run row ``stages`` over the Parquet file ``source`` in batches of ``batch_rows`` rows.

    Writes ``kept/part-NNNNN.parquet`` and, per stage, ``rejects/<stage>/part-NNNNN.parquet``
    and ``sample_rejects/<stage>/part-NNNNN.parquet`` under ``out_dir``. Each stage's
    ``setup`` runs once before the first batch (its worker pool serves every batch).
    With ``workers > 1`` whole batches go to that many fresh processes (each sets the stages up
    once, without pools of their own, with its share of the cores as polars threads) and at most
    two per worker are in flight; the parts are the same as with one (tests/test_streaming.py).
    """
    _check_row_stages(stages)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = StreamResult(out, stats=[StageStats(s.name, s.scope, "") for s in stages])
    if workers > 1:
        _stream_parallel(stages, source, out, batch_rows, seed, workers, result)
    else:
        ctx = RunContext(out / ".work", out, seed)
        started: list[Stage] = []
        try:
            for stage in stages:
                stage.setup(ctx)
                started.append(stage)
            for b, df in enumerate(parquet_batches(source, batch_rows)):
                _add(result.stats, run_batch(stages, b, df, out))
                result.batches += 1
        finally:
            for stage in reversed(started):
                stage.teardown()
    for st in result.stats:
        st.check()
    return result


def _stream_parallel(stages: Sequence[Stage], source: str | Path, out: Path, batch_rows: int, seed: int,
                     workers: int, result: StreamResult) -> None:
    import os
    from collections import deque
    from concurrent.futures import Future, ProcessPoolExecutor
    from multiprocessing import get_context

    (out / "kept").mkdir(exist_ok=True)
    pending: deque[Future] = deque()
    # the workers share the cores: polars threads per worker, read when a fresh process builds its pool
    saved = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                 initargs=(list(stages), out, seed)) as pool:
            for b, df in enumerate(parquet_batches(source, batch_rows)):
                if len(pending) >= 2 * workers:  # bounded memory: wait for the oldest batch
                    _add(result.stats, pending.popleft().result())
                pending.append(pool.submit(_worker_batch, b, df))
                result.batches += 1
            while pending:
                _add(result.stats, pending.popleft().result())
    finally:
        if saved is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = saved


class _BatchActor:
    """A Ray actor that sets the stages up once and runs the batches it is sent."""

    def __init__(self, stages: Sequence[Stage], out: Path, seed: int) -> None:
        _start_worker(stages, out, seed)

    def run(self, b: int, df: pl.DataFrame) -> list[BatchCounts]:
        return _worker_batch(b, df)

    def close(self) -> None:
        _stop_worker()


def stream_stages_ray(stages: Sequence[Stage], source: str | Path, out_dir: str | Path, *, batch_rows: int = 512,
                      seed: int = 0, workers: int = 2) -> StreamResult:
    """``stream_stages`` with the batches on ``workers`` Ray actors (Ray already initialised), one
    CPU each (one polars thread): batch ``b`` goes to actor ``b % workers``, at most two per actor
    are in flight, and the parts are the ones ``stream_stages`` writes (benchmarks/scale.py checks it)."""
    from collections import deque

    try:
        import ray
    except ImportError as err:
        raise ImportError("stream_stages_ray needs Ray: pip install 'reasoning-curator[ray]'") from err
    _check_row_stages(stages)
    out = Path(out_dir)
    (out / "kept").mkdir(parents=True, exist_ok=True)
    result = StreamResult(out, stats=[StageStats(s.name, s.scope, "") for s in stages])
    # an actor holds one CPU (Ray's accounting), so its polars uses one thread: n actors, n cores
    actor_cls = ray.remote(num_cpus=1, runtime_env={"env_vars": {"POLARS_MAX_THREADS": "1"}})(_BatchActor)
    actors = [actor_cls.remote(list(stages), out, seed) for _ in range(workers)]
    pending: deque[Any] = deque()
    try:
        for b, df in enumerate(parquet_batches(source, batch_rows)):
            if len(pending) >= 2 * workers:
                _add(result.stats, ray.get(pending.popleft()))
            pending.append(actors[b % workers].run.remote(b, df))
            result.batches += 1
        while pending:
            _add(result.stats, ray.get(pending.popleft()))
        ray.get([a.close.remote() for a in actors])
    finally:
        for a in actors:
            ray.kill(a)
    for st in result.stats:
        st.check()
    return result


def parts_digest(out_dir: str | Path) -> str:
    """A digest of what a streamed run decided: kept (id, sample seeds) and every reject's
    (stage, id, sample, reason), read from the parts in order (the texts are not read)."""
    import hashlib

    import pyarrow.parquet as pq

    h = hashlib.sha256()
    out = Path(out_dir)
    for part in sorted(out.glob("kept/part-*.parquet")):
        t = pq.ParquetFile(part).read(columns=["id", "samples.list.element.seed"])
        h.update(repr(pl.from_arrow(t).rows()).encode())  # type: ignore[union-attr]
    for part in sorted(out.glob("*rejects/*/part-*.parquet")):
        names = pq.ParquetFile(part).schema_arrow.names
        cols = [c for c in ("id", "sample_idx", "reason") if c in names]
        h.update(str(part.relative_to(out)).encode())
        h.update(repr(pl.from_arrow(pq.read_table(part, columns=cols)).rows()).encode())  # type: ignore[union-attr]
    return h.hexdigest()
