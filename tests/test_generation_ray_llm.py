"""The ray_llm backend: ``ray.data.llm`` runs the requests, the ``Generate`` stage keeps its cache.

Pure tests of the row <-> completion mapping; then, on one real local Ray cluster
(``ray.init(num_cpus=2)``), the http engine against llama-cpp-python's OpenAI-compatible server
with the embedded model, and against the scripted server for failed rows. The vllm engine
needs vLLM and a GPU: here only its install hint is checked.
"""

from __future__ import annotations

import json
import pickle

import numpy as np
import polars as pl
import pytest
import ray

from curator import Pipeline
from curator.core.sources import ReadProblems
from curator.generation import Generate, RequestCache, Sampling, backend_from_params, make_backend
from curator.generation.backends import KINDS
from curator.generation.backends.embedded import model_file
from curator.generation.backends.ray_llm import (
    describe_failure,
    http_postprocess,
    job_rows,
    preprocess,
    to_completion,
    vllm_postprocess,
)
from curator.generation.types import Job
from tests.servers.llama import llama_cpp_server
from tests.servers.openai_fake import serve

try:
    import vllm  # noqa: F401

    HAS_VLLM = True
except ImportError:
    HAS_VLLM = False

MESSAGES = [{"role": "user", "content": "What is 2 + 3?"}]


def _jobs():
    return [Job(MESSAGES, [0, 1], Sampling(temperature=0.5, max_tokens=16, seed=7), tag=3),
            Job([{"role": "user", "content": "Say hi."}], [3], Sampling(max_tokens=8), tag=9)]


# -- rows <-> completions ------------------------------------------------------------------------
def test_one_row_per_sample_with_n1_and_the_per_index_seed():
    rows = job_rows(_jobs(), "http", "m", {"top_k": 20})
    assert [(r["job"], r["index"], r["seed"], r["max_tokens"]) for r in rows] == [
        (0, 0, 7, 16), (0, 1, 8, 16), (1, 3, 3, 8)]
    payload = preprocess(rows[1])["payload"]
    assert payload == {"model": "m", "messages": MESSAGES, "temperature": 0.5, "top_p": 1.0, "max_tokens": 16,
                       "seed": 8, "n": 1, "top_k": 20}
    vllm_row = preprocess(job_rows(_jobs(), "vllm", "m")[2])
    assert vllm_row["messages"] == [{"role": "user", "content": "Say hi."}]
    assert vllm_row["sampling_params"] == {"temperature": 0.7, "top_p": 1.0, "max_tokens": 8, "seed": 3, "n": 1}
    assert job_rows([Job(MESSAGES, [], Sampling())], "http", "m") == []


def _http_row(response, index=1, seed=8):
    # what the http stage leaves in a row: the inputs, the request columns and the server's JSON
    row = {"job": 0, "index": index, "seed": seed, "max_tokens": 16, "request": "{}", "payload": {},
           "http_response": response}
    return http_postprocess(row)


def test_http_answer_becomes_a_single_seeded_completion():
    response = {"id": "x", "model": "served-name", "error": None,  # Arrow gives every row every key
                "choices": np.array([{"index": 0, "finish_reason": "length",
                                      "message": {"role": "assistant", "content": "<think>2+3</think> 5",
                                                  "reasoning_content": None}}], dtype=object),
                "usage": {"prompt_tokens": np.int64(12), "completion_tokens": 16, "total_tokens": 28}}
    row = _http_row(response)
    assert set(row) == {"job", "index", "seed", "max_tokens", "response"}
    c = to_completion(row, "m")
    assert (c.index, c.seed, c.via, c.error) == (1, 8, "single", None)
    assert (c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens, c.model) == (
        "<think>2+3</think> 5", "length", 12, 16, "served-name")
    with_reasoning = {**response, "choices": [{"finish_reason": "stop", "message": {
        "content": "5", "reasoning_content": "2 and 3 make 5"}}]}
    c = to_completion(_http_row(with_reasoning), "m")
    assert (c.reasoning, c.text, c.finish_reason) == ("2 and 3 make 5", "5", "stop")


@pytest.mark.parametrize(("response", "kind"), [
    ({"id": None, "choices": None, "error": {"message": "context length exceeded", "code": 400}}, "http error"),
    ({"error": "model not found"}, "http error"),
    ({"id": "x", "choices": [], "error": None}, "empty choices"),
    (None, "malformed response"),
])
def test_a_failed_http_row_is_a_completion_with_its_error(response, kind):
    c = to_completion(_http_row(response, index=4, seed=11), "m")
    assert c.error and c.error.startswith(kind) and (c.index, c.seed, c.text) == (4, 11, None)
    cache = RequestCache(None)
    cache.put("k", c)
    assert len(cache) == 0  # failures are never cached: the next run asks again


def test_vllm_rows_and_inference_errors():
    row = {"job": 1, "index": 2, "seed": 9, "max_tokens": 16, "generated_text": "5", "num_input_tokens": 30,
           "num_generated_tokens": np.int64(4), "prompt": "...", "generated_tokens": [1, 2, 3, 4]}
    c = to_completion(vllm_postprocess(row), "qwen")
    assert (c.text, c.finish_reason, c.prompt_tokens, c.completion_tokens, c.model, c.seed, c.via) == (
        "5", "stop", 30, 4, "qwen", 9, "single")
    cut = to_completion(vllm_postprocess({**row, "num_generated_tokens": 16}), "qwen")
    assert cut.finish_reason == "length"  # ray.data.llm gives no finish reason: the whole budget = cut
    ok_row = {**vllm_postprocess(row), "__inference_error__": ""}  # success rows carry an empty error column
    assert to_completion(ok_row, "qwen").error is None
    failed = {**row, "generated_text": "", "num_generated_tokens": 0, "__inference_error__": "ValueError: too long"}
    c = to_completion(failed, "qwen")  # error rows skip postprocess and keep every column
    assert (c.index, c.seed, c.text, c.error) == (2, 9, None, "ray.data.llm: ValueError: too long")


def test_describe_failure_names_the_root_cause():
    remote = RuntimeError(  # how Ray re-raises a worker's exception: the remote traceback as text
        "\x1b[36mray::MapWorker(MapBatches(HttpRequestUDF)).submit()\x1b[39m (pid=1)\n"
        '  File "http_request_stage.py", line 195, in udf\n'
        "json.decoder.JSONDecodeError: Expecting value: line 1 column 48 (char 47)\n\n"
        "The above exception was the direct cause of the following exception:\n\n"
        "ray.exceptions.UserCodeException: UDF failed to process a data block.\n"
        "To change retry attempts, configure ...")
    assert describe_failure(remote) == "JSONDecodeError: Expecting value: line 1 column 48 (char 47)"
    try:
        try:
            json.loads("{")
        except ValueError as inner:
            raise RuntimeError("the task failed\n  more") from inner
    except RuntimeError as err:
        assert describe_failure(err).startswith("JSONDecodeError: Expecting property name")


# -- the backend object ----------------------------------------------------------------------------
def test_identity_has_no_url_nor_key(monkeypatch):
    monkeypatch.setenv("RAY_LLM_TEST_KEY", "sk-secret")
    b = make_backend("ray_llm", engine="http", model="m", url="http://10.0.0.1:8000/v1",
                     api_key_env="RAY_LLM_TEST_KEY")
    assert "ray_llm" in KINDS
    assert b.identity() == {"kind": "ray_llm", "engine": "http", "model": "m"}
    assert "10.0.0.1" not in repr(b.identity()) and "sk-secret" not in repr(b) + repr(pickle.dumps(b))
    assert b.endpoint() == "http://10.0.0.1:8000/v1/chat/completions"
    assert make_backend("ray_llm", engine="http", model="m", url="http://h/v1/chat/completions").endpoint() == \
        "http://h/v1/chat/completions"
    same_elsewhere = make_backend("ray_llm", engine="http", model="m", url="http://10.0.0.2:9000/v1")
    assert same_elsewhere.identity() == b.identity()
    assert make_backend("ray_llm", engine="http", model="m", url="http://h/v1",
                        extra_params={"top_k": 20}).identity()["extra_params"] == {"top_k": 20}
    # config fields that may change outputs are in the key; speed-only ones are not
    tuned = make_backend("ray_llm", engine="http", model="m", url="http://h/v1",
                         config_kwargs={"chat_template": "{{ messages }}", "max_concurrent_batches": 8})
    assert tuned.identity()["config_kwargs"] == {"chat_template": "{{ messages }}"}


def test_extra_params_cannot_override_the_per_sample_request():
    for key in ("n", "seed"):
        with pytest.raises(ValueError, match="may not set"):
            make_backend("ray_llm", engine="http", model="m", url="http://h/v1", extra_params={key: 4})


def test_http_options_are_checked():
    with pytest.raises(ValueError, match="needs url="):
        make_backend("ray_llm", engine="http", model="m")
    with pytest.raises(ValueError, match="not in the URL"):
        make_backend("ray_llm", engine="http", model="m", url="http://user:pw@h/v1")
    with pytest.raises(ValueError, match="engine must be one of"):
        make_backend("ray_llm", engine="sglang", model="m")
    b = backend_from_params("ray_llm", "m", "http://127.0.0.1:8000/v1")
    assert (b.engine, b.url) == ("http", "http://127.0.0.1:8000/v1")
    with pytest.raises(ValueError, match="one endpoint"):
        backend_from_params("ray_llm", "m", "http://a/v1,http://b/v1")


@pytest.mark.skipif(HAS_VLLM, reason="vllm is installed here")
def test_vllm_engine_without_vllm_says_how_to_install():
    for build in (lambda: make_backend("ray_llm", model="Qwen/Qwen2.5-0.5B-Instruct"),
                  lambda: backend_from_params("ray_llm", "Qwen/Qwen2.5-0.5B-Instruct", "")):
        with pytest.raises(ImportError, match=r"pip install 'ray\[llm\]'") as info:
            build()
        assert "\n" not in str(info.value)


# -- a real local Ray cluster ----------------------------------------------------------------------
@pytest.fixture(scope="module")
def cluster():
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.fixture(scope="module")
def llama_url():
    with llama_cpp_server(model_file("smollm2-135m"), alias="smollm2-135m") as url:
        yield url


def _info(out):
    return next(s for s in json.loads((out / "funnel.json").read_text())["stages"] if s["stage"] == "generate")["info"]


@pytest.mark.slow
def test_generate_through_ray_data_then_all_from_the_request_cache(cluster, llama_url, tmp_path):
    backend = make_backend("ray_llm", engine="http", model="smollm2-135m", url=llama_url, batch_size=2,
                           concurrency=1)

    def build(out):
        # 32 tokens: the embedded model's seeded answers here end by themselves (28 tokens); at 16 they are cut
        stage = Generate(backend=backend, k=2, max_tokens=32, template="brief", progress=False)
        return Pipeline("ray_llm", ReadProblems(limit=3), [stage], finishers=()).run(
            out, quiet=True, request_cache=tmp_path / "requests.sqlite")

    first = build(tmp_path / "a")
    assert first.height == 3
    for samples in first["samples"].to_list():
        assert len(samples) == 2
        assert [s["seed"] for s in samples] == [0, 1]
        assert all(s["status"] == "ok" and s["text"] and s["completion_tokens"] for s in samples), samples
    info = _info(tmp_path / "a")
    assert (info["requests_sent"], info["cache_hits"], info["samples_ok"]) == (6, 0, 6)
    assert backend.stats.requests == 6 and not backend.stats.errors
    assert ray.is_initialized()  # the stage closed its backend, which leaves a Ray it did not start running

    second = build(tmp_path / "b")  # a fresh stage cache, the same request cache
    assert backend.stats.requests == 6  # nothing reached Ray nor the server
    info = _info(tmp_path / "b")
    assert (info["requests_sent"], info["cache_hits"]) == (0, 6)
    assert second["samples"].to_list() == first["samples"].to_list()


@pytest.mark.slow
def test_failed_rows_become_failed_samples_and_are_asked_again(cluster, tmp_path):
    def fault(number, req):  # the first time the second sample of "fail once" is asked
        return "500" if "fail once" in req["messages"][-1]["content"] and req["seed"] == 1 and number <= 4 else None

    df = pl.DataFrame({"problem": ["fine", "fail once"]})
    with serve(fault=fault) as server:
        backend = make_backend("ray_llm", engine="http", model="fake", url=server.base_url, batch_size=1)

        def build(out):
            stage = Generate(backend=backend, k=2, max_tokens=16, template="brief", progress=False)
            return Pipeline("faults", df, [stage], finishers=()).run(out, quiet=True,
                                                                        request_cache=tmp_path / "r.sqlite")

        first = build(tmp_path / "a")
        statuses = [[s["status"] for s in row] for row in first["samples"].to_list()]
        assert statuses == [["ok", "ok"], ["ok", "failed"]]
        failed = first["samples"].to_list()[1][1]
        assert failed["error"].startswith("http error: boom") and failed["seed"] == 1
        assert _info(tmp_path / "a")["errors"] == {"http error": 1}
        second = build(tmp_path / "b")  # only the failed sample is sent again
        assert server.requests == 5 and backend.stats.requests == 5
        assert [[s["status"] for s in row] for row in second["samples"].to_list()] == [["ok", "ok"], ["ok", "ok"]]


@pytest.mark.slow
def test_a_failed_execution_loses_no_sample(cluster):
    # a malformed body makes ray.data.llm's http stage raise: the whole execution stops there
    with serve(fault=lambda number, req: "malformed") as server:
        backend = make_backend("ray_llm", engine="http", model="fake", batch_size=1, url=server.base_url)
        got = []
        backend.run([Job(MESSAGES, [0, 1], Sampling(max_tokens=8))], lambda job, c: got.append(c))
    assert sorted(c.index for c in got) == [0, 1]
    assert all(c.error and c.error.startswith("ray.data.llm: JSONDecodeError: ") for c in got), got
    assert backend.stats.errors == {"ray.data.llm": 2}
