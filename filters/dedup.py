"""Exact and near-duplicate problems, the mathematical way: other numbers, other problem.

Generic near-dup tools (datatrove, datasketch, text-dedup) were built for web pages. On
problem sets they merge "What is 12 + 7?" with "What is 13 + 7?" - datatrove even rewrites
every digit to 0 - and a problem with other numbers has another answer. Here:

1. exact: rows whose normalized text (NFKC, case, whitespace, sentence punctuation, LaTeX
   spacing such as ``\\left(`` or ``\\,``, and the boilerplate corpora wrap around a problem:
   "Problem:", "3.", "**", "Give your answer in simplest form." from
   ``curator/data/boilerplate_phrases.txt``) is equal form one group;
2. near: MinHash/LSH candidates among texts of at least ``min_fuzzy_chars`` characters, in
   buckets split by the problem's *math signature* (its numbers and operators), confirmed
   by rapidfuzz; two rows whose gold answers are both present and differ are never merged;
3. short: below ``min_fuzzy_chars``, only rows with the same numbers and operators in the same
   order *and* the same words once question words ("what is", "compute") are set aside.

The survivor of a group is deterministic: a row with a gold answer, then the longest
``solution`` (when the table has one), then the smallest id. Every row gets ``dup_group``
(the survivor's id). A removed row is always confirmed against its survivor itself, not
only through a chain of pairs, so a group never loses every member (``check_survivors``).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import polars as pl

from curator.core.stage import Stage, StageOutput
from filters.boilerplate import (
    PHRASES_FILE,
    Boilerplate,
    load_boilerplate,
    strip_phrases_expr,
    strip_shapes_expr,
)

# --- normalization (polars expressions: Rust regex, so no look-arounds) ------------------------------------
_LATEX_SPACING = (r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle|textstyle|"
                  r"quad|qquad|limits|nolimits)\b|\\[,;:! ]|~")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPERATOR = re.compile(r"[-+*/^=<>|!]|\\[A-Za-z]+")
_TOKEN = r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+|\\[A-Za-z]+|[^\w\s]"


def _core_expr(col: pl.Expr, labels: tuple[str, ...] = ()) -> pl.Expr:
    out = col.fill_null("").str.normalize("NFKC").str.to_lowercase()
    out = strip_shapes_expr(out, labels)
    return (
        out.str.replace_all(_LATEX_SPACING, " ")
        .str.replace_all(r"\\[dt]frac\b", r"\frac", literal=False)
        .str.replace_all(r"\$+|\\[()\[\]]", " ")
        .str.replace_all(r"(\d)\.(\d)", "${1}\x00${2}")  # 2.5 and 1,000 keep their separators
        .str.replace_all(r"(\d),(\d)", "${1}\x01${2}")
        .str.replace_all(r"([\d)}])!", "${1}\x02")  # 5! is a factorial, "wow!" is punctuation
        .str.replace_all(r"[?;:\"'`.,!。、]", " ")
        .str.replace_all("\x00", ".", literal=True).str.replace_all("\x01", ",", literal=True)
        .str.replace_all("\x02", "!", literal=True)
        .str.replace_all(r"\s+", " ").str.strip_chars()
        .str.replace_all(r"\s*([^\w\s])\s*", "${1}")
    )


@lru_cache(maxsize=8)
def _normalized_phrases(boilerplate: Boilerplate) -> tuple[str, ...]:
    if not boilerplate.phrases:
        return ()
    out = pl.select(_core_expr(pl.lit(pl.Series(boilerplate.phrases, dtype=pl.String)))).to_series()
    return tuple(p for p in out.to_list() if p)


def normalize_expr(col: pl.Expr, boilerplate: Boilerplate | None = None) -> pl.Expr:
    """The text exact dedup compares (see ``normalize_text``), as a polars expression.

    ``boilerplate`` None: no corpus phrases or labels are stripped (shapes still are).
    """
    if boilerplate is None:
        return _core_expr(col)
    return strip_phrases_expr(_core_expr(col, boilerplate.labels), _normalized_phrases(boilerplate))


def normalize_text(text: str, boilerplate: Boilerplate | None = None) -> str:
    r"""Equal for differences a reader would not call a change: NFKC, case, whitespace, sentence
    punctuation, LaTeX spacing (``\\left(``, ``\\,``, ``\\dfrac``), math delimiters, numbering,
    markdown emphasis, and (given ``boilerplate``) the phrases corpora wrap around a problem.

    >>> normalize_text("Find  $f\\left( x \\right)$ if x = 2.5.") == normalize_text("find $f(x)$ if x=2.5")
    True
    >>> bp = load_boilerplate()
    >>> normalize_text("Problem 3: Find x. Give your answer in simplest form.", bp) == normalize_text("find x")
    True
    """
    return pl.select(normalize_expr(pl.lit(text, dtype=pl.String), boilerplate)).item()


_NUMBER_WORD = re.compile(r"\b(?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|thirty|"
                          r"forty|fifty|hundred|thousand|million|first|second|third|fourth|fifth|half|twice|"
                          r"double|triple)\b|[零一二两三四五六七八九十百千万亿半]")
_LOGIC_WORD = re.compile(r"\b(?:or|not|no|nor|except|besides|without|least|most)\b|至少|至多|不|或")
_VARIABLE = re.compile(r"(?<![a-z\\])[a-z](?=[^a-z\s])|(?<=[^a-z\s\\])[a-z](?![a-z])")
_WORD_HYPHEN = re.compile(r"(?<=[a-z]{2})-(?=[a-z]{2})")


def math_signature(normalized: str) -> str:
    """What must match for a duplicate: the problem's numbers (digits and number words), operators,
    variables and logical words (or, not, at least), in order.

    In order, because "the sum of 825 integers is 515" and "the sum of 515 integers is 825"
    are different problems; variables, because x/y+y/z and y/x+z/y are; number and logical
    words, because "three-digit" is not "four-digit" and "increasing or decreasing" is not
    "increasing".

    >>> math_signature("what is 12+7") == math_signature("find 12+7")
    True
    >>> math_signature("what is 12+7") == math_signature("what is 13+7")
    False
    >>> math_signature("min of x/y+y/x") == math_signature("min of y/x+x/y")
    False
    """
    text = _WORD_HYPHEN.sub(" ", normalized)
    nums = _NUMBER.findall(text)
    words = _NUMBER_WORD.findall(text) + ["|"] + _LOGIC_WORD.findall(text)
    ops = _OPERATOR.findall(_NUMBER.sub(" ", text))
    return " ".join(nums) + "|" + "".join(ops) + "|" + "".join(_VARIABLE.findall(text)) + "|" + " ".join(words)


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
    min_fuzzy_chars: int = 50  # this project: below it, MinHash on a few words is unreliable
    fuzzy_threshold: float = 90.0  # OpenThoughts uses fuzz.ratio >= 95; see benchmarks/dedup.py
    ngram: int = 3  # datatrove: 5; 3 keeps word-swapped problems in one bucket (benchmarks/dedup.py)
    bands: int = 32  # 32 x 4: LSH threshold about (1/32)**(1/4) = 0.42, confirmation decides
    rows: int = 4
    seed: int = 0
    engine: str = "numpy"  # or "datatrove" (its MinHash stages, digits kept, regex tokenizer)
    boilerplate: bool = True  # strip corpus phrases/labels (curator/data/boilerplate_phrases.txt)
    boilerplate_file: str | None = None  # None: the bundled file; a path: yours, same format
    short: bool = True  # short problems: same numbers, operators and non-question words = duplicate
    max_survivors_checked: int = 64  # per group: a row unconfirmed against this many survivors stays


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


_QUESTION_WORDS = re.compile(r"(?<![^\W\d_])(?:what|is|are|find|compute|calculate|evaluate|determine|the|value|"
                             r"of|a|an|result|please|answer)(?![^\W\d_])|计算|求|等于|多少|是|的值|结果")


def short_key(normalized: str) -> str | None:
    """What two short problems must share to be one problem, or None when that is not safe.

    Same numbers and operators in the same order, and the same other words once question
    words are set aside: "What is 7 + 8?" = "Compute 7+8."; "Is 7 + 8 prime?" is another
    problem; without a number nothing is merged ("the first ten terms of a series/sequence").

    >>> short_key(normalize_text("What is 7 + 8?")) == short_key(normalize_text("Compute 7+8."))
    True
    >>> short_key(normalize_text("Is 7 + 8 prime?")) == short_key(normalize_text("What is 7 + 8?"))
    False
    """
    signature = math_signature(normalized)
    if not _NUMBER.search(normalized):
        return None
    words = re.findall(_TOKEN, _QUESTION_WORDS.sub(" ", _NUMBER.sub(" ", normalized)))
    return signature + "|" + " ".join(w for w in words if w.isalnum() or len(w) > 1)


def check_survivors(survivor: list[int], removed: list[bool]) -> None:
    """The invariant: every group keeps exactly one row, its survivor, and every removed row
    points at a kept survivor (``survivor[i]`` is a row index). Raises on a bug in dedup,
    never on data: no group is ever lost entirely."""
    for i, (s, r) in enumerate(zip(survivor, removed, strict=True)):
        if r != (s != i) or removed[s] or survivor[s] != s:
            raise RuntimeError(f"dedup invariant broken at row {i}: survivor {s}, removed={r}; "
                               "please report this with the input")


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
    bp = load_boilerplate(p.boilerplate_file) if p.boilerplate else None
    texts = df.select(plain=normalize_expr(pl.col("problem").cast(pl.String)),
                      norm=normalize_expr(pl.col("problem").cast(pl.String), bp)).with_columns(
        coarse=pl.concat_str(pl.col("norm").str.extract_all(_NUMBER.pattern).list.join(" "), pl.lit("|"),
                             pl.col("norm").str.replace_all(r"([a-z]{2})-([a-z]{2})", "${1} ${2}")  # real-valued
                             .str.extract_all(_OPERATOR.pattern).list.join("")))
    norm = texts["norm"].to_list()
    coarse = texts["coarse"].to_list()  # numbers and operators: LSH buckets; the full signature confirms
    boilerplate_rows = int((texts["plain"] != texts["norm"]).sum()) if bp else 0

    first_of: dict[str, int] = {}
    for i in rank:  # exact groups: the best-ranked row with that text represents them
        first_of.setdefault(norm[i], i)
    exact_conflicts = sum(1 for i in rank if first_of[norm[i]] != i and answers_differ(answers[i], answers[first_of[norm[i]]]))
    reps = sorted(first_of.values(), key=position.__getitem__)
    rep_of = {i: first_of[norm[i]] for i in range(n)}

    sig: dict[int, str] = {}
    short: dict[int, str | None] = {}
    uf = _UnionFind(n)
    if p.near:
        long_reps = [i for i in reps if len(norm[i]) >= p.min_fuzzy_chars]
        pairs = (near_pairs([norm[i] for i in long_reps], [coarse[i] for i in long_reps], p)
                 if len(long_reps) > 1 else np.zeros((0, 2), np.int64))
        for a, b in pairs.tolist():
            uf.union(position[long_reps[a]], position[long_reps[b]])
        if p.short:  # candidates: same numbers and operators (with a number); ``same`` decides
            by_sig: dict[str, int] = {}
            for i in reps:
                if len(norm[i]) < p.min_fuzzy_chars:
                    short[i] = short_key(norm[i])
                    if short[i] is not None:
                        uf.union(position[by_sig.setdefault(coarse[i], i)], position[i])

    def same(i: int, k: int) -> bool:
        """Row i is a near duplicate of survivor k itself (not only through a chain)."""
        for j in (i, k):
            if j not in sig:
                sig[j] = math_signature(norm[j])
        if sig[i] != sig[k] or answers_differ(answers[i], answers[k]):
            return False
        if i in short or k in short:  # the same words (question words aside), or nearly the same text
            return short.get(i) is not None and short.get(k) is not None and (
                short[i] == short[k] or fuzz.ratio(norm[i], norm[k], score_cutoff=p.fuzzy_threshold) > 0)
        return fuzz.ratio(norm[i], norm[k], score_cutoff=p.fuzzy_threshold) > 0

    components: dict[int, list[int]] = {}
    for i in reps:  # reps are in rank order, so each component's list is too
        components.setdefault(uf.find(position[i]), []).append(i)
    survivor_of: dict[int, int] = {}
    split_groups = 0
    for members in components.values():
        kept: list[int] = []
        for i in members:
            k = next((k for k in kept[:p.max_survivors_checked] if same(i, k)), None)
            if k is None:
                kept.append(i)
            survivor_of[i] = i if k is None else k
        split_groups += len(kept) > 1

    survivor = [survivor_of[rep_of[i]] for i in range(n)]
    group = [ids[s] for s in survivor]
    reason: list[str | None] = []
    short_merged = 0
    for i in range(n):
        s = survivor[i]
        if s == i:
            reason.append(None)
        elif norm[i] == norm[s]:
            reason.append("exact duplicate")
        else:
            reason.append("near duplicate")
            short_merged += rep_of[i] in short
    check_survivors(survivor, [r is not None for r in reason])
    out = pl.DataFrame({"dup_group": group, "dup_reason": reason}, schema={"dup_group": pl.String,
                                                                          "dup_reason": pl.String})
    groups = pl.Series(group).value_counts()
    info = {"groups_with_duplicates": int((groups["count"] > 1).sum()),
            "exact_duplicates": sum(r == "exact duplicate" for r in reason),
            "near_duplicates": sum(r == "near duplicate" for r in reason),
            "short_near_duplicates": short_merged,
            "exact_duplicates_with_conflicting_answers": exact_conflicts,
            "boilerplate_normalized": boilerplate_rows,
            "boilerplate_file": bp.source if bp else None,
            "candidate_groups_split": split_groups,
            "near_merges": sum(r == "near duplicate" for r in reason)}
    return out, info


@dataclass
class Dedup(Stage):
    """Global stage: keeps one row per duplicate group, drops the rest with a reason."""

    near: bool = True  # exact only when False
    min_fuzzy_chars: int = 50  # this project: below it, only the short-problem rule
    fuzzy_threshold: float = 90.0  # rapidfuzz ratio on normalized text; OpenThoughts: 95
    ngram: int = 3  # word n-gram shingles (datatrove: 5)
    bands: int = 32
    rows: int = 4
    engine: str = "numpy"  # "datatrove" for its MinHash stages (digits kept, regex tokenizer)
    boilerplate: bool = True  # strip corpus phrases first (curator/data/boilerplate_phrases.txt)
    boilerplate_file: str | None = None  # None: the bundled phrase file; a path: yours (same format)
    short: bool = True  # short problems: same numbers, operators and words (question words aside)

    scope: ClassVar[str] = "global"
    needs: ClassVar[tuple[str, ...]] = ("id", "problem")
    adds: ClassVar[tuple[str, ...]] = ("dup_group",)
    role: ClassVar[str] = "dedup"

    def params(self) -> dict[str, Any]:
        """The fields and the phrase file's content: editing the file reruns dedup."""
        from curator.core.fingerprint import file_hash

        out = super().params()
        if self.boilerplate:
            out["boilerplate_sha256"] = file_hash(Path(self.boilerplate_file) if self.boilerplate_file
                                                  else PHRASES_FILE)
        return out

    def apply(self, df: pl.DataFrame) -> StageOutput:
        params = DedupParams(self.near, self.min_fuzzy_chars, self.fuzzy_threshold, self.ngram, self.bands,
                             self.rows, engine=self.engine, boilerplate=self.boilerplate,
                             boilerplate_file=self.boilerplate_file, short=self.short)
        marks, info = dedup_groups(df, params)
        df = df.drop("dup_group", strict=False).with_columns(marks["dup_group"])
        dropped = marks["dup_reason"].is_not_null()
        rejects = df.filter(dropped).with_columns(marks["dup_reason"].filter(dropped).alias("reason"))
        return StageOutput(df.filter(~dropped), rejects, info=info)
