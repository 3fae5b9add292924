"""The work itself, as run by a worker: one shard of a row segment, a global stage, a commit.

A row segment is a run of consecutive row stages. Shard ``r`` of ``n`` takes the contiguous
rows ``[r*T//n, (r+1)*T//n)`` of the upstream table, so concatenating shards in rank order
gives the row order of the local run (order-sensitive global stages such as "keep the first
duplicate" then agree). Each stage writes its batches to ``<cache entry>/shards/<r>-of-<n>/``
and a ``counts.json``; committing sums the counts into the stage's funnel entry, with the same
arithmetic as the local runner.

A global stage reads only the columns it declares in ``needs`` (plus ``id``) from the
upstream parts, never the full reasoning texts unless it needs ``samples``; the columns it
did not see are joined back part by part, so memory is one part, not the whole table.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import polars as pl

from curator.core.accounting import (
    as_stage_output,
    gather_outputs,
    merge_stats,
    reason_counts,
    samples_count,
    stage_stats,
)
from curator.core.funnel import StageStats
from curator.core.io import write_table
from curator.core.runner import apply_batches
from curator.core.stage import RunContext, Stage, StageError
from curator.core.stage_cache import CacheEntry
from curator.core.storage import (
    StoragePath,
    parquet_rows,
    parquet_schema,
    read_parquet,
    read_slice,
    remove_tree,
)

ROW = "__curator_row"


@dataclass
class Slot:
    """A stage at its place in the run: position (for rejects/NN-name), fingerprint, cache entry."""

    index: int
    stage: Stage
    fp: str
    root: StoragePath
    cached: bool = False

    @property
    def entry(self) -> CacheEntry:
        return CacheEntry(self.root)


@dataclass
class Segment:
    """Consecutive row stages run shard by shard; ``upstream`` is the cache entry they read."""

    slots: list[Slot]
    upstream: StoragePath
    tasks: int
    key: str = ""

    def shard_name(self, rank: int) -> str:
        return f"{rank:05d}-of-{self.tasks:05d}"


# -- reading the upstream table in pieces -----------------------------------------------------
def part_rows(files: list[StoragePath]) -> list[int]:
    """Rows per Parquet part, from the footers (nothing else is read)."""
    return [parquet_rows(f) for f in files]


def shard_range(total: int, rank: int, tasks: int) -> tuple[int, int]:
    return total * rank // tasks, total * (rank + 1) // tasks


def read_rows(files: list[StoragePath], counts: list[int], start: int, stop: int) -> pl.DataFrame:
    """Rows ``[start, stop)`` of the concatenated parts, reading only the parts that overlap."""
    frames, offset = [], 0
    for f, n in zip(files, counts, strict=True):
        lo, hi = max(start, offset), min(stop, offset + n)
        if lo < hi:
            frames.append(read_slice(f, lo - offset, hi - lo))
        offset += n
    if not frames:
        return read_slice(files[0], 0, 0)
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


# -- one shard of a row segment ----------------------------------------------------------------
@contextmanager
def shard_lock(work_dir: Any, segment: Segment, rank: int) -> Iterator[None]:
    """Hold a kernel lock on the shard while it runs (local and shared-filesystem work dirs).

    A SIGKILLed driver can leave workers running (Ray ends a dead driver's tasks only when it
    notices). A rerun's task for the same shard waits here until that worker finishes or dies,
    then finds its batches and stored requests done: two workers never send one shard's
    requests. ``flock`` locks die with their holder, so a killed worker never blocks a rerun.
    """
    try:
        import fcntl
    except ImportError:  # not POSIX
        fcntl = None  # type: ignore[assignment]
    if fcntl is None or not isinstance(work_dir, Path):  # object stores have no locks
        yield
        return
    folder = work_dir / "locks"
    folder.mkdir(parents=True, exist_ok=True)
    key = segment.key or segment.slots[0].fp
    with open(folder / f"{key[:16]}-{segment.shard_name(rank)}.lock", "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def run_shard(segment: Segment, rank: int, ctx: RunContext) -> list[StageStats]:
    """Run every stage of the segment on shard ``rank``; batches already written are not redone."""
    with shard_lock(ctx.work_dir, segment, rank):
        return _run_shard(segment, rank, ctx)


def _run_shard(segment: Segment, rank: int, ctx: RunContext) -> list[StageStats]:
    files = CacheEntry(segment.upstream).files("kept")
    counts = part_rows(files)
    start, stop = shard_range(sum(counts), rank, segment.tasks)
    df = read_rows(files, counts, start, stop)
    out_stats = []
    for slot in segment.slots:
        entry = slot.entry.shard(segment.shard_name(rank))
        done = entry.root / "counts.json"
        if done.exists() and (entry.root / "part-00000.kept.parquet").exists():
            stats = StageStats(**json.loads(done.read_text()))
            df = entry.kept()
        elif df.height == 0 and rank > 0:  # an empty shard of a small table: nothing to run
            stats = StageStats(slot.stage.name, slot.stage.scope, slot.fp)
        else:
            t0 = time.perf_counter()
            rows_in, samples_in = df.height, samples_count(df)
            outs = apply_batches(slot.stage, df, entry, ctx)
            df, stats = gather_outputs(slot.stage, slot.fp, outs, rows_in=rows_in, samples_in=samples_in)
            stats.seconds = time.perf_counter() - t0
            stats.check()
            entry.root.mkdir(parents=True, exist_ok=True)
            done.write_text(json.dumps(asdict(stats), default=str))
        out_stats.append(stats)
    return out_stats


def shard_done(segment: Segment, rank: int) -> bool:
    """Every stage of the segment has written this shard's counts (so the shard need not run)."""
    return all((s.entry.shard(segment.shard_name(rank)).root / "counts.json").exists() for s in segment.slots)


def commit_segment(segment: Segment) -> list[StageStats]:
    """After every shard finished: write each stage's stats and ``_SUCCESS`` (idempotent)."""
    out = []
    for slot in segment.slots:
        entry = slot.entry
        if entry.complete:
            out.append(entry.stats())
            continue
        shards = []
        for rank in range(segment.tasks):
            done = entry.shard(segment.shard_name(rank)).root / "counts.json"
            if not done.exists():
                raise StageError(f"stage {slot.stage.name!r}: shard {rank} of {segment.tasks} has not finished "
                                 f"({done} is missing); rerun the same command to resume the missing shards")
            shards.append(StageStats(**json.loads(done.read_text())))
        stats = merge_stats(slot.stage, slot.fp, shards)
        stats.check()
        entry.finish(stats)
        out.append(stats)
    return out


def prepare_segment(segment: Segment) -> None:
    """Drop what another layout left in unfinished entries: local batch parts, shards of another split."""
    mine = {segment.shard_name(r) for r in range(segment.tasks)}
    for slot in segment.slots:
        root = slot.root
        if slot.entry.complete or not root.exists():
            continue
        for f in root.glob("part-*"):
            f.unlink()
        for d in (root / "shards").glob("*") if (root / "shards").exists() else []:
            if d.name not in mine:
                remove_tree(d)


# -- a global stage on the columns it needs ----------------------------------------------------
def _projection(stage: Stage, columns: list[str]) -> list[str] | None:
    needs = {n.split(".", 1)[0] for n in stage.columns_needed()}
    if not needs or stage.reads is None:
        return None  # the stage did not say all it reads: give it everything (the local runner does)
    keep = [c for c in columns if c in needs or c in stage.reads or c == "id"]
    return keep if len(keep) < len(columns) else None


def _union_columns(files: list[StoragePath]) -> list[str]:
    cols: list[str] = []
    for f in files:
        for c in parquet_schema(f):
            if c not in cols:
                cols.append(c)
    return cols


def _read_columns(files: list[StoragePath], columns: list[str]) -> pl.DataFrame:
    frames = []
    for f in files:
        have = set(parquet_schema(f))
        frames.append(read_parquet(f, columns=[c for c in columns if c in have]))
    return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]


def _join_rest(small: pl.DataFrame, files: list[StoragePath], counts: list[int], rest: list[str],
               order: list[str], offset: int = 0) -> pl.DataFrame:
    """Put back the columns a global stage did not see, for the rows it returned, in its order.

    ``offset`` is the global row number of the first row of ``files[0]``.
    """
    wanted = small.select(ROW)
    pieces = []
    for f, n in zip(files, counts, strict=True):
        ids = wanted.filter(pl.col(ROW).is_between(offset, offset + n - 1))
        if ids.height:
            part = _read_columns([f], rest).with_row_index(ROW, offset=offset)
            pieces.append(part.join(ids, on=ROW, how="semi"))
        offset += n
    extra = pl.concat(pieces, how="diagonal_relaxed") if pieces else None
    joined = small if extra is None else small.join(extra, on=ROW, how="left", maintain_order="left")
    return joined.select([c for c in order if c in joined.columns])


def run_global(slot: Slot, upstream: StageStats, upstream_root: StoragePath, ctx: RunContext) -> StageStats:
    """Run a global stage on the gathered columns it needs; write its parts and stats."""
    stage, entry = slot.stage, slot.entry
    entry.reset()
    files = CacheEntry(upstream_root).files("kept")
    counts = part_rows(files)
    columns = _union_columns(files)
    cols = _projection(stage, columns)
    t0 = time.perf_counter()
    out = None
    if cols is not None:
        small = _read_columns(files, cols).with_row_index(ROW)
        stage.setup(ctx)
        try:
            out = as_stage_output(stage.apply(small), stage.name)
        except pl.exceptions.ColumnNotFoundError:
            out = None  # it reads a column it did not declare: run it on the full table instead
        except Exception as err:
            raise StageError(f"stage {stage.name!r} failed on its input: {type(err).__name__}: {err}") from err
        finally:
            stage.teardown()
        del small
        if out is not None and not all(ROW in f.columns for f in (out.kept, out.rejects) if f is not None):
            out = None  # it rebuilt the frame: the rows cannot be matched back, run it on the full table
    if out is None:
        df = _read_columns(files, columns)
        outs = apply_batches(stage, df, entry, ctx)
        _, stats = gather_outputs(stage, slot.fp, outs, rows_in=df.height, samples_in=samples_count(df))
    else:
        stats = _write_projected(slot, out, files, counts, columns, upstream)
    stats.seconds = time.perf_counter() - t0
    stats.check()
    entry.finish(stats)
    return stats


def _write_projected(slot: Slot, out: Any, files: list[StoragePath], counts: list[int], columns: list[str],
                     upstream: StageStats) -> StageStats:
    entry, kept = slot.entry, out.kept
    rest = [c for c in columns if c not in kept.columns]

    def order(frame: pl.DataFrame) -> list[str]:
        new = [c for c in frame.columns if c not in columns and c != ROW]
        return [c for c in columns if c in frame.columns or c in rest] + new

    entry.root.mkdir(parents=True, exist_ok=True)
    samples_out, nparts = 0, 0
    rows = kept[ROW]
    if rows.len() == 0 or rows.is_sorted():  # order kept: stream part by part
        offset = 0
        for f, n in zip(files, counts, strict=True):
            piece = kept.filter(pl.col(ROW).is_between(offset, offset + n - 1))
            if piece.height == 0 and nparts:
                offset += n
                continue
            full = _join_rest(piece, [f], [n], rest, order(kept), offset) if rest else piece.select(order(kept))
            offset += n
            samples_out += samples_count(full)
            write_table(full, entry.root / f"part-{nparts:05d}.kept.parquet")
            nparts += 1
    else:  # reordered (sorting, selection): gather the kept rows' columns, keep the stage's order
        full = _join_rest(kept, files, counts, rest, order(kept)) if rest else kept.select(order(kept))
        samples_out = samples_count(full)
        write_table(full, entry.root / "part-00000.kept.parquet")
    rej_full = None
    if out.rejects is not None and out.rejects.height:
        rej = out.rejects
        rej_rest = [c for c in columns if c not in rej.columns]

        def rorder(frame: pl.DataFrame) -> list[str]:
            new = [c for c in frame.columns if c not in columns and c != ROW]
            return [c for c in columns if c in frame.columns or c in rej_rest] + new

        rej_full = _join_rest(rej, files, counts, rej_rest, rorder(rej)) if rej_rest else rej.select(rorder(rej))
        write_table(rej_full, entry.root / "part-00000.rejects.parquet")
    srej = out.sample_rejects if out.sample_rejects is not None and out.sample_rejects.height else None
    if srej is not None:
        write_table(srej.drop(ROW, strict=False), entry.root / "part-00000.sample_rejects.parquet")
    (entry.root / "part-00000.info.json").write_text(json.dumps(out.info, default=str))
    return stage_stats(slot.stage, slot.fp, rows_in=upstream.rows_out, rows_out=kept.height,
                       dropped=reason_counts(rej_full), samples_in=upstream.samples_out,
                       samples_out=samples_out, samples_dropped=reason_counts(srej),
                       samples_with_rows=samples_count(rej_full) if rej_full is not None else 0,
                       infos=[out.info])
