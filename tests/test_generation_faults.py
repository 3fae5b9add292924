"""Fault injection: a real misbehaving OpenAI-compatible server on loopback.

Every fault kind is served to some problem's first attempt (429 with Retry-After, 500, a hang
past the client timeout, a dropped connection, malformed JSON, empty choices, a wrong-shaped
body, an error body with status 200); one problem
fails on every attempt. The run must complete, every problem must have its k samples or
recorded failures, and nothing may be duplicated.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time

import polars as pl
import pytest

from curator import Pipeline
from curator.generation import Generate, make_backend
from curator.generation.backends.ratelimit import RateLimiter
from tests.servers.openai_fake import FAULTS, serve

K = 3


class Script:
    """First attempt of problem i gets FAULTS[i % len(FAULTS)]; the problem 'always fails' always gets 500."""

    def __init__(self) -> None:
        self.attempts: dict[str, list[float]] = {}
        self.lock = threading.Lock()

    def __call__(self, number: int, req: dict) -> str | None:
        prompt = req["messages"][-1]["content"]
        with self.lock:
            seen = self.attempts.setdefault(f"{prompt}|{req.get('seed')}|{req.get('n')}", [])
            seen.append(time.monotonic())
            first = len(seen) == 1
        if "always fails" in prompt:
            return "500"
        i = int(prompt.split("#")[1].split()[0])
        return FAULTS[i % len(FAULTS)] if first else None


def test_every_fault_is_survived_and_recorded(tmp_path):
    problems = [f"Problem #{i} about sums" for i in range(12)] + ["This one always fails"]
    df = pl.DataFrame({"problem": problems})
    script = Script()
    with serve(fault=script, hang_seconds=4.0, retry_after="0.3") as server:
        backend = make_backend("openai", model="fake", base_url=server.base_url, timeout=1.0, max_retries=3,
                               backoff_base=0.05, backoff_max=0.2, concurrency=8)
        out = Pipeline("faults", df, [Generate(backend=backend, k=K, max_tokens=32)], finishers=()).run(tmp_path / "o", quiet=True)
        assert set(server.faults_served) == set(FAULTS)
    assert out.height == len(problems)
    by_problem = dict(zip(out["problem"], out["samples"].to_list(), strict=True))
    for problem, samples in by_problem.items():
        assert len(samples) == K, problem
        texts = [s["text"] for s in samples]
        if "always fails" in problem:
            assert all(s["status"] == "failed" and "http 500" in s["error"] and s["text"] is None for s in samples)
        else:
            assert all(s["status"] == "ok" for s in samples), samples
            assert len(set(texts)) == K  # no choice appears twice
    # Retry-After was honoured: the retry after a 429 came no sooner than it asked
    for key, times in script.attempts.items():
        i = int(key.split("#")[1].split()[0]) if "#" in key else -1
        if i >= 0 and FAULTS[i % len(FAULTS)] == "429":
            assert times[1] - times[0] >= 0.3
    import json

    info = next(s for s in json.loads((tmp_path / "o" / "funnel.json").read_text())["stages"]
                if s["stage"] == "generate")["info"]
    assert info["samples_failed"] == K and info["samples_ok"] == K * 12
    assert {"http 429", "http 500", "timeout", "connection", "malformed response", "empty choices"} <= set(info["errors"])


def test_ignored_n_is_filled_with_seeded_singles(tmp_path):
    df = pl.DataFrame({"problem": ["What is 1 + 1?", "What is 2 + 2?"]})
    with serve(honour_n=False) as server:
        backend = make_backend("openai", model="fake", base_url=server.base_url)
        stage = Generate(backend=backend, k=4, max_tokens=16)
        out = Pipeline("n", df, [stage], finishers=()).run(tmp_path / "o", quiet=True)
        assert server.requests == 2 * 4  # one n-request answered with 1 choice + 3 seeded singles, per problem
        assert sorted(r.get("seed") for r in server.answered if "1 + 1" in r["messages"][-1]["content"]) == [0, 1, 2, 3]
    for samples in out["samples"].to_list():
        assert len(samples) == 4 and len({s["text"] for s in samples}) == 4
    assert backend.stats.filled == 6


def test_endpoints_are_load_balanced(tmp_path):
    df = pl.DataFrame({"problem": [f"q{i}" for i in range(20)]})
    with serve(delay=0.02) as a, serve(delay=0.02) as b:
        backend = make_backend("openai", model="fake", base_url=[a.base_url, b.base_url], concurrency=2)
        Pipeline("lb", df, [Generate(backend=backend, k=2, max_tokens=8)], finishers=()).run(tmp_path / "o", quiet=True)
        assert a.requests + b.requests == 20 and min(a.requests, b.requests) >= 5


def test_rate_limiter_spaces_requests():
    async def go() -> float:
        limiter = RateLimiter(rpm=120)
        t0 = time.monotonic()
        for _ in range(123):  # a full minute's bucket of 120, then 2 per second
            await limiter.acquire(1)
        return time.monotonic() - t0

    assert 1.2 <= asyncio.run(go()) < 3.0


def _length_limited(req: dict) -> dict:
    """Answers fit in 20 tokens: a smaller budget is cut off (finish_reason length)."""
    if req["max_tokens"] < 20:
        return {"text": "<think>still thinking", "finish_reason": "length"}
    return {"text": f"<think>done</think> \\boxed{{{req['seed']}}}", "finish_reason": "stop"}


def test_truncation_policies(tmp_path):
    import json

    df = pl.DataFrame({"problem": ["a", "b"]})
    with serve(_length_limited) as server:
        backend = make_backend("openai", model="fake", base_url=server.base_url)
        keep = Pipeline("keep", df, [Generate(backend=backend, k=2, max_tokens=10)], finishers=()).run(
            tmp_path / "keep", quiet=True)
        assert {s["status"] for r in keep["samples"].to_list() for s in r} == {"truncated"}
        assert keep["samples"].to_list()[0][0]["reasoning"] == "still thinking"
        drop = Pipeline("drop", df, [Generate(backend=backend, k=2, max_tokens=10, truncation="drop")],
                        finishers=()).run(tmp_path / "drop", quiet=True)
        assert drop["samples"].list.len().to_list() == [0, 0] and drop.height == 2
        funnel = json.loads((tmp_path / "drop" / "funnel.json").read_text())["stages"][-1]
        assert funnel["samples_dropped"] == {"truncated": 4} and funnel["samples_added"] == 4
        before = server.requests
        retry = Pipeline("retry", df, [Generate(backend=backend, k=2, max_tokens=10, truncation="retry")],
                         finishers=()).run(tmp_path / "retry", quiet=True)
        assert server.requests - before == 4  # per problem: one n=2 request at 10 tokens, one n=2 retry at 20
        assert {s["status"] for r in retry["samples"].to_list() for s in r} == {"ok"}


def test_content_parts_are_joined_and_wrong_shapes_are_malformed():
    from curator.generation.backends.openai_compat import classify, response_json

    parts = {"choices": [{"message": {"content": [{"type": "text", "text": "4"}, {"type": "text", "text": "2"}]}}]}
    assert response_json(json.dumps(parts).encode())["choices"][0]["message"]["content"] == "42"
    for bad in ({"choices": [{"message": None}]}, {"choices": [{"message": {"content": 7}}]},
                {"choices": [{"message": {"content": "x"}}], "usage": "many"}, [1, 2]):
        with pytest.raises(ValueError) as err:
            response_json(json.dumps(bad).encode())
        assert classify(err.value) == ("malformed response", True)
