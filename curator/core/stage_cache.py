"""Per-stage output cache under the run's work directory (a local folder or an fsspec URL).

One folder per (stage name, fingerprint). Row stages write one part per batch as it
finishes, so an interrupted run resumes at the first unfinished batch; ``_SUCCESS`` marks a
stage whose every batch and whose counts are written.
"""

from __future__ import annotations

import json
from dataclasses import asdict

import polars as pl

from curator.core.funnel import StageStats
from curator.core.io import write_table
from curator.core.stage import StageOutput
from curator.core.storage import StoragePath, read_parquet, refresh, remove_tree, sorted_paths


class CacheEntry:
    def __init__(self, root: StoragePath) -> None:
        self.root = root

    @property
    def complete(self) -> bool:
        return (self.root / "_SUCCESS").exists()

    def reset(self) -> None:
        remove_tree(self.root)

    def _path(self, b: int, kind: str) -> StoragePath:
        return self.root / f"part-{b:05d}.{kind}.parquet"

    def write_part(self, b: int, out: StageOutput) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        if out.rejects is not None and out.rejects.height:
            write_table(out.rejects, self._path(b, "rejects"))
        if out.sample_rejects is not None and out.sample_rejects.height:
            write_table(out.sample_rejects, self._path(b, "sample_rejects"))
        (self.root / f"part-{b:05d}.info.json").write_text(json.dumps(out.info, default=str))
        write_table(out.kept, self._path(b, "kept"))  # last: its presence means the batch is done

    def part(self, b: int) -> StageOutput | None:
        kept = self._path(b, "kept")
        if not kept.exists():
            return None
        rej, srej = self._path(b, "rejects"), self._path(b, "sample_rejects")
        info_path = self.root / f"part-{b:05d}.info.json"
        return StageOutput(
            read_parquet(kept),
            read_parquet(rej) if rej.exists() else None,
            read_parquet(srej) if srej.exists() else None,
            json.loads(info_path.read_text()) if info_path.exists() else {},
        )

    def shard(self, name: str) -> CacheEntry:
        """The sub-entry one shard of a scale-out run writes its batches to (``curator.executors``)."""
        return CacheEntry(self.root / "shards" / name)

    def files(self, kind: str = "kept") -> list[StoragePath]:
        """Part files in row order: this entry's own batches, else its shards' batches in shard order."""
        refresh(self.root)
        if any(self.root.glob("part-*.kept.parquet")):
            return sorted_paths(self.root.glob(f"part-*.{kind}.parquet"))
        return sorted_paths(self.root.glob(f"shards/*/part-*.{kind}.parquet"))

    def _concat(self, kind: str) -> pl.DataFrame | None:
        files = self.files(kind)
        if not files:
            return None
        frames = [read_parquet(f) for f in files]
        return pl.concat(frames, how="diagonal_relaxed") if len(frames) > 1 else frames[0]

    def kept(self) -> pl.DataFrame:
        df = self._concat("kept")
        if df is None:
            raise FileNotFoundError(f"{self.root}: cache entry has no output; delete it and rerun")
        return df

    def rejects(self) -> pl.DataFrame | None:
        return self._concat("rejects")

    def sample_rejects(self) -> pl.DataFrame | None:
        return self._concat("sample_rejects")

    def finish(self, stats: StageStats) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        (self.root / "stats.json").write_text(json.dumps(asdict(stats), default=str, indent=1))
        (self.root / "_SUCCESS").write_text("")

    def stats(self) -> StageStats:
        return StageStats(**json.loads((self.root / "stats.json").read_text()))


class StageCache:
    def __init__(self, root: StoragePath) -> None:
        self.root = root

    def entry(self, name: str, fingerprint: str) -> CacheEntry:
        return CacheEntry(self.root / f"{name}-{fingerprint[:20]}")
