"""Cache-first generation: look up every sample, send only what is missing, store as it arrives.

``Generator`` is what the ``Generate`` stage uses; ``complete`` is the one-call synchronous
form other stages (consensus, judges, guess tests) use to send a list of chat requests
through any backend with the same durable cache.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from pathlib import Path
from typing import Any, Literal

from curator.generation.parsing import to_sample
from curator.generation.progress import GenerationProgress
from curator.generation.request_cache import RequestCache, request_key
from curator.generation.types import Backend, BackendStats, Completion, Job, Sampling

Truncation = Literal["keep", "drop", "retry"]
Messages = list[dict[str, str]]


def _stats_delta(before: dict[str, Any], after: BackendStats) -> dict[str, Any]:
    now = asdict(after)
    out: dict[str, Any] = {k: now[k] - before.get(k, 0) for k in ("requests", "retries", "filled")}
    errors = {k: v - before.get("errors", {}).get(k, 0) for k, v in now["errors"].items()}
    out["errors"] = {k: v for k, v in errors.items() if v}
    return out


class Generator:
    """A backend behind a request cache, with progress. One per stage run (or per ``complete`` call)."""

    def __init__(self, backend: Backend, cache: RequestCache | str | Path | None = None,
                 console: Any = None, label: str = "generate") -> None:
        self.backend = backend
        self.cache = cache if isinstance(cache, RequestCache) else RequestCache(cache)
        self.console = console
        self.label = label

    def _run(self, conversations: list[Messages], k: int, sampling: Sampling,
             results: list[dict[int, Completion]], wanted: list[list[int]], progress: GenerationProgress) -> int:
        """Fill ``results[i][idx]`` for every wanted index, from the cache or the backend; returns cache hits."""
        identity = self.backend.identity()
        keys = {(i, idx): request_key(identity, conversations[i], sampling, idx)
                for i, idxs in enumerate(wanted) for idx in idxs}
        hits = self.cache.get_many(list(keys.values()))
        jobs: list[Job] = []
        for i, idxs in enumerate(wanted):
            missing = []
            for idx in idxs:
                cached = hits.get(keys[(i, idx)])
                if cached is None:
                    missing.append(idx)
                else:
                    results[i][idx] = cached
            if missing:
                jobs.append(Job(conversations[i], missing, sampling, tag=i))
        progress.advance(len(keys) - sum(len(j.indices) for j in jobs), cached=True)

        def on_result(job: Job, c: Completion) -> None:
            results[job.tag][c.index] = c
            self.cache.put(keys[(job.tag, c.index)], c)  # committed before anything else happens
            progress.advance(1, tokens=c.completion_tokens or 0, error=c.error is not None)

        if jobs:
            self.backend.run(jobs, on_result)
        for job in jobs:  # a backend that lost a sample must not lose it silently
            for idx in job.indices:
                results[job.tag].setdefault(idx, Completion(index=idx, error="backend returned no result"))
        return len(hits)

    def generate(self, conversations: list[Messages], k: int, sampling: Sampling, *,
                 truncation: Truncation = "keep", retry_max_tokens: int | None = None,
                 ) -> tuple[list[list[Completion]], dict[str, Any]]:
        """k completions per conversation (index order) and a report for the funnel."""
        t0 = time.perf_counter()
        before = asdict(getattr(self.backend, "stats", BackendStats()))
        results: list[dict[int, Completion]] = [{} for _ in conversations]
        total = len(conversations) * k
        with GenerationProgress(self.console, self.label, total) as progress:
            hits = self._run(conversations, k, sampling, results, [list(range(k))] * len(conversations), progress)
            retried = 0
            if truncation == "retry":
                # once, with a larger budget; the answer replaces the truncated one whatever it is
                cut = [[idx for idx, c in r.items() if c.finish_reason == "length" and c.error is None]
                       for r in results]
                retried = sum(map(len, cut))
                if retried:
                    bigger = sampling.with_max_tokens(retry_max_tokens or 2 * sampling.max_tokens)
                    progress.grow(retried)
                    hits += self._run(conversations, k, bigger, results, cut, progress)
        out = [[r[idx] for idx in sorted(r)] for r in results]
        flat = [c for row in out for c in row]
        info: dict[str, Any] = {
            "samples_requested": total,
            "cache_hits": hits,
            "samples_ok": sum(c.error is None and c.finish_reason != "length" for c in flat),
            "samples_truncated": sum(c.error is None and c.finish_reason == "length" for c in flat),
            "samples_failed": sum(c.error is not None for c in flat),
            "truncated_retried": retried,
            "prompt_tokens": sum(c.prompt_tokens or 0 for c in flat if not c.cached),
            "completion_tokens": sum(c.completion_tokens or 0 for c in flat if not c.cached),
            "generation_seconds": round(time.perf_counter() - t0, 3),
        }
        if hasattr(self.backend, "stats"):
            delta = _stats_delta(before, self.backend.stats)
            info.update(requests_sent=delta["requests"], request_retries=delta["retries"],
                        filled_by_single_requests=delta["filled"])
            if delta["errors"]:
                info["errors"] = delta["errors"]
        return out, info


def complete(backend: Backend | str, conversations: list[Messages], *, n: int = 1, temperature: float = 0.0,
             top_p: float = 1.0, max_tokens: int = 512, seed: int = 0,
             cache: RequestCache | str | Path | None = None, console: Any = None) -> list[list[dict[str, Any]]]:
    """Send chat requests through ``backend`` (an object or a ``make_backend`` kind) with the cache.

    Returns, per conversation, ``n`` parsed samples (dicts with ``text``, ``reasoning``,
    ``final``, ``status``, ``error`` ...). Failed requests come back as ``status == "failed"``.
    """
    if isinstance(backend, str):
        from curator.generation.backends import make_backend

        backend = make_backend(backend)
    gen = Generator(backend, cache, console, label="complete")
    try:
        out, _ = gen.generate(conversations, n, Sampling(temperature, top_p, max_tokens, seed))
    finally:
        if not isinstance(cache, RequestCache):
            gen.cache.close()  # ours: opened for this call
    return [[to_sample(c) for c in row] for row in out]
