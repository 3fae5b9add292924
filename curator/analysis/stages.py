"""Stages of the boundary recipe: tag each model's samples with its label."""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar

import polars as pl

from curator.analysis.outcomes import TAG_FIELD
from curator.core.stage import SampleMap


@dataclass
class TagSamples(SampleMap):
    """Name the model that drew the samples added since the last tag (``samples.source_model``).

    Several models' samples share one ``samples`` list in a boundary build; the tag is what
    ``curator compare`` splits them by. Samples already tagged keep their tag.
    """

    model: str = "model"  # the label that names this model in the report (e.g. base, rl)

    needs: ClassVar[tuple[str, ...]] = ("samples",)
    adds: ClassVar[tuple[str, ...]] = (f"samples.{TAG_FIELD}",)

    def sample_columns(self, samples: pl.DataFrame) -> dict[str, pl.Series]:
        mine = pl.Series(TAG_FIELD, [self.model] * samples.height, pl.String)
        if TAG_FIELD in samples.columns:
            mine = samples[TAG_FIELD].cast(pl.String).fill_null(mine)
        return {TAG_FIELD: mine}
