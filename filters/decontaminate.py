"""Benchmark decontamination: drop training problems that overlap an evaluation set.

Three rules, each reported separately:

- ``ngram``: shared n-grams, script-aware: Latin text in word n-grams (n = 8 as in s1 and
  open-r1; R1 used 10, Light-R1 32), Chinese/Japanese/Korean text in character n-grams of
  ``cjk_ngram`` (a length Gaokao's formulaic stems such as ``在△ABC中，角A，B，C所对的边分别为a，b，c``
  do not reach alone; see benchmarks/decontaminate.py). Numbers are kept in the n-grams.
  Recall mode (``precision=False``): one shared n-gram is a hit. Precision mode: the shared
  n-grams must cover at least ``min_overlap`` of the benchmark item's (or the row's) n-grams,
  so a distinct problem that shares only a formulaic phrase is kept.
- ``exact``: equal after removing digits, non-word characters and corpus boilerplate
  (Light-R1): a benchmark item with changed numbers is still contamination - unlike dedup,
  where it is another problem.
- ``fuzzy``: rapidfuzz ``ratio >= 95`` (OpenThoughts); off by default (slowest).

Every hit is recorded: ``contaminated_by`` (``benchmark:item_id``), ``contamination_rule``,
``contamination_overlap`` (share of n-grams; 1.0 for exact) and ``contamination_item`` (the
benchmark text), and the stage's info carries the report (per benchmark: items, items
matched, rows matched per rule, and the first hits) that the data card shows.
"""

from __future__ import annotations

import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import RunContext, Stage, StageOutput, runtime
from curator.core.table import nfkc_column
from filters.benchmark_spec import Benchmark, as_benchmark, parse_benchmark_spec
from filters.boilerplate import load_boilerplate

__all__ = ["Benchmark", "BenchmarkIndex", "Decontaminate", "as_benchmark", "contamination", "core_texts",
           "exact_key", "ngram_keys", "parse_benchmark_spec"]

_CJK = "\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af"
_TOKEN = re.compile(rf"[{_CJK}]|[^\W_]+")
_CJK_CHAR = re.compile(rf"[{_CJK}]")
HIT_COLUMNS = ("contamination_rule", "contamination_overlap", "contamination_item")
_REPORTED_HITS = 50  # hits listed in the funnel info for the card (all of them are in the rows)


# --- keys ---------------------------------------------------------------------------------------------------
def is_cjk(words: list[str]) -> bool:
    """Mostly CJK characters: compared in character n-grams."""
    return sum(1 for w in words if _CJK_CHAR.fullmatch(w)) * 2 >= len(words) > 0


def words_of(text: str) -> list[str]:
    """Words, numbers and single CJK characters of NFKC-lowercased text."""
    return _TOKEN.findall(unicodedata.normalize("NFKC", text).lower())


def gram_windows(words: list[str], n: int, cjk_n: int | None = None) -> list[tuple[str, ...]]:
    """The n-grams in order (``cjk_n``-grams for CJK text); a text shorter than n is one gram."""
    if cjk_n is not None and is_cjk(words):
        n = cjk_n
    if 0 < len(words) < n:
        return [tuple(words)]
    return [tuple(words[i:i + n]) for i in range(len(words) - n + 1)]


def gram_list(words: list[str], n: int, cjk_n: int | None = None) -> list[int]:
    """Hashes of ``gram_windows``."""
    return [hash(w) for w in gram_windows(words, n, cjk_n)]


def ngram_keys(text: str, n: int, cjk_n: int | None = None) -> set[int]:
    """Hashes of the n-grams of lowercased text: words for Latin text, characters (plus the Latin
    words and numbers between them) in ``cjk_n``-grams for CJK text."""
    return set(gram_list(words_of(text), n, cjk_n))


def exact_key(text: str) -> str:
    """Text with every number masked, spaces and sentence punctuation removed: equal for numeric
    variants (Light-R1's digit-free key, with operators kept so "2 + 3" is not "2 * 3").

    >>> exact_key("What is 12 + 7?") == exact_key("what is 3+4")
    True
    """
    folded = unicodedata.normalize("NFKC", text).lower()
    return _SPACE_OR_PUNCT.sub("", _NUMBERS.sub("0", folded))


_NUMBERS = re.compile(r"\d+(?:[.,]\d+)*")
_SPACE_OR_PUNCT = re.compile(r"[\s?;:\"'`.,!。、]+")


def core_texts(texts: list[str]) -> list[str]:
    """The texts as dedup compares them: case, spacing, LaTeX spacing and corpus boilerplate
    ("Problem:", "Give your answer in simplest form.") removed."""
    from filters.dedup import normalize_expr

    df = pl.DataFrame({"t": texts}, schema={"t": pl.String})
    return df.select(normalize_expr(pl.col("t"), load_boilerplate()))["t"].to_list()


def _core_column(texts: pl.Series) -> pl.Series:
    """``core_texts`` over a column, without a Python list."""
    from filters.dedup import normalize_expr

    return pl.DataFrame({"t": texts}).select(normalize_expr(pl.col("t"), load_boilerplate()))["t"]


# the Rust twins of _NUMBERS and _SPACE_OR_PUNCT: Python's \s also takes \x1c-\x1f; Rust's \d also takes
# digits newer than Python's Unicode tables, all beyond U+FFFF (rows with such characters are always checked)
_NUMBERS_RS = r"\d+(?:[.,]\d+)*"
_SPACE_OR_PUNCT_RS = "[\\s\x1c-\x1f?;:\"'`.,!。、]+"
_ASTRAL_RS = "[\U00010000-\U0010ffff]"
_ANCHOR_SAMPLE = 5000  # rows whose word counts choose the rarest word of each n-gram


def _anchors(windows: set[tuple[str, ...]], sample: list[str]) -> list[str]:
    """One word per benchmark n-gram, the rarest in ``sample`` (then the longest): a row that has the
    n-gram has every one of its words as a substring of its folded text, this one included."""
    seen: Counter[str] = Counter(w for text in sample for w in set(_TOKEN.findall(text)))
    return sorted({min(window, key=lambda w: (seen[w], -len(w), w)) for window in windows if window})


def candidate_rows(cores: pl.Series, index: BenchmarkIndex, fuzzy: bool = False) -> pl.Series:
    """Rows that can match any rule, found in polars; ``BenchmarkIndex.match`` decides on these alone.

    A row that shares an n-gram with an item contains that n-gram's anchor word (``_anchors``);
    a row whose exact key is an item's has it computed the same way here (the Rust regexes
    above, checked code point by code point in tests/test_decontaminate.py). Fuzzy matching
    can hit any row: then every row is a candidate.
    """
    if fuzzy:
        return pl.Series("row", range(cores.len()), dtype=pl.UInt32)
    folded = nfkc_column(cores, lower=True)  # as words_of and exact_key fold (Python's Unicode tables)
    anchors = _anchors(index.windows, folded.head(_ANCHOR_SAMPLE).to_list())
    hit = folded.str.contains_any(anchors) if anchors else pl.Series([False] * cores.len())
    if index.exact:
        keys = folded.str.replace_all(_NUMBERS_RS, "0").str.replace_all(_SPACE_OR_PUNCT_RS, "")
        hit = hit | keys.is_in(list(index.exact)) | folded.str.contains(_ASTRAL_RS)
    return hit.fill_null(False).arg_true()


@dataclass
class Hit:
    """One row's match: which rule, which item, how much of it."""

    rule: str
    label: str  # "benchmark:item_id"
    overlap: float  # share of the item's words inside n-grams the row shares; exact: 1.0


def coverage(item_grams: list[int], n_words: int, n: int, row_grams: set[int],
             formulaic: set[int] | frozenset[int] = frozenset()) -> float:
    """Share of an item's informative words that lie inside an n-gram the row also has.

    A one-word edit leaves the rest of the item covered; a distinct problem that shares only a
    stem covers the stem and no more. Words that only ``formulaic`` n-grams cover (n-grams
    that several benchmark items share, such as Gaokao's ``在△ABC中，角A，B，C所对的边分别为a，b，c``)
    count for neither side, unless nothing else is left of the item.
    """
    if len(item_grams) == 1 and n_words < n:
        return 1.0 if item_grams[0] in row_grams else 0.0
    informative = [False] * n_words
    covered = [False] * n_words
    for p, g in enumerate(item_grams):
        if g not in formulaic:
            informative[p:p + n] = [True] * min(n, n_words - p)
            if g in row_grams:
                covered[p:p + n] = [True] * min(n, n_words - p)
    total = sum(informative)
    if total == 0:  # the whole item is formulaic: plain coverage
        return coverage(item_grams, n_words, n, row_grams)
    return sum(covered) / total


@dataclass
class BenchmarkIndex:
    """Lookup tables of every benchmark item, built once per run."""

    ngram: int
    cjk_ngram: int | None = None  # None: CJK characters are words in ``ngram``-grams (the old rule)
    grams: dict[int, list[int]] = field(default_factory=dict)  # n-gram hash -> item numbers
    formulaic: set[int] = field(default_factory=set)  # n-grams of at least formulaic_items items
    item_grams: list[list[int]] = field(default_factory=list)  # item number -> its n-grams in order
    item_words: list[tuple[int, int]] = field(default_factory=list)  # item number -> (words, n used)
    exact: dict[str, str] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)
    items: dict[str, int] = field(default_factory=dict)  # benchmark -> number of items
    windows: set[tuple[str, ...]] = field(default_factory=set)  # every n-gram's words (candidate search)

    @classmethod
    def build(cls, benchmarks: list[tuple[str, pl.DataFrame]], ngram: int = 8, min_exact_chars: int = 12,
              cjk_ngram: int | None = None, formulaic_items: int = 2) -> BenchmarkIndex:
        index = cls(ngram, cjk_ngram)
        for name, items in benchmarks:
            index.items[name] = items.height
            rows = items.select("item_id", "text").rows()
            for (item_id, text), core in zip(rows, core_texts([t for _, t in rows]), strict=True):
                number = len(index.labels)
                label = f"{name}:{item_id}"
                words = words_of(core)
                windows = gram_windows(words, ngram, cjk_ngram)
                index.windows.update(windows)
                grams = [hash(w) for w in windows]
                for g in set(grams):
                    index.grams.setdefault(g, []).append(number)
                index.item_grams.append(grams)
                index.item_words.append((len(words), cjk_ngram if cjk_ngram and is_cjk(words) else ngram))
                key = exact_key(core)
                if len(key) >= min_exact_chars:  # "what is 0+0" must not match every "What is 2+3?"
                    index.exact.setdefault(key, label)
                index.texts.append(text)
                index.labels.append(label)
        index.formulaic = {g for g, owners in index.grams.items() if len(owners) >= formulaic_items}
        return index

    def text_of(self, label: str) -> str:
        return self.texts[self.labels.index(label)]

    def match(self, text: str, fuzzy_threshold: float | None = None, min_overlap: float = 0.0,
              core: str | None = None, candidates: int = 5) -> Hit | None:
        """The first rule that matches (ngram, exact, fuzzy), or None.

        ``min_overlap`` 0: any shared n-gram (recall mode); else the best of the ``candidates``
        items sharing most n-grams must have that share of its words covered (``coverage``).
        """
        core = core if core is not None else core_texts([text])[0]
        row_grams = set(gram_list(words_of(core), self.ngram, self.cjk_ngram))
        shared: Counter[int] = Counter()
        for g in row_grams:
            owners = self.grams.get(g)
            if owners:  # most of a row's n-grams are in no item: skip the empty update
                shared.update(owners)
        if shared:
            scored = [(coverage(self.item_grams[i], *self.item_words[i], row_grams, self.formulaic), -i)
                      for i, _ in shared.most_common(candidates)]
            overlap, best = max(scored)
            if overlap >= min_overlap and overlap > 0:
                return Hit("ngram", self.labels[-best], round(overlap, 4))
        label = self.exact.get(exact_key(core))
        if label is not None:
            return Hit("exact", label, 1.0)
        if fuzzy_threshold is not None and self.texts:
            from rapidfuzz import fuzz, process

            found = process.extractOne(text.lower(), [t.lower() for t in self.texts], scorer=fuzz.ratio,
                                       score_cutoff=fuzzy_threshold)
            if found is not None:
                return Hit("fuzzy", self.labels[found[2]], round(found[1] / 100, 4))
        return None


def contamination(df: pl.DataFrame, index: BenchmarkIndex, fuzzy_threshold: float | None = None,
                  min_overlap: float = 0.0) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``contaminated_by`` and the hit columns per row, and the per-benchmark report."""
    report: dict[str, Any] = {name: {"items": n, "items_matched": 0, "rows_matched": 0,
                                     "by_rule": {"ngram": 0, "exact": 0, "fuzzy": 0}}
                              for name, n in index.items.items()}
    matched_items: dict[str, set[str]] = {name: set() for name in index.items}
    problems = df["problem"].cast(pl.String).fill_null("")
    cores = _core_column(problems)
    rows = candidate_rows(cores, index, fuzzy_threshold is not None)
    texts = problems.gather(rows).to_list()
    cols: dict[str, list[Any]] = {"contaminated_by": [None] * df.height, **{c: [None] * df.height for c in HIT_COLUMNS}}
    hits: list[dict[str, Any]] = []
    for row, text, core in zip(rows, texts, cores.gather(rows).to_list(), strict=True):
        hit = index.match(text, fuzzy_threshold, min_overlap, core)
        if hit is None:
            continue
        item = index.text_of(hit.label)
        cols["contaminated_by"][row] = hit.label
        cols["contamination_rule"][row] = hit.rule
        cols["contamination_overlap"][row] = hit.overlap
        cols["contamination_item"][row] = item
        name = hit.label.split(":", 1)[0]
        report[name]["rows_matched"] += 1
        report[name]["by_rule"][hit.rule] += 1
        matched_items[name].add(hit.label)
        if len(hits) < _REPORTED_HITS:
            hits.append({"problem": text[:300], "contaminated_by": hit.label, "rule": hit.rule,
                         "overlap": hit.overlap, "item": item[:300]})
    for name, items in matched_items.items():
        report[name]["items_matched"] = len(items)
    out = pl.DataFrame(cols, schema={"contaminated_by": pl.String, "contamination_rule": pl.String,
                                     "contamination_overlap": pl.Float64, "contamination_item": pl.String})
    return out, {"benchmarks": report, "hits": hits}


@dataclass
class Decontaminate(Stage):
    """Global stage: drops (or only marks) rows that overlap any given benchmark."""

    benchmarks: tuple[Benchmark | str, ...] = ()  # specs: [NAME=]SOURCE[@CONFIG][:SPLIT[:COLUMN]]
    ngram: int = 8  # Latin word n-grams: s1, open-r1 (R1: 10, Light-R1: 32)
    cjk_ngram: int = 18  # CJK: longer than 95% of the runs distinct Gaokao problems share (benchmarks/decontaminate.py)
    precision: bool = False  # True: an n-gram hit needs min_overlap (cold-start and s1 recipes use it)
    min_overlap: float = 0.7  # precision mode: share of the item covered (benchmarks/decontaminate.py)
    exact: bool = True  # Light-R1: digits and non-word characters removed
    min_exact_chars: int = 12  # masked-number keys shorter than this match too much (benchmarks/decontaminate.py)
    fuzzy_threshold: float | None = None  # OpenThoughts: 95 (off by default: slowest rule)
    drop: bool = True  # False: keep every row, only fill contaminated_by and the hit columns

    scope: ClassVar[str] = "global"
    needs: ClassVar[tuple[str, ...]] = ("problem",)
    reads: ClassVar[tuple[str, ...]] = ()
    adds: ClassVar[tuple[str, ...]] = ("contaminated_by",)
    role: ClassVar[str] = "decontamination"
    _index: Any = runtime()

    def __post_init__(self) -> None:
        self.benchmarks = tuple(as_benchmark(b) for b in self.benchmarks)
        if not self.benchmarks:
            raise ValueError("Decontaminate needs at least one benchmark (a file path or Hub dataset id)")
        if not 0.0 <= self.min_overlap <= 1.0:
            raise ValueError(f"Decontaminate min_overlap={self.min_overlap}: give a share between 0 and 1")
        self._index: BenchmarkIndex | None = None

    def setup(self, ctx: RunContext) -> None:
        self._index = self.build_index()

    def build_index(self) -> BenchmarkIndex:
        loaded = [(b.name, b.load()) for b in self.benchmarks]  # type: ignore[union-attr]
        index = BenchmarkIndex.build(loaded, self.ngram, self.min_exact_chars, self.cjk_ngram)
        if not self.exact:
            index.exact.clear()
        return index

    def teardown(self) -> None:
        self._index = None

    def apply(self, df: pl.DataFrame) -> StageOutput:
        index = self._index or self.build_index()
        marks, report = contamination(df, index, self.fuzzy_threshold, self.min_overlap if self.precision else 0.0)
        df = df.drop("contaminated_by", *HIT_COLUMNS, strict=False)
        info = {"decontamination": {"ngram": self.ngram, "cjk_ngram": self.cjk_ngram, "precision": self.precision,
                                    "min_overlap": self.min_overlap if self.precision else None,
                                    "exact": self.exact, "fuzzy_threshold": self.fuzzy_threshold, **report}}
        if not self.drop:
            return StageOutput(df.with_columns(marks), info=info)
        hit = marks["contaminated_by"].is_not_null()
        rejects = df.filter(hit).with_columns(marks.filter(hit))
        reasons = ("contaminated (" + rejects["contamination_rule"] + ")").alias("reason")
        return StageOutput(df.filter(~hit).with_columns(marks["contaminated_by"].filter(~hit)),
                           rejects.with_columns(reasons), info=info)
