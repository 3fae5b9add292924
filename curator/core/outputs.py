"""Outputs: what a build leaves in its output directory for trainers and the Hub.

An output writes files and says which ``config`` and ``split`` each belongs to; the card's
``configs`` and the Hub push are built from that list, never from guesses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import polars as pl

from curator.core.io import InputError, write_table

#: What ``datasets`` accepts as a split name; configs alike. No ``/`` and no ``..``: the names
#: become paths (``data/{config}/{split}.parquet``), so they are checked when they are read.
_NAME_RE = re.compile(r"^\w+(\.\w+)*$")


def check_name(kind: str, name: str, where: str) -> str:
    """``name`` if it is a valid ``config``/``split`` name, else an InputError that says how to fix it.

    >>> check_name("split", "train", "TableOutput")
    'train'
    """
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > 128:
        raise InputError(f"{where}: {kind} name {name!r} is not valid; use letters, digits and _ "
                         "(dots between words), e.g. 'train' or 'stage_1'. It becomes a file path and a Hub split")
    if kind == "config" and name == "data":
        raise InputError(f"{where}: config name 'data' is reserved by `datasets`; choose another")
    return name


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

    def __post_init__(self) -> None:
        check_name("config", self.config, "TableOutput")
        check_name("split", self.split, "TableOutput")

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

    def __post_init__(self) -> None:
        check_name("config", self.config, "SplitOutput")

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        files = []
        for value in df[self.column].unique(maintain_order=True).to_list():  # all names checked before any write
            check_name("split", str(value), f"SplitOutput: column {self.column!r}")
        for (value,), part in df.group_by(self.column, maintain_order=True):
            split = str(value)
            rel = f"data/{self.config}/{split}.{self.format}"
            write_table(part, out_dir / rel)
            files.append(OutputFile(self.config, split, rel, part.height, self.format))
        return files
