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
from curator.core.table import nfkc_column
from filters.boilerplate import (
    PHRASES_FILE,
    Boilerplate,
    load_boilerplate,
    strip_labels_expr,
    strip_phrases_expr,
    strip_shapes_expr,
    strip_unlabelled_shapes_expr,
)

# --- normalization (polars expressions: Rust regex, so no look-arounds) ------------------------------------
_LATEX_SPACING = (r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle|textstyle|"
                  r"quad|qquad|limits|nolimits)\b|\\[,;:! ]|~")
_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_OPERATOR = re.compile(r"[-+*/^=<>|!]|\\[A-Za-z]+")
_TOKEN = r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+|\\[A-Za-z]+|[^\w\s]"


def _core_expr(col: pl.Expr, labels: tuple[str, ...] = ()) -> pl.Expr:
    out = col.fill_null("").str.normalize("NFKC").str.to_lowercase()
    return _rest_expr(strip_shapes_expr(out, labels))


def _rest_expr(out: pl.Expr) -> pl.Expr:
    """After case, shapes and labels: LaTeX spacing, delimiters, punctuation, whitespace."""
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
        .str.replace_all(r"\s{2,}|[^\S ]", " ").str.strip_chars()  # = \s+ -> " ", rewriting only what changes
        .str.replace_all(r" ([^\w\s]) ?|([^\w\s]) ", "${1}${2}")  # = \s*([^\w\s])\s* -> ${1} on single spaces
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


def normalize_series(texts: pl.Series, boilerplate: Boilerplate | None = None) -> tuple[pl.Series, int]:
    """``normalize_expr`` over a whole column, and how many rows the boilerplate changed.

    The same text as ``normalize_expr``, each step once and each distinct text once:
    ``normalize_expr`` with boilerplate evaluates the normalisation twice (phrase stripping falls
    back to its input); counting changed rows needs the text without boilerplate, which differs
    only where a label matched; phrases can only change a text that contains one.
    """
    texts = texts.cast(pl.String).fill_null("")
    first = pl.DataFrame({"t": texts, "row": np.arange(len(texts), dtype=np.int64)}).select(
        pl.col("row").first().over("t")).to_series().to_numpy()
    distinct = np.flatnonzero(first == np.arange(len(texts)))
    slot = np.empty(len(texts), dtype=np.int64)
    slot[distinct] = np.arange(len(distinct))
    norm, changed = _normalize_distinct(texts.gather(distinct), boilerplate)
    slot = slot[first]
    return norm.gather(slot).alias("norm"), int(changed.to_numpy()[slot].sum())


def _normalize_distinct(texts: pl.Series, boilerplate: Boilerplate | None) -> tuple[pl.Series, pl.Series]:
    nfkc = nfkc_column(texts.fill_null(""), tables="polars")  # as normalize_expr, with polars' Unicode tables
    frame = pl.DataFrame({"s": nfkc}).select(s=strip_unlabelled_shapes_expr(pl.col("s").str.to_lowercase()))
    if boilerplate is None:
        norm = frame.select(_rest_expr(pl.col("s"))).to_series()
        return norm, pl.repeat(False, len(norm), eager=True)
    frame = frame.with_columns(labelled=strip_labels_expr(pl.col("s"), boilerplate.labels))
    frame = frame.with_columns(pre=_rest_expr(pl.col("labelled")))
    phrases = _normalized_phrases(boilerplate)
    norm = frame["pre"]
    if phrases:  # the phrase regexes all need a phrase in the text
        rows = norm.str.contains_any(list(phrases)).arg_true()
        if len(rows):
            stripped = norm.gather(rows).to_frame("pre").select(strip_phrases_expr(pl.col("pre"), phrases))
            norm = norm.clone().scatter(rows, stripped.to_series())
    plain = frame["pre"]
    labelled = (frame["labelled"] != frame["s"]).arg_true()
    if len(labelled):
        plain = plain.clone().scatter(labelled, frame[labelled, ["s"]].select(_rest_expr(pl.col("s"))).to_series())
    return norm, plain != norm


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


@lru_cache(maxsize=65536)
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


def check_survivors(survivor: list[int] | np.ndarray, removed: list[bool] | np.ndarray) -> None:
    """The invariant: every group keeps exactly one row, its survivor, and every removed row
    points at a kept survivor (``survivor[i]`` is a row index). Raises on a bug in dedup,
    never on data: no group is ever lost entirely."""
    s = np.asarray(survivor, dtype=np.int64)
    r = np.asarray(removed, dtype=bool)
    if len(s) != len(r):
        raise ValueError(f"check_survivors: {len(s)} survivors but {len(r)} removed flags; pass one of each per row")
    if not len(s):
        return
    bad = (r != (s != np.arange(len(s)))) | r[s] | (s[s] != s)
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        raise RuntimeError(f"dedup invariant broken at row {i}: survivor {int(s[i])}, removed={bool(r[i])}; "
                           "please report this with the input")


def _rank(df: pl.DataFrame) -> np.ndarray:
    """Row indices best first: a row with a gold answer, then the longest solution, then the smallest id
    (ties keep input order)."""
    n = df.height
    no_answer = (~df["answer"].cast(pl.String).str.contains(r"[^\s\x1c-\x1f]").fill_null(False)  # str.strip()'s set
                 if "answer" in df.columns else pl.repeat(True, n, eager=True)).to_numpy()
    solution_len = (df["solution"].cast(pl.String).str.len_chars().fill_null(0).cast(pl.Int64).to_numpy()
                    if "solution" in df.columns else np.zeros(n, dtype=np.int64))
    id_rank = df["id"].cast(pl.String).rank("dense").fill_null(0).to_numpy()  # nulls first, as polars sorts
    return np.lexsort((id_rank, -solution_len, no_answer)).astype(np.int64)  # stable: ties in input order


def _coarse_expr(norm: pl.Expr) -> pl.Expr:
    """Numbers and operators in order: LSH buckets and short-problem candidates (the full signature confirms)."""
    return pl.concat_str(norm.str.extract_all(_NUMBER.pattern).list.join(" "), pl.lit("|"),
                         norm.str.replace_all(r"([a-z]{2})-([a-z]{2})", "${1} ${2}")  # real-valued
                         .str.extract_all(_OPERATOR.pattern).list.join(""))


def _shared(values: pl.Series) -> np.ndarray:
    """Positions whose value occurs more than once: only those can be in a candidate group."""
    return values.is_duplicated().to_numpy()


def _components(size: int, pairs: np.ndarray) -> list[list[int]]:
    """Connected components of ``pairs`` over ``range(size)`` with two or more members, each in index order."""
    uf = _UnionFind(size)
    for a, b in pairs.tolist():
        uf.union(a, b)
    groups: dict[int, list[int]] = {}
    for i in sorted(set(pairs.ravel().tolist())):
        groups.setdefault(uf.find(i), []).append(i)
    return [g for g in groups.values() if len(g) > 1]


def dedup_groups(df: pl.DataFrame, params: DedupParams | None = None) -> tuple[pl.DataFrame, dict[str, Any]]:
    """``dup_group`` (survivor id) and ``dup_reason`` (null for survivors) for every row, and counts.

    Cost linear in rows: ranks, exact groups, reasons and counts are column operations; only rows
    that share numbers and operators with another distinct text reach MinHash, and only rows in
    a candidate group reach the Python confirmation (math signature, rapidfuzz, gold answers).
    """
    from rapidfuzz import fuzz

    p = params or DedupParams()
    n = df.height
    order = _rank(df)  # rank position -> row
    bp = load_boilerplate(p.boilerplate_file) if p.boilerplate else None
    norm_s, boilerplate_rows = normalize_series(df["problem"], bp)
    answer_s = df["answer"].cast(pl.String) if "answer" in df.columns else pl.repeat(None, n, dtype=pl.String,
                                                                                       eager=True)
    # exact groups: the best-ranked row with a text represents them
    rep = np.empty(n, dtype=np.int64)
    rep[order] = pl.DataFrame({"row": order, "norm": norm_s.gather(order)}).select(
        pl.col("row").first().over("norm"))["row"].to_numpy()
    rows = np.arange(n, dtype=np.int64)
    exact_conflicts = _conflicts(answer_s, rows[rep != rows], rep[rep != rows])
    reps = order[rep[order] == order]  # representatives in rank order
    length = norm_s.str.len_chars().to_numpy()

    survivor_of = rows.copy()  # per representative: the survivor it is merged into
    split_groups = 0
    short_rows: dict[int, str | None] = {}
    components: list[list[int]] = []
    if p.near and len(reps):
        rep_frame = pl.DataFrame({"row": reps, "norm": norm_s.gather(reps)}).with_columns(
            coarse=_coarse_expr(pl.col("norm")), long=pl.col("norm").str.len_chars() >= p.min_fuzzy_chars)
        long_reps = rep_frame.filter("long")
        if p.engine == "numpy":  # a text alone with its numbers and operators shares no salted LSH bucket
            long_reps = long_reps.filter(_shared(long_reps["coarse"]))
        if long_reps.height > 1:
            pairs = near_pairs(long_reps["norm"].to_list(), long_reps["coarse"].to_list(), p)
            members = long_reps["row"].to_numpy()
            components += [[int(members[j]) for j in c] for c in _components(long_reps.height, pairs)]
        if p.short:  # candidates: same numbers and operators (with a number); ``same`` decides
            short_reps = rep_frame.filter(~pl.col("long"))
            short_reps = short_reps.filter(_shared(short_reps["coarse"]))
            keys = [short_key(t) for t in short_reps["norm"].to_list()]
            short_reps = short_reps.with_columns(key=pl.Series(keys, dtype=pl.String)).filter(
                pl.col("key").is_not_null())
            short_rows.update(zip(short_reps["row"].to_list(), short_reps["key"].to_list(), strict=True))
            components += [g for g in short_reps.group_by("coarse", maintain_order=True).agg("row")["row"].to_list()
                           if len(g) > 1]
    if components:
        wanted = sorted({i for c in components for i in c})
        norm = dict(zip(wanted, norm_s.gather(wanted).to_list(), strict=True))
        answers = dict(zip(wanted, answer_s.gather(wanted).to_list(), strict=True))
        sig: dict[int, str] = {}

        def same(i: int, k: int) -> bool:
            """Row i is a near duplicate of survivor k itself (not only through a chain)."""
            for j in (i, k):
                if j not in sig:
                    sig[j] = math_signature(norm[j])
            if sig[i] != sig[k] or answers_differ(answers[i], answers[k]):
                return False
            if i in short_rows or k in short_rows:  # the same words (question words aside), or nearly the same
                return short_rows.get(i) is not None and short_rows.get(k) is not None and (
                    short_rows[i] == short_rows[k] or fuzz.ratio(norm[i], norm[k], score_cutoff=p.fuzzy_threshold) > 0)
            return fuzz.ratio(norm[i], norm[k], score_cutoff=p.fuzzy_threshold) > 0

        for group in components:  # each in rank order
            kept: list[int] = []
            for i in group:
                k = next((k for k in kept[:p.max_survivors_checked] if same(i, k)), None)
                if k is None:
                    kept.append(i)
                else:
                    survivor_of[i] = k
            split_groups += len(kept) > 1

    survivor = survivor_of[rep]
    code = np.where(survivor == rows, 0, np.where(survivor == rep, 1, 2)).astype(np.int8)  # exact: same text
    check_survivors(survivor, code != 0)
    group = df["id"].cast(pl.String).gather(survivor).alias("dup_group")
    reason = pl.Series("dup_reason", code).replace_strict({0: None, 1: "exact duplicate", 2: "near duplicate"},
                                                          return_dtype=pl.String)
    out = pl.DataFrame([group, reason])
    near = int((code == 2).sum())
    info = {"groups_with_duplicates": int((group.value_counts()["count"] > 1).sum()),
            "exact_duplicates": int((code == 1).sum()),
            "near_duplicates": near,
            "short_near_duplicates": int(((code == 2) & (length < p.min_fuzzy_chars)).sum()) if p.short else 0,
            "exact_duplicates_with_conflicting_answers": exact_conflicts,
            "boilerplate_normalized": boilerplate_rows,
            "boilerplate_file": bp.source if bp else None,
            "candidate_groups_split": split_groups,
            "near_merges": near}
    return out, info


def _conflicts(answers: pl.Series, rows: np.ndarray, reps: np.ndarray) -> int:
    """How many exact duplicates have a gold answer that differs from their representative's."""
    pairs = pl.DataFrame({"a": answers.gather(rows), "b": answers.gather(reps)}).filter(
        pl.col("a").str.contains(r"[^\s\x1c-\x1f]") & pl.col("b").str.contains(r"[^\s\x1c-\x1f]")
        & (pl.col("a") != pl.col("b")))  # absent, blank or equal: not different (``answers_differ``)
    counts = pairs.group_by("a", "b").len()
    return sum(c for a, b, c in counts.iter_rows() if answers_differ(a, b))


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
    reads: ClassVar[tuple[str, ...]] = ("answer", "solution")  # gold answers split groups; survivors by solution
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
