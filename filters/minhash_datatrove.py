"""Near-dup candidates from datatrove's MinHash stages, for inputs that outgrow one process.

Two of datatrove's defaults are wrong for problem sets and are changed here: it rewrites
every digit to 0 (merging problems that differ only in numbers), and its spaCy word
tokenizer costs most of the signature time while a regex tokenizer gives the same words.
The steps run in process, one bucket after another; on a cluster the same steps run under
datatrove's executors. Pairs across math signatures are dropped afterwards (datatrove's
buckets cannot be split by them).
"""

from __future__ import annotations

import inspect
import re
import struct
import tempfile
from collections import deque
from pathlib import Path
from typing import Any

import numpy as np

_WORDS = re.compile(r"[\u3400-\u9fff\u3040-\u30ff\uac00-\ud7af]|[^\W_]+|\\[A-Za-z]+|[^\w\s]")


def _drain(result: Any) -> None:
    if inspect.isgenerator(result):
        deque(result, maxlen=0)


def _regex_tokenizer() -> Any:
    from datatrove.utils.word_tokenizers import WordTokenizer

    class RegexTokenizer(WordTokenizer):
        """Words, CJK characters and symbols (the same units as ``filters.dedup.tokens``)."""

        def word_tokenize(self, text: str) -> list[str]:
            return _WORDS.findall(text)

        def sent_tokenize(self, text: str) -> list[str]:
            return [text]

        def span_tokenize(self, text: str) -> list[tuple[int, int]]:
            return [m.span() for m in _WORDS.finditer(text)]

    return RegexTokenizer()


def datatrove_pairs(norm: list[str], signature: list[str], params: Any) -> np.ndarray:
    """Candidate pairs (i < j) from datatrove's signature + bucket stages, same-signature only."""
    try:
        from datatrove.data import Document
        from datatrove.pipeline.dedup.minhash import MinhashConfig, MinhashDedupBuckets, MinhashDedupSignature
        from datatrove.utils.text import TextNormConfig
    except ImportError as err:
        raise RuntimeError(f"dedup engine 'datatrove' could not import datatrove ({err}); "
                           "pip install 'datatrove>=0.4' regex tokenizers, or use engine='numpy'") from err
    config = MinhashConfig(n_grams=params.ngram, num_buckets=params.bands, hashes_per_bucket=params.rows,
                           seed=params.seed + 1, norm_config=TextNormConfig(norm_numbers=False))
    with tempfile.TemporaryDirectory() as tmp:
        sigs, dups = Path(tmp) / "sigs", Path(tmp) / "dups"
        step = MinhashDedupSignature(output_folder=str(sigs), config=config)
        step.word_tokenizer = _regex_tokenizer()
        _drain(step.run((Document(text=t, id=str(i)) for i, t in enumerate(norm)), 0, 1))
        buckets = MinhashDedupBuckets(input_folder=str(sigs), output_folder=str(dups), config=config)
        for b in range(params.bands):
            _drain(buckets.run(None, b, params.bands))
        found: list[tuple[int, int]] = []
        for f in sorted(dups.glob("*.dups")):
            data = f.read_bytes()
            for _f1, d1, _f2, d2 in struct.iter_unpack("<4I", data):
                if signature[d1] == signature[d2] and d1 != d2:
                    found.append((min(d1, d2), max(d1, d2)))
    if not found:
        return np.zeros((0, 2), dtype=np.int64)
    return np.unique(np.array(found, dtype=np.int64), axis=0)
