"""Domain labels where a source has none: a keyword classifier shipped as a data file, and the
label set (MSC2020 two-digit classes, as s1 used) and prompt for labelling with an LLM.

Domains drive s1's uniform domain draw and the RL pool's balance over domains; a coarse label
from keywords is enough for both and costs microseconds per problem.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

import polars as pl

from curator.core.stage import Map
from curator.generation.model_stage import CallsModel, resolve_backend


def _data_file(name: str) -> Path:
    return Path(str(resources.files("curator") / "data" / name))


def _load_json(path: str) -> dict:
    """The file read afresh each time (an edited rules file counts at once); parsed once per content."""
    try:
        return _parse_json(Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as err:
        raise ValueError(f"cannot read domain rules {path}: {err}; fix the file or pass another rules=") from err


@lru_cache(maxsize=8)
def _parse_json(text: str) -> dict:
    return json.loads(text)


def load_keyword_rules(path: str | Path | None = None) -> tuple[dict[str, list[str]], str]:
    """(domain -> keywords, fallback label) from a JSON rules file (default: the shipped one)."""
    doc = _load_json(str(path or _data_file("domain_keywords.json")))
    return {str(k): [str(w) for w in v] for k, v in doc["domains"].items()}, str(doc.get("fallback", "other"))


def msc_codes(path: str | Path | None = None) -> list[dict[str, str]]:
    """The MSC2020 two-digit classes: ``[{"code": "11", "name": "Number theory"}, ...]``."""
    return list(_load_json(str(path or _data_file("msc_codes.json")))["codes"])


def keyword_pattern(keywords: list[str]) -> str:
    """A case-insensitive regex matching any keyword (ASCII keywords only at a word start)."""
    words = [k.lstrip() for k in keywords if k.strip()]
    return "(?i)" + "|".join((r"\b" if k[:1].isascii() and k[:1].isalnum() else "") + re.escape(k) for k in words)


_JUNCTION = re.compile(r"[^\W\x00-\x7f][A-Za-z0-9]")


def classify_domains(problems: pl.Series, rules: dict[str, list[str]], fallback: str = "other") -> pl.Series:
    """Domain with the most keyword hits per problem; ties go to the earlier domain, none -> fallback.

    >>> rules = {"geometry": ["triangle", "circle"], "probability": ["probability", "coin"]}
    >>> classify_domains(pl.Series(["A coin is tossed: probability?", "Area of a circle", "Hello"]), rules).to_list()
    ['probability', 'geometry', 'other']
    """
    names = list(rules)
    if not names:
        return pl.Series("domain", [fallback] * problems.len(), dtype=pl.String)
    text = pl.col("p").fill_null("")
    patterns = [keyword_pattern(rules[n]) for n in names]
    if not any(_JUNCTION.search(k) for n in names for k in rules[n]):
        # Rust's regex gives up its DFA on a Unicode \b over non-ASCII text (1.5 ms a Chinese problem):
        # an ASCII \b sees the same boundaries once a non-ASCII word character before an ASCII one
        # is joined to it by "_" (no keyword spans such a pair, checked above)
        text = text.str.replace_all(r"([\w&&[^\x00-\x7f]])([A-Za-z0-9])", "${1}_${2}")
        patterns = [p.replace(r"\b", r"(?-u:\b)") for p in patterns]
    counts = pl.DataFrame({"p": problems}).select(
        [text.str.count_matches(pattern).cast(pl.Int64).alias(f"c{i}") for i, pattern in enumerate(patterns)])
    best = counts.select(pl.concat_list(pl.all()).list.arg_max().alias("i"),
                         pl.max_horizontal(pl.all()).alias("m"))
    label = best.select(pl.when(pl.col("m") > 0).then(pl.col("i").replace_strict(
        list(range(len(names))), names, return_dtype=pl.String)).otherwise(pl.lit(fallback)).alias("domain"))
    return label["domain"]


@dataclass
class KeywordDomains(Map):
    """Fill ``domain`` from keywords where it is missing (or everywhere with ``overwrite``)."""

    rules_file: Path | None = None  # None: the shipped curator/data/domain_keywords.json
    overwrite: bool = False
    column: str = "domain"
    rules: dict = field(default_factory=dict)  # inline rules (domain -> keywords) override the file

    needs: ClassVar[tuple[str, ...]] = ("problem",)
    adds: ClassVar[tuple[str, ...]] = ("domain",)
    batch_size: ClassVar[int] = 100_000  # vectorised: per-batch costs (regexes, cache parts) dominate small batches

    def params(self) -> dict:
        p = super().params()
        p["rules_file"] = self.rules_file or _data_file("domain_keywords.json")  # hashed by content
        return p

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        rules, fallback = load_keyword_rules(self.rules_file)
        rules = self.rules or rules
        labels = classify_domains(df["problem"], rules, fallback)
        if self.overwrite or self.column not in df.columns:
            return df.with_columns(labels.alias(self.column))
        return df.with_columns(pl.coalesce(pl.col(self.column), labels).alias(self.column))


# -- LLM labelling with a fixed label set (s1: MSC codes) ------------------------------------------

def msc_messages(problem: str, codes: list[dict[str, str]] | None = None) -> list[dict[str, str]]:
    """Chat request asking for exactly one two-digit MSC code for a problem."""
    codes = codes or msc_codes()
    table = "\n".join(f"{c['code']} {c['name']}" for c in codes)
    system = ("You classify math problems by the Mathematics Subject Classification (MSC2020). "
              "Answer with the two-digit code only.")
    user = f"Classes:\n{table}\n\nProblem:\n{problem}\n\nThe two-digit MSC code of this problem is:"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def parse_msc(text: str | None, codes: list[dict[str, str]] | None = None) -> str | None:
    """The first valid two-digit code in a model's reply (never evaluated, only matched).

    >>> parse_msc("The answer is 11 (Number theory).")
    '11'
    >>> parse_msc("99") is None
    True
    """
    valid = {c["code"] for c in (codes or msc_codes())}
    for m in re.finditer(r"(?<!\d)(\d{2})(?!\d)", text or ""):
        if m.group(1) in valid:
            return m.group(1)
    return None


@dataclass
class MscDomains(CallsModel, Map):
    """Label ``domain`` with a two-digit MSC code by asking an LLM (s1), through the generation layer.

    Rows whose reply holds no valid code keep their domain (null), so a following
    :class:`KeywordDomains` can fill them.
    """

    backend: Any = "embedded"  # a make_backend kind or a backend object (hashed by identity())
    column: str = "domain"
    overwrite: bool = False
    as_names: bool = False  # "Number theory" instead of "11"
    max_tokens: int = 8
    codes_file: Path | None = None  # None: the shipped curator/data/msc_codes.json

    needs: ClassVar[tuple[str, ...]] = ("problem",)
    adds: ClassVar[tuple[str, ...]] = ("domain",)
    batch_size: ClassVar[int] = 256

    def __post_init__(self) -> None:
        self.backend = resolve_backend(self.backend)

    def params(self) -> dict:
        p = super().params()
        p["codes_file"] = self.codes_file or _data_file("msc_codes.json")  # hashed by content
        return p

    def transform(self, df: pl.DataFrame) -> pl.DataFrame:
        from curator.generation import complete

        codes = msc_codes(self.codes_file)
        names = {c["code"]: c["name"] for c in codes}
        current = df[self.column] if self.column in df.columns else pl.Series([None] * df.height, dtype=pl.String)
        todo = [i for i, d in enumerate(current.to_list()) if self.overwrite or d is None]
        labels = current.cast(pl.String).to_list()
        if todo:
            problems = df["problem"].to_list()
            replies = complete(self.backend, [msc_messages(problems[i], codes) for i in todo], n=1,
                               temperature=0.0, max_tokens=self.max_tokens, cache=self.cache_path)
            for i, row in zip(todo, replies, strict=True):
                code = parse_msc(row[0].get("text") if row else None, codes)
                labels[i] = (names[code] if self.as_names else code) if code else (None if self.overwrite
                                                                                   else labels[i])
        return df.with_columns(pl.Series(self.column, labels, dtype=pl.String))
