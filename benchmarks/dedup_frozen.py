"""The dedup grouping as it was before it was vectorised (frozen): the baseline that
``benchmarks/dedup.py --sets scale`` times side by side with ``filters.dedup.dedup_groups`` and
that ``tests/test_dedup_scale.py`` compares decisions against. Not part of the package.

Frozen here: ``dedup_groups``, ``near_pairs``, the union-find and the normalisation expression;
the helpers they call (math signature, short key, answer comparison, MinHash arrays, boilerplate
shapes and phrases) are imported.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import polars as pl

from filters.boilerplate import Boilerplate, strip_phrases_expr, strip_shapes_expr
from filters.dedup import (
    _NUMBER,
    _OPERATOR,
    _TOKEN,
    DedupParams,
    answers_differ,
    check_survivors,
    load_boilerplate,
    math_signature,
    short_key,
)

_LATEX_SPACING = (r"\\(?:left|right|bigl|bigr|Bigl|Bigr|biggl|biggr|big|Big|bigg|Bigg|displaystyle|textstyle|"
                  r"quad|qquad|limits|nolimits)\b|\\[,;:! ]|~")


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


def normalize_expr(col: pl.Expr, boilerplate: Boilerplate | None = None) -> pl.Expr:
    """The text exact dedup compares, as a polars expression."""
    if boilerplate is None:
        return _core_expr(col)
    phrases = pl.select(_core_expr(pl.lit(pl.Series(boilerplate.phrases, dtype=pl.String)))).to_series().to_list()
    return strip_phrases_expr(_core_expr(col, boilerplate.labels), tuple(p for p in phrases if p))


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
