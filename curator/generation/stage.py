"""The ``Generate`` stage: k samples per problem through any backend, cache first.

Each sample lands in the row's ``samples`` list with a ``status``: ``ok``, ``truncated``
(``finish_reason == "length"``; policy ``keep`` / ``drop`` / ``retry`` once with a larger
budget) or ``failed`` (after the backend's retries, with the ``error``). A failed request is
a recorded sample, never a row of nulls; the counts go to the funnel's ``info``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal

import polars as pl

from curator.core import options
from curator.core.samples import explode_samples
from curator.core.stage import SAMPLE_CONTEXT, RunContext, Stage, StageOutput, runtime
from curator.core.table import SAMPLE_FIELDS, SAMPLES_DTYPE
from curator.generation import parsing, prompt_spec, prompts
from curator.generation.client import Generator
from curator.generation.model_stage import resolve_backend
from curator.generation.parsing import to_sample
from curator.generation.prompts import Template, prompt_columns, row_messages
from curator.generation.request_cache import RequestCache
from curator.generation.types import Backend, Sampling


@dataclass
class Generate(Stage):
    """Sample ``k`` answers per problem with ``backend`` (an object, or a ``make_backend`` kind)."""

    backend: Backend | str = "embedded"
    k: int = 4  # small for the 2-core demo; R1 / Skywork-OR1 / DAPO use 8-16 (RECIPES.md)
    temperature: float = 0.7  # R1 cold start samples at 1.0; the 135M demo model needs less
    top_p: float = 1.0
    max_tokens: int = 160  # demo budget; long CoT needs 4k-32k (R1 math rows average ~6k tokens)
    template: Template | None = None  # None: "brief" for the embedded model, else "r1" (prompt_spec.SPECS)
    seed: int = 0  # sample i is drawn with seed + i
    truncation: Literal["keep", "drop", "retry"] = "keep"
    retry_max_tokens: int | None = None  # budget of the one retry; None = 2 * max_tokens
    progress: bool = True

    needs: ClassVar[tuple[str, ...]] = ("problem",)
    adds: ClassVar[tuple[str, ...]] = tuple(["samples"] + [f"samples.{f}" for f in SAMPLE_FIELDS])
    batch_size: ClassVar[int] = 256  # rows per batch: k * 256 requests in flight together
    produces_samples: ClassVar[bool] = True
    code_modules: ClassVar[tuple[Any, ...]] = (prompts, prompt_spec, options, parsing)
    not_params: ClassVar[tuple[str, ...]] = ("label", "progress")

    role: ClassVar[str] = "teacher"
    _gen: Any = runtime()

    def __post_init__(self) -> None:
        self.backend = resolve_backend(self.backend)
        if self.template is None:
            kind = self.backend.identity().get("kind")
            self.template = "brief" if kind == "embedded" else "r1"
        if self.k < 1:
            raise ValueError(f"Generate: k must be >= 1, got {self.k}")
        if self.truncation not in ("keep", "drop", "retry"):
            raise ValueError(f"Generate: truncation must be keep, drop or retry, got {self.truncation!r}")

    def params(self) -> dict[str, Any]:
        return {k: v for k, v in super().params().items() if k != "_gen"}

    @property
    def sampling(self) -> Sampling:
        return Sampling(self.temperature, self.top_p, self.max_tokens, self.seed)

    def setup(self, ctx: RunContext) -> None:
        self._gen = Generator(self.backend, RequestCache(ctx.request_cache_path),
                              ctx.console if self.progress else None, self.name)

    def teardown(self) -> None:
        if self._gen is not None:
            self._gen.cache.close()
            self._gen = None
        self.backend.close()

    def apply(self, df: pl.DataFrame) -> StageOutput:
        if self._gen is None:  # used outside a pipeline: an in-memory cache
            self._gen = Generator(self.backend, None, None, self.name)
        rows = df.select([c for c in prompt_columns() if c in df.columns]).to_dicts()
        convs = [row_messages(r, self.template) for r in rows]
        results, info = self._gen.generate(convs, self.k, self.sampling, truncation=self.truncation,
                                           retry_max_tokens=self.retry_max_tokens)
        new = [[to_sample(c) for c in row] for row in results]
        dropped: list[list[dict[str, Any]]] = [[] for _ in new]
        if self.truncation == "drop":
            dropped = [[s for s in row if s["status"] == "truncated"] for row in new]
            new = [[s for s in row if s["status"] != "truncated"] for row in new]
        out = df.with_columns(_append(df, new))
        srej = None
        if any(dropped):
            tmp = df.with_columns(_samples_series(dropped))
            srej = explode_samples(tmp, SAMPLE_CONTEXT).with_columns(pl.lit("truncated").alias("reason"))
        return StageOutput(out, sample_rejects=srej, info=info)


def _samples_series(new: list[list[dict[str, Any]]], dtype: pl.DataType = SAMPLES_DTYPE) -> pl.Series:
    """A ``samples`` column from per-row sample dicts, built as one flat frame (10x faster than nested)."""
    fields = {f.name: f.dtype for f in dtype.inner.fields}  # type: ignore[attr-defined]
    flat = pl.DataFrame([{**s, "_row": i} for i, row in enumerate(new) for s in row],
                        schema={**fields, "_row": pl.Int64})
    grouped = flat.group_by("_row", maintain_order=True).agg(pl.struct(list(fields)).alias("samples"))
    rows = pl.DataFrame({"_row": pl.arange(0, len(new), eager=True).cast(pl.Int64)})
    out = rows.join(grouped, on="_row", how="left").sort("_row")["samples"]
    return out.fill_null(pl.lit([], dtype=out.dtype)).cast(dtype)


def _append(df: pl.DataFrame, new: list[list[dict[str, Any]]]) -> pl.Series:
    """``samples`` with the new samples after any the rows already had (extra fields kept, null-filled)."""
    if "samples" not in df.columns or df["samples"].list.len().sum() == 0:
        return _samples_series(new)
    dtype = df.schema["samples"]
    names = [f.name for f in dtype.inner.fields]  # type: ignore[attr-defined]
    if not set(SAMPLE_FIELDS) <= set(names):
        dtype = pl.List(pl.Struct({**{f.name: f.dtype for f in dtype.inner.fields}, **SAMPLE_FIELDS}))  # type: ignore[attr-defined]
    old = df["samples"].to_list()
    return _samples_series([(o or []) + row for o, row in zip(old, new, strict=True)], dtype)
