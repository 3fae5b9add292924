"""Exact and near-duplicate problems, the mathematical way: other numbers, other problem.

Generic near-dup tools (datatrove, datasketch, text-dedup) were built for web pages. On
problem sets they merge "What is 12 + 7?" with "What is 13 + 7?" - datatrove even rewrites
every digit to 0 - and a problem with other numbers has another answer. Here:

1. exact: rows whose normalized text (NFKC, case, whitespace, sentence punctuation, LaTeX
   spacing such as ``\\left(`` or ``\\,``) is equal form one group;
2. near: MinHash/LSH candidates among texts of at least ``min_fuzzy_chars`` characters, in
   buckets split by the problem's *math signature* (its numbers and operators), confirmed
   by rapidfuzz; two rows whose gold answers are both present and differ are never merged.

The survivor of a group is deterministic: a row with a gold answer, then the longest
``solution`` (when the table has one), then the smallest id. Every row gets ``dup_group``
(the survivor's id).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import polars as pl

from curator.core.stage import Stage, StageOutput

# --- normalization (polars expressions: Rust regex, so no look-arounds) ------------------------------------
_LATEX_SPACING = (r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle|textstyle|"
                  r"quad|qquad|limits|nolimits)\b|\\[,;:! ]|~")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPERATOR = re.compile(r"[-+*/^=<>|!]|\\[A-Za-z]+")
_TOKEN = r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+|\\[A-Za-z]+|[^\w\s]"


def normalize_expr(col: pl.Expr) -> pl.Expr:
    """The text exact dedup compares (see ``normalize_text``), as a polars expression."""
    return (
        col.fill_null("").str.normalize("NFKC").str.to_lowercase()
        .str.replace_all(_LATEX_SPACING, " ")
        .str.replace_all(r"\\[dt]frac\b", r"\frac", literal=False)
        .str.replace_all(r"\$+|\\[()\[\]]", " ")
        .str.replace_all(r"(\d)\.(\d)", "${1}\x00${2}")  # 2.5 and 1,000 keep their separators
        .str.replace_all(r"(\d),(\d)", "${1}\x01${2}")
        .str.replace_all(r"([\d)}])!", "${1}\x02")  # 5! is a factorial, "wow!" is punctuation
        .str.replace_all(r"[?;:\"'`.,!]", " ")
        .str.replace_all("\x00", ".", literal=True).str.replace_all("\x01", ",", literal=True)
        .str.replace_all("\x02", "!", literal=True)
        .str.replace_all(r"\s+", " ").str.strip_chars()
        .str.replace_all(r"\s*([^\w\s])\s*", "${1}")
    )


def normalize_text(text: str) -> str:
    r"""Equal for differences a reader would not call a change: NFKC, case, whitespace, sentence
    punctuation, LaTeX spacing (``\\left(``, ``\\,``, ``\\dfrac``), math delimiters.

    >>> normalize_text("Find  $f\\left( x \\right)$ if x = 2.5.") == normalize_text("find $f(x)$ if x=2.5")
    True
    """
    return pl.select(normalize_expr(pl.lit(text, dtype=pl.String))).item()


def math_signature(normalized: str) -> str:
    """The problem's numbers and operators, in order: what must match for a duplicate.

    In order, because "the sum of 825 integers is 515" and "the sum of 515 integers is 825"
    are different problems.

    >>> math_signature("what is 12+7") == math_signature("find 12 + 7")
    True
    >>> math_signature("what is 12+7") == math_signature("what is 13+7")
    False
    """
    nums = _NUMBER.findall(normalized)
    ops = _OPERATOR.findall(_NUMBER.sub(" ", normalized))
    return " ".join(nums) + "|" + "".join(ops)


def tokens(normalized: str) -> list[str]:
    """Words, CJK characters, LaTeX commands and symbols: shingle units for MinHash."""
    return re.findall(_TOKEN, normalized)


def _answer_key(answer: str) -> str:
    text = re.sub(r"\\boxed\{(.*)\}", r"\1", unicodedata.normalize("NFKC", answer))
    return re.sub(r"[\s$]|\\[,;!]", "", text).lower().rstrip(".")


def answers_differ(a: str | None, b: str | None) -> bool:
    """True only when both gold answers are present and not equivalent (then: not duplicates)."""
    if not a or not b or not a.strip() or not b.strip():
        return False
    ka, kb = _answer_key(a), _answer_key(b)
    if ka == kb:
        return False
    try:
        return abs(float(ka) - float(kb)) > 1e-9 * max(1.0, abs(float(ka)))
    except ValueError:
        pass
    try:
        from curator.answers.grading import is_equivalent  # the verifier, when installed
    except ImportError:
        return True
    try:
        return not (is_equivalent(a, b) or is_equivalent(b, a))  # the verifier is gold-first; be symmetric
    except Exception:  # noqa: BLE001 - an answer the verifier cannot read is not evidence of equality
        return True


# --- grouping -------------------------------------------------------------------------------------------
@dataclass
class DedupParams:
    """How near is a duplicate. Defaults cite their source."""

    near: bool = True  # exact only when False (s1 did exact dedup only)
    min_fuzzy_chars: int = 50  # this project: short problems differ in one token and are distinct
    fuzzy_threshold: float = 90.0  # OpenThoughts uses fuzz.ratio >= 95; see benchmarks/dedup.py
    ngram: int = 3  # datatrove: 5; 3 keeps word-swapped problems in one bucket (benchmarks/dedup.py)
    bands: int = 32  # 32 x 4: LSH threshold about (1/32)**(1/4) = 0.42, confirmation decides
    rows: int = 4
    seed: int = 0
    engine: str = "numpy"  # or "datatrove" (its MinHash stages, digits kept, regex tokenizer)


class _UnionFind:
    def __init__(self, n: int) -> None:
        self.parent = list(range(n))

    def find(self, x: int) -> int:
        root = x
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[x] != root:
            self.parent[x], x = root, self.parent[x]
        return root

    def union(self, a: int, b: int) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def near_pairs(norm: list[str], signature: list[str], params: DedupParams) -> np.ndarray:
    """Candidate pairs (indices into ``norm``) from MinHash/LSH, never across math signatures."""
    from filters import minhash

    if params.engine == "datatrove":
        from filters.minhash_datatrove import datatrove_pairs

        return datatrove_pairs(norm, signature, params)
    if params.engine != "numpy":
        raise ValueError(f"dedup engine {params.engine!r}: use 'numpy' or 'datatrove'")
    toks, lengths = minhash.token_hashes(pl.Series(norm, dtype=pl.String).str.extract_all(_TOKEN))
    hashes, doc = minhash.shingles(toks, lengths, params.ngram, params.seed)
    sig = minhash.signatures(hashes, doc, len(norm), params.bands * params.rows, params.seed)
    return minhash.candidate_pairs(sig, params.bands, params.rows, minhash.text_salt(signature), params.seed)


def dedup_groups(df: pl.DataFrame, params: DedupParams | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``dup_group`` (survivor id) and ``dup_reason`` (null for survivors) for every row, and counts."""
    from rapidfuzz import fuzz

    p = params or DedupParams()
    n = df.height
    ids = df["id"].to_list()
    answers = df["answer"].to_list() if "answer" in df.columns else [None] * n
    solution_len = (df["solution"].cast(pl.String).str.len_chars().fill_null(0).to_list()
                    if "solution" in df.columns else [0] * n)
    rank = sorted(range(n), key=lambda i: (not (answers[i] and answers[i].strip()), -solution_len[i], ids[i]))
    position = [0] * n
    for pos, i in enumerate(rank):
        position[i] = pos
    norm = df.select(normalize_expr(pl.col("problem").cast(pl.String)))["problem"].to_list()

    uf = _UnionFind(n)
    first_of: dict[str, int] = {}
    for i in rank:  # exact groups join the best-ranked row with that text
        j = first_of.setdefault(norm[i], i)
        if j != i:
            uf.union(position[j], position[i])
    exact_conflicts = sum(1 for i in rank if first_of[norm[i]] != i and answers_differ(answers[i], answers[first_of[norm[i]]]))

    near_merged = 0
    if p.near:
        reps = [i for i in first_of.values() if len(norm[i]) >= p.min_fuzzy_chars]
        sigs = [math_signature(norm[i]) for i in reps]
        pairs = near_pairs([norm[i] for i in reps], sigs, p) if len(reps) > 1 else np.zeros((0, 2), np.int64)
        for a, b in pairs.tolist():
            i, j = reps[a], reps[b]
            if fuzz.ratio(norm[i], norm[j], score_cutoff=p.fuzzy_threshold) == 0:
                continue
            if answers_differ(answers[i], answers[j]):
                continue
            if uf.find(position[i]) != uf.find(position[j]):
                near_merged += 1
            uf.union(position[i], position[j])

    group = [ids[rank[uf.find(position[i])]] for i in range(n)]
    reason: list[str | None] = []
    for i in range(n):
        survivor = rank[uf.find(position[i])]
        if survivor == i:
            reason.append(None)
        else:
            reason.append("exact duplicate" if norm[i] == norm[survivor] or first_of[norm[i]] != i
                          else "near duplicate")
    out = pl.DataFrame({"dup_group": group, "dup_reason": reason}, schema={"dup_group": pl.String,
                                                                          "dup_reason": pl.String})
    groups = pl.Series(group).value_counts()
    info = {"groups_with_duplicates": int((groups["count"] > 1).sum()),
            "exact_duplicates": sum(r == "exact duplicate" for r in reason),
            "near_duplicates": sum(r == "near duplicate" for r in reason),
            "exact_duplicates_with_conflicting_answers": exact_conflicts,
            "near_merges": near_merged}
    return out, info


@dataclass
class Dedup(Stage):
    """Global stage: keeps one row per duplicate group, drops the rest with a reason."""

    near: bool = True  # exact only when False
    min_fuzzy_chars: int = 50  # this project: short problems are exact-only
    fuzzy_threshold: float = 90.0  # rapidfuzz ratio on normalized text; OpenThoughts: 95
    ngram: int = 3  # word n-gram shingles (datatrove: 5)
    bands: int = 32
    rows: int = 4
    engine: str = "numpy"  # "datatrove" for its MinHash stages (digits kept, regex tokenizer)

    scope: ClassVar[str] = "global"
    needs: ClassVar[tuple[str, ...]] = ("id", "problem")
    adds: ClassVar[tuple[str, ...]] = ("dup_group",)
    role: ClassVar[str] = "dedup"

    def apply(self, df: pl.DataFrame) -> StageOutput:
        params = DedupParams(self.near, self.min_fuzzy_chars, self.fuzzy_threshold, self.ngram, self.bands,
                             self.rows, engine=self.engine)
        marks, info = dedup_groups(df, params)
        df = df.drop("dup_group", strict=False).with_columns(marks["dup_group"])
        dropped = marks["dup_reason"].is_not_null()
        rejects = df.filter(dropped).with_columns(marks["dup_reason"].filter(dropped).alias("reason"))
        return StageOutput(df.filter(~dropped), rejects, info=info)
