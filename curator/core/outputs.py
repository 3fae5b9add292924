"""Outputs: what a build leaves in its output directory for trainers and the Hub.

An output writes files and says which ``config`` and ``split`` each belongs to; the card's
``configs`` and the Hub push are built from that list, never from guesses.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

from curator.core.io import write_table


@dataclass
class OutputFile:
    config: str
    split: str
    path: str  # relative to the output directory
    rows: int
    format: str = "parquet"


class Output(Protocol):
    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]: ...


@dataclass
class TableOutput:
    """The final table as one file (all columns, samples included)."""

    config: str = "default"
    split: str = "train"
    format: str = "parquet"

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        rel = f"data/{self.config}/{self.split}.{self.format}"
        write_table(df, out_dir / rel)
        return [OutputFile(self.config, self.split, rel, df.height, self.format)]


@dataclass
class SplitOutput:
    """One file per value of a column (e.g. curriculum ``split``), as named splits of one config."""

    column: str = "split"
    config: str = "default"
    format: str = "parquet"

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        files = []
        for (value,), part in df.group_by(self.column, maintain_order=True):
            split = str(value)
            rel = f"data/{self.config}/{split}.{self.format}"
            write_table(part, out_dir / rel)
            files.append(OutputFile(self.config, split, rel, part.height, self.format))
        return files
