"""Moving between one row per problem and one row per generated sample.

Sample stages work on a flat frame (one row per sample, the sample's fields as columns,
``_row`` and ``sample_idx`` to find their way back); these two functions are the only
place that knows how to go there and back.
"""

from __future__ import annotations

import polars as pl

from curator.core.table import SAMPLES_DTYPE

_KEYS = ("_row", "sample_idx")


def explode_samples(df: pl.DataFrame, context: tuple[str, ...] = ("id",)) -> pl.DataFrame:
    """One row per sample: context columns, ``_row``, ``sample_idx``, then the sample fields."""
    ctx = [c for c in context if c in df.columns and c != "samples"]
    samples = df["samples"] if "samples" in df.columns else pl.Series("samples", [[]] * df.height, SAMPLES_DTYPE)
    base = df.select(*ctx, samples.alias("samples")).with_row_index("_row")  # no context columns: still df.height rows
    base = base.with_columns(pl.int_ranges(0, pl.col("samples").list.len()).alias("sample_idx"))
    flat = base.explode(["samples", "sample_idx"]).filter(pl.col("sample_idx").is_not_null())
    flat = flat.with_columns(pl.col("sample_idx").cast(pl.Int64))
    return flat.unnest("samples")


def sample_field_names(flat: pl.DataFrame, context: tuple[str, ...]) -> list[str]:
    """The columns of an exploded frame that belong inside the sample struct."""
    skip = set(context) | set(_KEYS) | {"reason", "stage"}
    return [c for c in flat.columns if c not in skip]


def implode_samples(df: pl.DataFrame, flat: pl.DataFrame, context: tuple[str, ...] | None = None) -> pl.DataFrame:
    """Put (possibly fewer, possibly extended) samples back on their rows; order is kept."""
    if context is None:
        context = tuple(c for c in df.columns if c != "samples")
    names = sample_field_names(flat, context)
    grouped = (
        flat.sort(_KEYS)
        .group_by("_row", maintain_order=True)
        .agg(pl.struct(names).alias("samples"))
    )
    dtype = grouped.schema["samples"]
    out = (
        df.drop("samples", strict=False)
        .with_row_index("_row")
        .join(grouped, on="_row", how="left")
        .drop("_row")
    )
    empty = pl.lit([], dtype=dtype)
    out = out.with_columns(pl.col("samples").fill_null(empty))
    cols = [c for c in df.columns if c != "samples"]
    pos = df.columns.index("samples") if "samples" in df.columns else len(cols)
    cols.insert(pos, "samples")
    return out.select(cols)
