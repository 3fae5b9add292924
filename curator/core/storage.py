"""Where a run keeps its work: a local folder, or an fsspec URL (``s3://bucket/run``, ``gs://...``).

Local paths stay ``pathlib.Path`` (the fast path, and what stages see). URLs become
``upath.UPath`` objects, which have the same methods, so the stage cache and the executors
have one code path for both. Endpoints and credentials come from the environment
(``AWS_ACCESS_KEY_ID``, ``FSSPEC_S3_ENDPOINT_URL``, ...: fsspec's own configuration), never
from the URL, so nothing secret is written to run.json, logs or cards.
"""

from __future__ import annotations

import io
import os
import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias
from urllib.parse import urlsplit

import polars as pl

if TYPE_CHECKING:
    from upath import UPath

    StoragePath: TypeAlias = Path | UPath
else:
    StoragePath: TypeAlias = Any


class StorageError(ValueError):
    """A work-directory location that cannot be used, with what to do instead."""


def is_url(location: str | os.PathLike[str]) -> bool:
    """``s3://...`` and other fsspec URLs; ``file://`` and plain paths are local."""
    text = str(location)
    return "://" in text and not text.startswith("file://")


def location(where: str | os.PathLike[str]) -> StoragePath:
    """A path object for a local folder or an fsspec URL.

    >>> location("out/.work")
    PosixPath('out/.work')
    >>> location("file:///tmp/run")
    PosixPath('/tmp/run')
    """
    if isinstance(where, Path):
        if re.match(r"^[a-z][a-z0-9+.-]+:/[^/]", str(where)):  # Path("s3://b/x") collapsed the //
            raise StorageError(f"{where}: a URL given as a Path loses its '//'; pass the work directory as a string")
        return where
    if not isinstance(where, str) and hasattr(where, "fs"):  # a UPath already
        return where
    text = str(where)
    if text.startswith("file://"):
        return Path(text.removeprefix("file://"))
    if not is_url(text):
        return Path(text)
    parts = urlsplit(text)
    if parts.username or parts.password:
        raise StorageError(f"{parts.scheme}://...@{parts.hostname}: put credentials in the environment "
                           "(e.g. AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), not in the work-directory URL; "
                           "it is recorded in run.json")
    try:
        from upath import UPath
    except ImportError:  # pragma: no cover - universal-pathlib is a dependency
        raise StorageError("fsspec URLs as work directory need universal-pathlib: pip install universal-pathlib") from None
    try:
        try:  # no directory-listing cache: workers add parts that a cached listing would hide
            return UPath(text, use_listings_cache=False)
        except TypeError:  # a filesystem without listings caches
            return UPath(text)
    except (ImportError, ValueError) as err:
        raise StorageError(f"{text}: no filesystem for {parts.scheme}:// ({err}). Install its fsspec package "
                           f"(s3fs for s3://, gcsfs for gs://, adlfs for az://)") from None


def check_root(path: StoragePath) -> None:
    """Refuse a URL whose bucket (or container) is missing: writing there would create one."""
    if is_local(path) or not path.anchor:
        return
    try:
        found = path.fs.exists(path.anchor)
    except OSError as err:
        raise StorageError(f"{path}: cannot reach it ({type(err).__name__}: {err}); check the endpoint and the "
                           "credentials in the environment") from None
    if not found:
        raise StorageError(f"{path}: {path.anchor.rstrip('/')} does not exist or is not readable with these "
                           "credentials; create it first (curator does not create buckets)")


def is_local(path: StoragePath) -> bool:
    return isinstance(path, Path) and not is_url(path)  # universal-pathlib 0.2's UPath is a Path


def absolute(path: StoragePath) -> StoragePath:
    """Absolute for local paths (workers may start elsewhere); URLs are absolute already."""
    return path.resolve() if is_local(path) else path


def remove_tree(path: StoragePath) -> None:
    if is_local(path):
        if path.exists():
            shutil.rmtree(path)
    elif path.exists():
        path.fs.rm(path.path, recursive=True)


def refresh(path: StoragePath) -> None:
    """Forget cached listings under ``path`` (other processes may have written there)."""
    if not is_local(path):
        path.fs.invalidate_cache(path.path)


def sorted_paths(paths: Any) -> list[StoragePath]:
    """Sorted by their text (``UPath`` objects do not order among themselves)."""
    return sorted(paths, key=str)


def write_whole(path: StoragePath, write: Callable[[Any], object]) -> None:
    """``write(target)`` so a reader never sees half a file: a renamed temp file locally, one
    whole upload remotely (a failed write uploads nothing)."""
    if is_local(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        write(tmp)
        tmp.replace(path)
        return
    buffer = io.BytesIO()
    write(buffer)
    path.write_bytes(buffer.getvalue())


def read_parquet(path: StoragePath, columns: list[str] | None = None) -> pl.DataFrame:
    if is_local(path):
        return pl.read_parquet(path, columns=columns)
    with path.open("rb") as fh:
        return pl.read_parquet(fh, columns=columns)


def parquet_schema(path: StoragePath) -> dict[str, pl.DataType]:
    if is_local(path):
        return dict(pl.read_parquet_schema(path))
    with path.open("rb") as fh:
        return dict(pl.read_parquet_schema(fh))


def parquet_rows(path: StoragePath) -> int:
    """Rows in a Parquet file, from its footer."""
    import pyarrow.parquet as pq

    if is_local(path):
        return int(pq.ParquetFile(path).metadata.num_rows)
    with path.open("rb") as fh:
        return int(pq.ParquetFile(fh).metadata.num_rows)


def read_slice(path: StoragePath, offset: int, length: int) -> pl.DataFrame:
    """Rows ``[offset, offset + length)`` of one Parquet file (locally without reading the rest)."""
    if is_local(path):
        return pl.scan_parquet(path).slice(offset, length).collect()
    return read_parquet(path).slice(offset, length)
