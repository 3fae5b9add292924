"""Evaluation sets to decontaminate against: local files, local dataset folders, Hub datasets.

A benchmark is named on the command line as one string, so the split, config and column of a
Hub dataset travel in it (``HuggingFaceH4/aime_2024`` has only ``train``; GSM8K needs config
``main``)::

    [NAME=]SOURCE[@CONFIG][:SPLIT[:COLUMN]]

    HuggingFaceH4/aime_2024:train:problem
    gsm8k=openai/gsm8k@main:test:question
    data/my_eval.jsonl                 (a file: no config or split)
    data/my_eval.jsonl::question       (a file and its problem column)

The string is parsed and checked when read, so a typo fails before any stage runs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

_PROBLEM_COLUMNS = ("problem", "question", "prompt", "input", "query", "text", "Problem", "Question")
_ID_COLUMNS = ("id", "unique_id", "problem_id", "idx", "ID")
_HUB_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)?")
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
SPEC_HELP = "[NAME=]SOURCE[@CONFIG][:SPLIT[:COLUMN]], e.g. gsm8k=openai/gsm8k@main:test:question"


@dataclass
class Benchmark:
    """An evaluation set: a local file (jsonl, json, parquet, csv), a local dataset folder or a
    Hub dataset id.

    Hub datasets are read from the local Hugging Face cache (``HF_HUB_OFFLINE=1`` works once
    it was downloaded); nothing is fetched at construction.
    """

    name: str
    path: str
    column: str | None = None  # None: the first of problem/question/prompt/...
    id_column: str | None = None  # None: id/unique_id/... or the row number
    split: str = "test"  # Hub datasets and folders only (aime_2024: train)
    config: str | None = None  # Hub datasets and folders only (gsm8k: main)

    def identity(self) -> dict[str, Any]:
        """Keyed by content for files, by id + split for Hub datasets (never by a local path)."""
        from curator.core.fingerprint import file_hash

        p = Path(self.path)
        where: Any = {"sha256": file_hash(p)} if p.is_file() else {"hub": self.path, "split": self.split,
                                                                       "config": self.config}
        return {"name": self.name, "data": where, "column": self.column, "id_column": self.id_column}

    def load(self) -> pl.DataFrame:
        """Columns ``item_id`` and ``text``."""
        p = Path(self.path)
        if p.is_file():
            from curator.core.io import read_records  # validated: file, line and what to do in each error

            df = read_records(p, what=f"benchmark {self.name!r}")
        else:
            df = _load_hub(self)
        column = self.column or next((c for c in _PROBLEM_COLUMNS if c in df.columns), None)
        if column is None or column not in df.columns:
            raise ValueError(f"benchmark {self.name!r}: no problem column {self.column or ''!r} among "
                             f"{df.columns}; name it as {SPEC_HELP.split(', e.g.')[0]}")
        id_col = self.id_column or next((c for c in _ID_COLUMNS if c in df.columns), None)
        ids = df[id_col].cast(pl.String) if id_col else pl.Series([str(i) for i in range(df.height)])
        return pl.DataFrame({"item_id": ids, "text": df[column].cast(pl.String)}).filter(pl.col("text").is_not_null())


def _load_hub(b: Benchmark) -> pl.DataFrame:
    import datasets

    try:
        ds = datasets.load_dataset(b.path, b.config, split=b.split)
    except Exception as err:  # noqa: BLE001 - say which benchmark and how to fix it
        raise RuntimeError(f"benchmark {b.name!r}: could not load Hub dataset {b.path!r} config {b.config!r} "
                           f"split {b.split!r} ({type(err).__name__}: {err}). Check the split and config "
                           f"({SPEC_HELP}); download it once with network, or pass a local file path "
                           "instead.") from err
    return pl.from_arrow(ds.data.table)  # type: ignore[return-value]


def parse_benchmark_spec(spec: str) -> Benchmark:
    """``[NAME=]SOURCE[@CONFIG][:SPLIT[:COLUMN]]`` -> Benchmark; errors say what was wrong.

    >>> b = parse_benchmark_spec("HuggingFaceH4/aime_2024:train:problem")
    >>> (b.name, b.path, b.config, b.split, b.column)
    ('aime_2024', 'HuggingFaceH4/aime_2024', None, 'train', 'problem')
    >>> b = parse_benchmark_spec("gsm8k=openai/gsm8k@main:test:question")
    >>> (b.name, b.path, b.config, b.split, b.column)
    ('gsm8k', 'openai/gsm8k', 'main', 'test', 'question')
    """
    raw = spec.strip()
    if not raw:
        raise ValueError(f"empty benchmark; give {SPEC_HELP}")
    name = ""
    if "=" in raw.split(":", 1)[0]:
        name, raw = (s.strip() for s in raw.split("=", 1))
        if not _NAME.fullmatch(name):
            raise ValueError(f"benchmark {spec!r}: name {name!r} must be letters, digits, '.', '_' or '-'")
    if Path(raw).exists():  # a whole path that exists wins over the ':' syntax
        source, split, column = raw, "", ""
    else:
        parts = raw.split(":")
        if len(parts) > 3:
            raise ValueError(f"benchmark {spec!r}: too many ':' parts; use {SPEC_HELP}")
        source, split, column = (parts + ["", ""])[:3]
    config = None
    p = Path(source)
    if p.is_file():
        if split:
            raise ValueError(f"benchmark {spec!r}: {source} is a file, which has no split; "
                             f"name its column as {source}::COLUMN")
    elif p.suffix.lower() in (".jsonl", ".json", ".parquet", ".csv"):
        raise ValueError(f"benchmark {spec!r}: file {source} not found; give an existing path "
                         "(relative to where you run) or a Hub dataset id")
    elif not p.is_dir():
        source, _, config_part = source.partition("@")
        config = config_part or None
        if not Path(source).is_dir() and not _HUB_ID.fullmatch(source):
            raise ValueError(f"benchmark {spec!r}: {source!r} is neither an existing file or folder nor a Hub "
                             f"dataset id (owner/name); use {SPEC_HELP}")
        if config is not None and not _NAME.fullmatch(config):
            raise ValueError(f"benchmark {spec!r}: config {config!r} must be letters, digits, '.', '_' or '-'")
    if split and not _NAME.fullmatch(split):
        raise ValueError(f"benchmark {spec!r}: split {split!r} must be letters, digits, '.', '_' or '-' "
                         "(e.g. test, train, validation)")
    default_name = Path(source).stem.split(".")[0] if Path(source).is_file() else source.rstrip("/").rsplit("/", 1)[-1]
    return Benchmark(name=name or default_name or source, path=source, column=column or None,
                     split=split or "test", config=config)


def as_benchmark(value: Benchmark | str) -> Benchmark:
    """A Benchmark, or a spec string (see ``parse_benchmark_spec``)."""
    return value if isinstance(value, Benchmark) else parse_benchmark_spec(value)
