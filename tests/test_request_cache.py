"""The durable request cache: keys, persistence across processes, no secrets, re-parse without calls."""

from __future__ import annotations

import sqlite3

import polars as pl

from curator import Pipeline
from curator.generation import Generate, RequestCache, Sampling, make_backend, request_key
from curator.generation.client import Generator, complete
from curator.generation.types import Completion
from tests.servers.openai_fake import serve

MSGS = [{"role": "user", "content": "What is 2+2?"}]
IDENT = {"kind": "openai", "model": "m"}


def test_key_depends_on_every_part():
    base = request_key(IDENT, MSGS, Sampling(), 0)
    assert base == request_key(dict(IDENT), [dict(MSGS[0])], Sampling(), 0)
    assert base != request_key(IDENT, MSGS, Sampling(), 1)
    assert base != request_key(IDENT, MSGS, Sampling(max_tokens=9), 0)
    assert base != request_key(IDENT, MSGS, Sampling(temperature=1.0), 0)
    assert base != request_key({"kind": "openai", "model": "other"}, MSGS, Sampling(), 0)
    assert base != request_key(IDENT, [{"role": "user", "content": "What is 2+3?"}], Sampling(), 0)


def test_persists_and_skips_failures(tmp_path):
    path = tmp_path / "r.sqlite"
    cache = RequestCache(path)
    cache.put("a", Completion(index=0, text="hello", finish_reason="stop", model="m"))
    cache.put("b", Completion(index=1, error="http 500"))
    cache.close()
    again = RequestCache(path)
    got = again.get_many(["a", "b", "c"])
    assert list(got) == ["a"] and got["a"].text == "hello" and got["a"].cached
    assert sqlite3.connect(path).execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_api_key_never_stored(tmp_path, monkeypatch):
    secret = "sk-test-do-not-store-1234567890"
    monkeypatch.setenv("MY_KEY", secret)
    with serve() as server:
        backend = make_backend("openai", model="m", base_url=server.base_url, api_key_env="MY_KEY")
        assert secret not in str(backend.identity()) and secret not in repr(backend)
        complete(backend, [MSGS], n=2, max_tokens=8, cache=tmp_path / "r.sqlite")
    blob = b"".join(p.read_bytes() for p in tmp_path.glob("r.sqlite*"))
    assert secret.encode() not in blob


def test_second_generator_makes_no_calls(tmp_path):
    with serve() as server:
        backend = make_backend("openai", model="m", base_url=server.base_url)
        convs = [[{"role": "user", "content": f"q{i}"}] for i in range(5)]
        first, info1 = Generator(backend, tmp_path / "r.sqlite").generate(convs, 3, Sampling(max_tokens=8))
        calls = server.requests
        second, info2 = Generator(backend, tmp_path / "r.sqlite").generate(convs, 3, Sampling(max_tokens=8))
        assert server.requests == calls and info2["cache_hits"] == 15 and info1["cache_hits"] == 0
        assert [[c.text for c in r] for r in first] == [[c.text for c in r] for r in second]


def test_parser_change_reparses_cached_responses(tmp_path):
    """Dropping the stage cache (what a code change does) reruns the stage from the request cache."""
    df = pl.DataFrame({"problem": [f"What is {i} + 1?" for i in range(4)]})
    with serve() as server:
        stage = Generate(backend=make_backend("openai", model="m", base_url=server.base_url), k=2, max_tokens=16)
        pipe = Pipeline("p", df, [stage], finishers=())
        out1 = pipe.run(tmp_path / "out", quiet=True)
        calls = server.requests
        import shutil

        shutil.rmtree(tmp_path / "out" / ".work" / "stages")
        out2 = pipe.run(tmp_path / "out", quiet=True)
        assert server.requests == calls
    assert out1["samples"].to_list() == out2["samples"].to_list()
    assert out2["samples"].list.len().to_list() == [2, 2, 2, 2]
