"""Benchmark decontamination: drop training problems that overlap an evaluation set.

Three rules, each reported separately:

- ``ngram``: any shared word n-gram (lowercase, whitespace collapsed; n = 8 as in s1 and
  open-r1, R1 used 10, Light-R1 32). CJK characters count as words.
- ``exact``: equal after removing digits and non-word characters (Light-R1): a benchmark
  item with changed numbers is still contamination - unlike dedup, where it is another problem.
- ``fuzzy``: rapidfuzz ``ratio >= 95`` (OpenThoughts); off by default (slowest).

``contaminated_by`` records ``benchmark:item_id``; the stage's info carries the report
(per benchmark: items, items matched, rows matched per rule) that the data card shows.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import RunContext, Stage, StageOutput

_TOKEN = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+")
_NON_WORD_OR_DIGIT = re.compile(r"[\W\d_]+")
_PROBLEM_COLUMNS = ("problem", "question", "prompt", "input", "query", "text", "Problem", "Question")
_ID_COLUMNS = ("id", "unique_id", "problem_id", "idx", "ID")


@dataclass
class Benchmark:
    """An evaluation set: a local file (jsonl, json, parquet, csv) or a Hub dataset id.

    Hub datasets are read from the local Hugging Face cache (``HF_HUB_OFFLINE=1`` works once
    it was downloaded); nothing is fetched at construction.
    """

    name: str
    path: str
    column: str | None = None  # None: the first of problem/question/prompt/...
    id_column: str | None = None  # None: id/unique_id/... or the row number
    split: str = "test"  # Hub datasets only
    config: str | None = None  # Hub datasets only

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
            raise ValueError(f"benchmark {self.name!r}: no problem column among {df.columns}; pass column=...")
        id_col = self.id_column or next((c for c in _ID_COLUMNS if c in df.columns), None)
        ids = df[id_col].cast(pl.String) if id_col else pl.Series([str(i) for i in range(df.height)])
        return pl.DataFrame({"item_id": ids, "text": df[column].cast(pl.String)}).filter(pl.col("text").is_not_null())


def _load_hub(b: Benchmark) -> pl.DataFrame:
    import datasets

    try:
        ds = datasets.load_dataset(b.path, b.config, split=b.split)
    except Exception as err:  # noqa: BLE001 - say which benchmark and how to fix it
        raise RuntimeError(f"benchmark {b.name!r}: could not load Hub dataset {b.path!r} split {b.split!r} "
                           f"({type(err).__name__}: {err}). Download it once with network, or pass a local "
                           "file path instead.") from err
    return pl.from_arrow(ds.data.table)  # type: ignore[return-value]


def as_benchmark(value: Benchmark | str) -> Benchmark:
    """``"name=path"`` or a path/Hub id (name = file stem or last id part) -> Benchmark."""
    if isinstance(value, Benchmark):
        return value
    name, _, path = value.partition("=") if "=" in value else ("", "", value)
    return Benchmark(name=name or Path(path).stem.split(".")[0] or path.rsplit("/", 1)[-1], path=path)


# --- keys ---------------------------------------------------------------------------------------------------
def ngram_keys(text: str, n: int) -> set[int]:
    """Hashes of the word n-grams of lowercased text (CJK characters are words)."""
    words = _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())
    return {hash(tuple(words[i:i + n])) for i in range(len(words) - n + 1)}


def exact_key(text: str) -> str:
    """Text without digits and non-word characters: equal for numeric variants.

    >>> exact_key("What is 12 + 7?") == exact_key("what is 3+4")
    True
    """
    return _NON_WORD_OR_DIGIT.sub("", unicodedata.normalize("NFKC", text).lower())


@dataclass
class BenchmarkIndex:
    """Lookup tables of every benchmark item, built once per run."""

    ngram: int
    grams: dict[int, str] = field(default_factory=dict)  # n-gram hash -> "bench:item"
    exact: dict[str, str] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    items: dict[str, int] = field(default_factory=dict)  # benchmark -> number of items

    @classmethod
    def build(cls, benchmarks: list[tuple[str, pl.DataFrame]], ngram: int = 8,
              min_exact_chars: int = 20) -> BenchmarkIndex:
        index = cls(ngram)
        for name, items in benchmarks:
            index.items[name] = items.height
            for item_id, text in items.select("item_id", "text").iter_rows():
                label = f"{name}:{item_id}"
                for g in ngram_keys(text, ngram):
                    index.grams.setdefault(g, label)
                key = exact_key(text)
                if len(key) >= min_exact_chars:  # "what is" alone must not match every "What is 2+3?"
                    index.exact.setdefault(key, label)
                index.texts.append(text.lower())
                index.labels.append(label)
        return index

    def match(self, text: str, fuzzy_threshold: float | None = None) -> tuple[str, str] | None:
        """(rule, "bench:item") of the first rule that matches, or None."""
        for g in ngram_keys(text, self.ngram):
            label = self.grams.get(g)
            if label is not None:
                return "ngram", label
        label = self.exact.get(exact_key(text))
        if label is not None:
            return "exact", label
        if fuzzy_threshold is not None and self.texts:
            from rapidfuzz import fuzz, process

            hit = process.extractOne(text.lower(), self.texts, scorer=fuzz.ratio, score_cutoff=fuzzy_threshold)
            if hit is not None:
                return "fuzzy", self.labels[hit[2]]
        return None


def contamination(df: pl.DataFrame, index: BenchmarkIndex, fuzzy_threshold: float | None = None,
                  ) -> tuple[pl.Series, pl.Series, dict[str, Any]]:
    """(contaminated_by, rule) per row and the per-benchmark report."""
    by: list[str | None] = []
    rules: list[str | None] = []
    report: dict[str, Any] = {name: {"items": n, "items_matched": 0, "rows_matched": 0,
                                     "by_rule": {"ngram": 0, "exact": 0, "fuzzy": 0}}
                              for name, n in index.items.items()}
    matched_items: dict[str, set[str]] = {name: set() for name in index.items}
    for text in df["problem"].to_list():
        hit = index.match(text or "", fuzzy_threshold)
        if hit is None:
            by.append(None)
            rules.append(None)
            continue
        rule, label = hit
        name = label.split(":", 1)[0]
        by.append(label)
        rules.append(rule)
        report[name]["rows_matched"] += 1
        report[name]["by_rule"][rule] += 1
        matched_items[name].add(label)
    for name, items in matched_items.items():
        report[name]["items_matched"] = len(items)
    return (pl.Series("contaminated_by", by, dtype=pl.String), pl.Series("rule", rules, dtype=pl.String), report)


@dataclass
class Decontaminate(Stage):
    """Global stage: drops (or only marks) rows that overlap any given benchmark."""

    benchmarks: tuple[Benchmark | str, ...] = ()  # files or Hub ids; "name=path" names them
    ngram: int = 8  # s1, open-r1 (R1: 10, Light-R1: 32)
    exact: bool = True  # Light-R1: digits and non-word characters removed
    min_exact_chars: int = 20  # this project: keys shorter than this match too much
    fuzzy_threshold: float | None = None  # OpenThoughts: 95 (off by default: slowest rule)
    drop: bool = True  # False: keep every row, only fill contaminated_by

    scope: ClassVar[str] = "global"
    needs: ClassVar[tuple[str, ...]] = ("problem",)
    adds: ClassVar[tuple[str, ...]] = ("contaminated_by",)

    def __post_init__(self) -> None:
        self.benchmarks = tuple(as_benchmark(b) for b in self.benchmarks)
        if not self.benchmarks:
            raise ValueError("Decontaminate needs at least one benchmark (a file path or Hub dataset id)")
        self._index: BenchmarkIndex | None = None

    def setup(self, ctx: RunContext) -> None:
        self._index = self.build_index()

    def build_index(self) -> BenchmarkIndex:
        loaded = [(b.name, b.load()) for b in self.benchmarks]  # type: ignore[union-attr]
        index = BenchmarkIndex.build(loaded, self.ngram, self.min_exact_chars)
        if not self.exact:
            index.exact.clear()
        return index

    def teardown(self) -> None:
        self._index = None

    def apply(self, df: pl.DataFrame) -> StageOutput:
        index = self._index or self.build_index()
        by, rule, report = contamination(df, index, self.fuzzy_threshold)
        df = df.drop("contaminated_by", strict=False).with_columns(by)
        info = {"decontamination": {"ngram": self.ngram, "exact": self.exact,
                                    "fuzzy_threshold": self.fuzzy_threshold, "benchmarks": report}}
        if not self.drop:
            return StageOutput(df, info=info)
        hit = by.is_not_null()
        reasons = ("contaminated (" + rule.filter(hit) + ")").alias("reason")
        return StageOutput(df.filter(~hit), df.filter(hit).with_columns(reasons), info=info)
