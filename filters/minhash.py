"""MinHash signatures and LSH candidate pairs over a whole corpus at once, in numpy.

Near-duplicate dedup only needs candidate pairs (a confirmation step decides), so this module
does the three array operations that matter - shingle hashes, per-document minima, band
keys - on the concatenated corpus instead of document by document. ``benchmarks/dedup.py``
measures it against datatrove's MinHash stages and datasketch.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import xxhash

_MASK = np.uint64(0xFFFFFFFFFFFFFFFF)


def _rng_u64(seed: int, size: int) -> np.ndarray:
    """Deterministic odd 64-bit multipliers (odd: multiplication mod 2**64 is a bijection)."""
    gen = np.random.default_rng(seed)
    return gen.integers(0, 2**63, size=size, dtype=np.uint64) * np.uint64(2) + np.uint64(1)


def token_hashes(docs: pl.Series | list[list[str]]) -> tuple[np.ndarray, np.ndarray]:
    """(hash of every token, concatenated; document lengths). Each distinct token hashed once."""
    series = docs if isinstance(docs, pl.Series) else pl.Series(docs, dtype=pl.List(pl.String))
    lengths = series.list.len().fill_null(0).to_numpy().astype(np.int64)
    flat = series.explode().drop_nulls()
    vocab = flat.unique()
    codes = pl.Series([xxhash.xxh64_intdigest(t) for t in vocab.to_list()], dtype=pl.UInt64)
    hashed = flat.replace_strict(vocab, codes, return_dtype=pl.UInt64)
    return hashed.to_numpy().astype(np.uint64), lengths


def shingles(tokens: np.ndarray, lengths: np.ndarray, n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Hashes of every word n-gram and the document each belongs to.

    A document shorter than ``n`` tokens gets one shingle of all its tokens; an empty one none.
    """
    total = int(lengths.sum())
    doc = np.repeat(np.arange(len(lengths), dtype=np.int64), lengths)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]) if len(lengths) else np.zeros(0, np.int64)
    pos = np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)
    length = lengths[doc]
    keep = (pos + n <= length) | ((pos == 0) & (length < n))
    padded = np.concatenate([tokens, np.zeros(n, dtype=np.uint64)])
    mult = _rng_u64(seed + 7919, n)
    acc = np.zeros(total, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for j in range(n):
            part = padded[j:j + total] * mult[j]
            part[pos + j >= length] = 0
            acc += part
        acc ^= acc >> np.uint64(31)
    return acc[keep], doc[keep]


def signatures(hashes: np.ndarray, doc: np.ndarray, n_docs: int, num_perm: int = 128,
               seed: int = 0, threads: int = 1, chunk: int = 1 << 20) -> np.ndarray:
    """MinHash signatures (n_docs x num_perm). Documents without shingles get all-max rows.

    Shingles are taken in chunks of whole documents (about ``chunk`` shingles: bounded scratch
    memory, buffers reused across permutations); ``threads`` > 1 hashes chunks in parallel
    (numpy releases the GIL). Every setting gives the same signatures.
    """
    sig = np.full((n_docs, num_perm), np.iinfo(np.uint64).max, dtype=np.uint64)
    if len(hashes) == 0:
        return sig
    order = np.argsort(doc, kind="stable")
    hashes, doc = hashes[order], doc[order]
    starts = np.flatnonzero(np.r_[True, doc[1:] != doc[:-1]])
    owners = doc[starts]
    a = _rng_u64(seed, num_perm)
    b = _rng_u64(seed + 1, num_perm)
    cuts = np.unique(np.r_[np.searchsorted(starts, np.arange(0, len(hashes), chunk)), len(starts)])

    def run(j: int) -> None:
        d0, d1 = int(cuts[j]), int(cuts[j + 1])
        s0, s1 = int(starts[d0]), int(starts[d1]) if d1 < len(starts) else len(hashes)
        part, local = hashes[s0:s1], starts[d0:d1] - s0
        h, shifted = np.empty_like(part), np.empty_like(part)
        out = np.empty((num_perm, d1 - d0), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for k in range(num_perm):
                np.multiply(part, a[k], out=h)
                h += b[k]
                np.right_shift(h, np.uint64(29), out=shifted)
                h ^= shifted
                np.minimum.reduceat(h, local, out=out[k])
        sig[owners[d0:d1]] = out.T

    if threads > 1 and len(cuts) > 2:
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(threads) as pool:
            list(pool.map(run, range(len(cuts) - 1)))
    else:
        for j in range(len(cuts) - 1):
            run(j)
    return sig


def candidate_pairs(sig: np.ndarray, bands: int, rows: int, salt: np.ndarray | None = None,
                    seed: int = 0, max_bucket_pairs: int = 20) -> np.ndarray:
    """Unique (i, j), i < j, of documents that share a band; ``salt`` splits buckets further.

    ``salt`` is how number-awareness reaches the LSH: documents with different numbers never
    share a bucket. A bucket of m documents gives all pairs when m <= ``max_bucket_pairs``,
    else each member paired with its first (confirmation is transitive through union-find).
    """
    n = sig.shape[0]
    if bands * rows > sig.shape[1]:
        raise ValueError(f"{bands} bands x {rows} rows needs {bands * rows} permutations, have {sig.shape[1]}")
    mult = _rng_u64(seed + 104729, rows)
    found: list[np.ndarray] = []
    with np.errstate(over="ignore"):
        for band in range(bands):
            block = sig[:, band * rows:(band + 1) * rows]
            key = (block * mult).sum(axis=1, dtype=np.uint64) + np.uint64(band)
            if salt is not None:
                key ^= salt
            order = np.argsort(key, kind="stable")
            sk = key[order]
            edge = np.r_[True, sk[1:] != sk[:-1]]
            run_id = np.cumsum(edge) - 1
            run_start = np.flatnonzero(edge)
            run_len = np.diff(np.r_[run_start, n])
            multi = run_len[run_id] > 1
            if not multi.any():
                continue
            first = order[run_start[run_id]]
            star = np.stack([first[multi], order[multi]], axis=1)
            star = star[star[:, 0] != star[:, 1]]
            found.append(star)
            for s, m in zip(run_start[(run_len > 2) & (run_len <= max_bucket_pairs)],
                            run_len[(run_len > 2) & (run_len <= max_bucket_pairs)], strict=True):
                members = order[s:s + m]
                ii, jj = np.triu_indices(m, 1)
                found.append(np.stack([members[ii], members[jj]], axis=1))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    pairs = np.concatenate(found).astype(np.int64)
    pairs = np.sort(pairs, axis=1)
    keys = np.unique(pairs[:, 0] * n + pairs[:, 1])
    return np.stack([keys // n, keys % n], axis=1)


def text_salt(values: list[str]) -> np.ndarray:
    """A 64-bit hash per string, to pass as ``salt`` (e.g. each problem's numbers)."""
    return np.fromiter((xxhash.xxh64_intdigest(v) for v in values), dtype=np.uint64, count=len(values))
