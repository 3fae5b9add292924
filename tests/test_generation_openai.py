"""The openai backend against a real OpenAI-compatible server: llama-cpp-python's, on 127.0.0.1.

That server silently ignores ``n`` (one choice per request): the backend must notice and fill
the missing samples with seeded single requests, and say so in the stage info.
"""

from __future__ import annotations

import json

import polars as pl
import pytest

from curator import Pipeline
from curator.generation import Generate, complete, make_backend
from curator.generation.backends.embedded import model_file
from tests.servers.llama import llama_cpp_server

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def server_url():
    with llama_cpp_server(model_file("smollm2-135m"), alias="smollm2-135m") as url:
        yield url


def test_ignored_n_is_detected_and_filled(tmp_path, server_url):
    df = pl.DataFrame({"problem": ["What is 6 + 8?", "What is 2 + 3?"], "language": ["en", "en"]})
    backend = make_backend("openai", model="smollm2-135m", base_url=server_url, concurrency=2, timeout=120)
    out = Pipeline("oa", df, [Generate(backend=backend, k=3, max_tokens=16, template="brief")], finishers=()).run(
        tmp_path / "o", quiet=True)
    for samples in out["samples"].to_list():
        assert len(samples) == 3 and all(s["status"] in ("ok", "truncated") for s in samples)
        assert [s["seed"] for s in samples] == [0, 1, 2]  # choice 0 of the n-request had seed 0, then singles
        assert all(s["model"] and s["completion_tokens"] for s in samples)
    info = next(s for s in json.loads((tmp_path / "o" / "funnel.json").read_text())["stages"]
                if s["stage"] == "generate")["info"]
    assert info["filled_by_single_requests"] == 2 * 2 and info["requests_sent"] == 6


def test_complete_helper_shares_the_cache(tmp_path, server_url):
    backend = make_backend("openai", model="smollm2-135m", base_url=server_url, timeout=120)
    convs = [[{"role": "user", "content": "Say hi."}], [{"role": "user", "content": "Say bye."}]]
    first = complete(backend, convs, max_tokens=8, cache=tmp_path / "r.sqlite")
    sent = backend.stats.requests
    second = complete(backend, convs, max_tokens=8, cache=tmp_path / "r.sqlite")
    assert backend.stats.requests == sent == 2
    assert [r[0]["text"] for r in first] == [r[0]["text"] for r in second]
    assert all(r[0]["status"] in ("ok", "truncated") for r in first)


def test_vllm_without_vllm_says_how_to_install():
    try:
        import vllm  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match=r"pip install 'reasoning-curator\[vllm\]'"):
            make_backend("vllm", model="any")
    else:
        pytest.skip("vllm is installed here")
