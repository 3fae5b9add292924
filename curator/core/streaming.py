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
from collections.abc import Callable, Iterator, Sequence
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


class ParquetRows:
    """Batch ``b`` (rows ``b * rows`` up to ``(b + 1) * rows``) of a Parquet file, read on its own.

    Batch workers read their batches from the file instead of being sent them: a polars frame of
    long chains costs more to pickle and unpickle (4.6 s CPU for 20,000 chains) than to read from
    Parquet (1.0 s), and that work sat in the one driver that every worker waited on. Row groups
    are located from the footer, so a batch decodes only the row groups it overlaps; within a row
    group a cursor reads ``rows`` at a time and moves forward, so a worker given increasing batches
    (round robin, or a process pool's queue) decodes each row group it touches at most once and
    holds about one batch, whatever the row groups' size. Asking for an earlier batch reopens its
    row group.
    """

    def __init__(self, path: str | Path, rows: int) -> None:
        import pyarrow.parquet as pq

        from curator.core.io import InputError

        if rows < 1:
            raise ValueError(f"batch rows must be at least 1, got {rows}")
        self.path, self.rows = Path(path), rows
        try:
            self._file = pq.ParquetFile(path)
        except (OSError, ValueError) as err:  # pyarrow's ArrowInvalid is a ValueError
            raise InputError(f"{path}: not a readable Parquet file ({err}). Streamed stages read Parquet: "
                             "a build's output or DataFrame.write_parquet") from None
        meta = self._file.metadata
        self.starts = [0]
        for i in range(meta.num_row_groups):
            self.starts.append(self.starts[-1] + meta.row_group(i).num_rows)
        self.num_rows = self.starts[-1]
        self._cursor: tuple[int, Iterator[Any], Any, int] | None = None  # group, batches, buffer, its first row

    def __len__(self) -> int:
        return -(-self.num_rows // self.rows)

    def batch(self, b: int) -> pl.DataFrame:
        """Rows ``[b * rows, (b + 1) * rows)`` as a frame (the last batch may be shorter)."""
        import pyarrow as pa

        if not 0 <= b < len(self):
            raise IndexError(f"{self.path.name} has {len(self)} batches of {self.rows} rows; no batch {b}")
        start, end = b * self.rows, min((b + 1) * self.rows, self.num_rows)
        pieces = []
        for g in range(len(self.starts) - 1):
            lo, hi = max(start, self.starts[g]), min(end, self.starts[g + 1])
            if lo < hi:
                pieces.append(self._group_slice(g, lo - self.starts[g], hi - self.starts[g]))
        table = pieces[0] if len(pieces) == 1 else pa.concat_tables(pieces)
        return pl.from_arrow(table)  # type: ignore[return-value]

    def _group_slice(self, g: int, lo: int, hi: int) -> Any:
        import pyarrow as pa

        if self._cursor is None or self._cursor[0] != g or self._cursor[3] > lo:
            batches = self._file.iter_batches(batch_size=self.rows, row_groups=[g])
            self._cursor = (g, batches, None, 0)
        _, batches, buffer, first = self._cursor
        while buffer is None or first + buffer.num_rows < hi:
            got = pa.Table.from_batches([next(batches)])
            buffer = got if buffer is None else pa.concat_tables([buffer, got])
            if first + buffer.num_rows <= lo:  # wholly before the batch: another worker's rows
                first, buffer = first + buffer.num_rows, None
        out = buffer.slice(lo - first, hi - lo)
        self._cursor = (g, batches, buffer.slice(hi - first), hi)
        return out


def parquet_batches(path: str | Path, rows: int) -> Iterator[pl.DataFrame]:
    """A Parquet file as frames of ``rows`` rows (the last may be shorter), read one after another.

    Read through ``ParquetRows``, one row group at a time: a single ``iter_batches`` over the whole
    file kept what it had read, so a streamed run's memory grew with the file (0.1 -> 0.8 GiB
    reading 100k chains, 6.3 GiB peak for a million).
    """
    reader = ParquetRows(path, rows)
    for b in range(len(reader)):
        yield reader.batch(b)


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


def _check_rows(source: str | Path, batch_rows: int) -> int:
    """The number of batches, refusing an input without rows (a run that keeps nothing from
    nothing looks like success)."""
    from curator.core.io import InputError

    batches = len(ParquetRows(source, batch_rows))
    if not batches:
        raise InputError(f"{source}: the Parquet file has no rows, so there is nothing to stream. "
                         "Check that the stage before wrote its output here")
    return batches


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


#: a batch worker's stages and reader, set up once by ``_start_worker`` (one process, one copy)
_WORKER: dict[str, Any] = {}


def _start_worker(stages: Sequence[Stage], source: str | Path, batch_rows: int, out: Path, seed: int) -> None:
    from multiprocessing.util import Finalize

    for stage in stages:  # the batch workers are the parallelism: no pools inside them (Verify keeps
        if hasattr(stage, "workers"):  # one grading process, for its time limit)
            stage.workers = 1  # type: ignore[attr-defined]
        stage.setup(RunContext(out / ".work", out, seed))
    _WORKER.update(stages=stages, rows=ParquetRows(source, batch_rows), out=out)
    Finalize(None, _stop_worker, exitpriority=10)


def _stop_worker() -> None:
    for stage in reversed(_WORKER.get("stages", [])):
        stage.teardown()


def _worker_batch(b: int) -> list[BatchCounts]:
    return run_batch(_WORKER["stages"], b, _WORKER["rows"].batch(b), _WORKER["out"])


def _run_batches(submit: Callable[[int], Callable[[], list[BatchCounts]]], batches: int, workers: int,
                 result: StreamResult) -> None:
    """Batches ``0 .. batches - 1`` through ``submit`` (which starts one and returns how to wait
    for its counts), at most two per worker in flight, counts added in batch order."""
    from collections import deque

    pending: deque[Callable[[], list[BatchCounts]]] = deque()
    for b in range(batches):
        if len(pending) >= 2 * workers:  # bounded memory: wait for the oldest batch
            _add(result.stats, pending.popleft()())
        pending.append(submit(b))
        result.batches += 1
    while pending:
        _add(result.stats, pending.popleft()())


def stream_stages(stages: Sequence[Stage], source: str | Path, out_dir: str | Path, *, batch_rows: int = 512,
                  seed: int = 0, workers: int = 1) -> StreamResult:
    """Run row ``stages`` over the Parquet file ``source`` in batches of ``batch_rows`` rows.

    Writes ``kept/part-NNNNN.parquet`` and, per stage, ``rejects/<stage>/part-NNNNN.parquet``
    and ``sample_rejects/<stage>/part-NNNNN.parquet`` under ``out_dir``. Each stage's
    ``setup`` runs once before the first batch (its worker pool serves every batch).
    With ``workers > 1`` whole batches go to that many fresh processes (each sets the stages up
    once, without pools of their own, with its share of the cores as polars threads); each reads
    its batches from ``source`` itself (``ParquetRows``), at most two per worker are in flight,
    and the parts are the same as with one (tests/test_streaming.py).
    """
    _check_row_stages(stages)
    batches = _check_rows(source, batch_rows)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    result = StreamResult(out, stats=[StageStats(s.name, s.scope, "") for s in stages])
    if workers > 1:
        _stream_parallel(stages, source, out, batch_rows, batches, seed, workers, result)
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


def _stream_parallel(stages: Sequence[Stage], source: str | Path, out: Path, batch_rows: int, batches: int,
                     seed: int, workers: int, result: StreamResult) -> None:
    import os
    from concurrent.futures import ProcessPoolExecutor
    from multiprocessing import get_context

    (out / "kept").mkdir(exist_ok=True)
    # the workers share the cores: polars threads per worker, read when a fresh process builds its pool
    saved = os.environ.get("POLARS_MAX_THREADS")
    os.environ["POLARS_MAX_THREADS"] = str(max(1, (os.cpu_count() or 1) // workers))
    try:
        with ProcessPoolExecutor(workers, mp_context=get_context("spawn"), initializer=_start_worker,
                                 initargs=(list(stages), source, batch_rows, out, seed)) as pool:
            _run_batches(lambda b: pool.submit(_worker_batch, b).result, batches, workers, result)
    finally:
        if saved is None:
            os.environ.pop("POLARS_MAX_THREADS", None)
        else:
            os.environ["POLARS_MAX_THREADS"] = saved


class _BatchActor:
    """A Ray actor that sets the stages up once and runs the batches it is sent (by number)."""

    def __init__(self, stages: Sequence[Stage], source: str | Path, batch_rows: int, out: Path, seed: int) -> None:
        _start_worker(stages, source, batch_rows, out, seed)

    def run(self, b: int) -> list[BatchCounts]:
        return _worker_batch(b)

    def close(self) -> None:
        _stop_worker()


def stream_stages_ray(stages: Sequence[Stage], source: str | Path, out_dir: str | Path, *, batch_rows: int = 512,
                      seed: int = 0, workers: int = 2) -> StreamResult:
    """``stream_stages`` with the batches on ``workers`` Ray actors (Ray already initialised), one
    CPU each (one polars thread): batch ``b`` goes to actor ``b % workers``, at most two per actor
    are in flight, and the parts are the ones ``stream_stages`` writes (tests/test_executors_ray.py).
    The actors read their batches from ``source`` and write the parts under ``out_dir``
    themselves (the driver sends batch numbers), so on several machines both paths must be on
    storage every node sees."""
    try:
        import ray
    except ImportError as err:
        raise ImportError("stream_stages_ray needs Ray: pip install 'reasoning-curator[ray]'") from err
    _check_row_stages(stages)
    batches = _check_rows(source, batch_rows)
    out = Path(out_dir)
    (out / "kept").mkdir(parents=True, exist_ok=True)
    result = StreamResult(out, stats=[StageStats(s.name, s.scope, "") for s in stages])
    # an actor holds one CPU (Ray's accounting), so its polars uses one thread: n actors, n cores
    actor_cls = ray.remote(num_cpus=1, runtime_env={"env_vars": {"POLARS_MAX_THREADS": "1"}})(_BatchActor)
    actors = [actor_cls.remote(list(stages), str(source), batch_rows, out, seed) for _ in range(workers)]

    def submit(b: int) -> Callable[[], list[BatchCounts]]:
        ref = actors[b % workers].run.remote(b)
        return lambda: ray.get(ref)

    try:
        _run_batches(submit, batches, workers, result)
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
