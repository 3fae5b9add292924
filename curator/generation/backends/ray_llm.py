"""Ray Data LLM (``ray.data.llm``): the requests of a batch become a Ray Dataset on a Ray cluster.

Two engines, as ``ray.data.llm`` names its processors: ``vllm`` runs vLLM inside Ray Data
actors on the cluster's GPUs (``vLLMEngineProcessorConfig``), ``http`` sends the requests to
an OpenAI-compatible server from Ray Data actors (``HttpRequestProcessorConfig``). The
``Generate`` stage keeps its request cache, resume, statuses and parsing: only the missing
samples reach this backend, one dataset row per sample (``n=1``, ``seed = seed + index``, the
request cache's per-index key), and every output row is handed back as it streams out.

Ray: when this process is already connected (``ray.init`` done, or inside a Ray task), that
cluster is used; otherwise ``ray.init()`` with its defaults (``RAY_ADDRESS`` names a running
cluster, else a local one starts) and ``close()`` shuts down what it started. Ray's workers
import this module (the row functions are pickled by reference): install reasoning-curator on
every node. Optional: ``pip install 'reasoning-curator[ray-llm]'``; the vllm engine also
needs ``pip install 'ray[llm]'`` (vLLM at the version Ray supports).
"""

from __future__ import annotations

import json
import os
import re
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit

from curator.core.redact import allowed_extra, redact_value, scrub_error
from curator.generation.types import BackendStats, Completion, Job, OnResult

INSTALL_HINT = "the ray_llm backend needs Ray Data LLM: pip install 'reasoning-curator[ray-llm]'"
VLLM_HINT = "the ray_llm backend's vllm engine needs vLLM on a CUDA machine: pip install 'ray[llm]'"
#: vLLM engine arguments that only change speed or placement; every other one is part of the
#: identity (hence of cache keys), since it may change what is generated
THROUGHPUT_ENGINE_KWARGS = frozenset({
    "tensor_parallel_size", "pipeline_parallel_size", "data_parallel_size", "gpu_memory_utilization",
    "max_num_seqs", "max_num_batched_tokens", "enable_chunked_prefill", "enable_prefix_caching",
    "swap_space", "cpu_offload_gb", "distributed_executor_backend", "disable_log_stats", "enforce_eager",
    "block_size", "num_scheduler_steps", "disable_custom_all_reduce",
})
#: ray.data.llm config fields that only change speed or placement (the rest are in the identity)
THROUGHPUT_CONFIG_KWARGS = frozenset({
    "max_concurrent_batches", "runtime_env", "resources_per_bundle", "placement_group_config",
    "experimental", "max_pending_requests", "log_engine_metrics",
})
ENGINES = ("vllm", "http")
_EXCEPTION_LINE = re.compile(r"^(?:[A-Za-z_]\w*\.)*([A-Za-z_]\w*(?:Error|Exception)): (.+)$")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

Engine = Literal["vllm", "http"]


# -- rows <-> completions (pure) -----------------------------------------------------------------
def request(job: Job, index: int, engine: str, model: str, extra_params: dict[str, Any] | None = None
            ) -> dict[str, Any]:
    """The columns ``ray.data.llm``'s first stage needs for sample ``index`` of ``job`` (one choice).

    >>> from curator.generation.types import Sampling
    >>> r = request(Job([{"role": "user", "content": "hi"}], [2], Sampling(seed=10)), 2, "http", "m")
    >>> r["payload"]["seed"], r["payload"]["n"], r["payload"]["model"]
    (12, 1, 'm')
    """
    s = job.sampling
    params: dict[str, Any] = {"temperature": s.temperature, "top_p": s.top_p, "max_tokens": s.max_tokens,
                              "seed": s.seed + index, "n": 1, **(extra_params or {})}
    if engine == "http":
        return {"payload": {"model": model, "messages": job.messages, **params}}
    return {"messages": job.messages, "sampling_params": params}


def job_rows(jobs: list[Job], engine: str, model: str, extra_params: dict[str, Any] | None = None
             ) -> list[dict[str, Any]]:
    """One dataset row per (job, sample index): where it goes back to, and its request as JSON.

    The request travels as a JSON string so that Ray Data's Arrow blocks never have to type
    the messages or the sampling extras; ``preprocess`` unpacks it on the workers.
    """
    return [{"job": j, "index": idx, "seed": job.sampling.seed + idx, "max_tokens": job.sampling.max_tokens,
             "request": json.dumps(request(job, idx, engine, model, extra_params), ensure_ascii=False)}
            for j, job in enumerate(jobs) for idx in job.indices]


def preprocess(row: dict[str, Any]) -> dict[str, Any]:
    """Ray Data ``preprocess``: the request columns of a row (``payload``, or ``messages`` and ``sampling_params``)."""
    return json.loads(row["request"])


def _plain(value: Any) -> Any:
    """JSON fallback for what Arrow hands back (numpy arrays and scalars)."""
    if hasattr(value, "tolist"):
        return value.tolist()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


def _keys(row: dict[str, Any]) -> dict[str, Any]:
    return {k: row[k] for k in ("job", "index", "seed", "max_tokens")}


def http_postprocess(row: dict[str, Any]) -> dict[str, Any]:
    """Ray Data ``postprocess`` of the http engine: the row's keys and the server's JSON answer as text."""
    return {**_keys(row), "response": json.dumps(row.get("http_response"), default=_plain, ensure_ascii=False)}


def vllm_postprocess(row: dict[str, Any]) -> dict[str, Any]:
    """Ray Data ``postprocess`` of the vllm engine: the row's keys, the text and the token counts."""
    return {**_keys(row), "text": row.get("generated_text"), "prompt_tokens": row.get("num_input_tokens"),
            "completion_tokens": row.get("num_generated_tokens")}


def _int(value: Any) -> int | None:
    return None if value is None else int(value)


def _error_text(error: Any) -> str:
    if isinstance(error, dict):
        return str(error.get("message") or json.dumps(error, default=str))
    return str(error)


def to_completion(row: dict[str, Any], model: str) -> Completion:
    """The ``Completion`` of one output row: a success, or one with ``error`` set (never dropped).

    Rows are ``http_postprocess`` / ``vllm_postprocess`` outputs, or the rows ``ray.data.llm``
    marks with ``__inference_error__`` (they skip ``postprocess`` and keep every column).
    """
    index, seed = int(row["index"]), _int(row.get("seed"))
    failed = Completion(index=index, seed=seed, model=model, via="single")
    if row.get("__inference_error__"):
        failed.error = scrub_error(f"ray.data.llm: {row['__inference_error__']}"[:600])
        return failed
    if "response" in row:  # http engine: an OpenAI chat completion, or the server's error body
        try:
            resp = json.loads(row["response"]) if isinstance(row["response"], str) else row["response"]
        except ValueError as err:
            failed.error = f"malformed response: {err}"
            return failed
        if not isinstance(resp, dict):
            failed.error = scrub_error(f"malformed response: {str(resp)[:300]}")
            return failed
        if resp.get("error"):  # Arrow gives every row every key: an absent one is null
            failed.error = scrub_error(f"http error: {_error_text(resp['error'])[:300]}")
            return failed
        choices = resp.get("choices") or []
        if not choices:
            failed.error = "empty choices: the response has no choices"
            return failed
        choice, usage = choices[0] or {}, resp.get("usage") or {}
        message = choice.get("message") or {}
        return Completion(index=index, text=message.get("content") or "",
                          reasoning=message.get("reasoning_content") or message.get("reasoning"),
                          finish_reason=choice.get("finish_reason"), prompt_tokens=_int(usage.get("prompt_tokens")),
                          completion_tokens=_int(usage.get("completion_tokens")), model=resp.get("model") or model,
                          seed=seed, via="single")
    # vllm engine: ray.data.llm reports no finish reason; a sample that used the whole budget was cut
    tokens = _int(row.get("completion_tokens"))
    budget = _int(row.get("max_tokens"))
    finish = "length" if tokens is not None and budget is not None and tokens >= budget else "stop"
    return Completion(index=index, text=row.get("text") or "", finish_reason=finish,
                      prompt_tokens=_int(row.get("prompt_tokens")), completion_tokens=tokens, model=model,
                      seed=seed, via="single")


def error_kind(completion: Completion) -> str:
    """The funnel's error kind of a failed completion (the text before the first colon)."""
    return (completion.error or "").split(":", 1)[0]


def describe_failure(err: BaseException) -> str:
    """One line for a Ray Data execution that raised: the root cause, not Ray's wrapping.

    Ray re-raises a worker's exception as a ``RayTaskError`` whose text holds the remote
    traceback; its first ``SomeError: message`` line is the root cause. Else the innermost
    ``cause`` / ``__cause__``.
    """
    for line in _ANSI.sub("", str(err)).splitlines():
        m = _EXCEPTION_LINE.match(line.strip())
        if m:
            return f"{m.group(1)}: {m.group(2)}"[:300]
    inner: BaseException = err
    for _ in range(10):
        nxt = getattr(inner, "cause", None) or inner.__cause__
        if not isinstance(nxt, BaseException) or nxt is inner:
            break
        inner = nxt
    lines = [ln.strip() for ln in str(inner).splitlines() if ln.strip()]
    return f"{type(inner).__name__}: {lines[-1] if lines else ''}"[:300]


# -- the backend ------------------------------------------------------------------------------
@dataclass
class RayLLMBackend:
    """``model`` through ``ray.data.llm``. Nothing starts until ``run``."""

    model: str
    engine: Engine = "vllm"
    # both engines (ray.data.llm's names): actors (an int, or (min, max) to autoscale) and rows per batch
    concurrency: int | tuple[int, int] = 1
    batch_size: int | None = None  # None: ray.data.llm's default (32 for vllm, 64 for http)
    extra_params: dict[str, Any] = field(default_factory=dict)  # merged into each request's sampling params
    # engine="vllm"
    engine_kwargs: dict[str, Any] = field(default_factory=dict)  # vLLM engine args, e.g. tensor_parallel_size
    accelerator_type: str | None = None  # e.g. "H100"; None: any GPU
    # engine="http": an OpenAI-compatible base URL (http://host:8000/v1); requests go to .../chat/completions
    url: str | None = None
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable at run time, never stored
    qps: int | None = None  # ray.data.llm's rate limit, requests per second within a batch; None: none
    max_retries: int = 3  # ray.data.llm retries 408/429/502/503/504 and dropped connections
    config_kwargs: dict[str, Any] = field(default_factory=dict)  # passed to the processor config as is
    stats: BackendStats = field(default_factory=BackendStats, repr=False, compare=False)
    _started_ray: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.engine not in ENGINES:
            raise ValueError(f"ray_llm backend: engine must be one of {ENGINES}, got {self.engine!r}")
        reserved = {"n", "seed"} & set(self.extra_params)
        if reserved:
            raise ValueError(f"ray_llm backend: extra_params may not set {sorted(reserved)}; each sample is one "
                             "request with n=1 and seed = sampling seed + sample index (the request cache's key)")
        if self.engine == "http":
            if not self.url:
                raise ValueError("ray_llm backend: engine='http' needs url= (an OpenAI-compatible base URL)")
            parts = urlsplit(self.url)
            if parts.username or parts.password:
                raise ValueError(f"ray_llm backend: put credentials in ${self.api_key_env}, not in the URL")
        try:
            import ray.data.llm  # noqa: F401
        except ImportError:
            raise ImportError(INSTALL_HINT) from None
        if self.engine == "vllm":
            try:
                import vllm  # noqa: F401
            except ImportError:
                raise ImportError(VLLM_HINT) from None

    def identity(self) -> dict[str, Any]:
        # never the URL nor the key: a restarted server elsewhere keeps the cache
        ident: dict[str, Any] = {"kind": "ray_llm", "engine": self.engine, "model": self.model}
        if self.extra_params:
            ident["extra_params"] = allowed_extra(self.extra_params)
        if self.engine == "vllm":
            ident.update(redact_value({k: v for k, v in sorted(self.engine_kwargs.items()) if k not in THROUGHPUT_ENGINE_KWARGS}))
        config = {k: v for k, v in sorted(self.config_kwargs.items()) if k not in THROUGHPUT_CONFIG_KWARGS}
        if config:
            ident["config_kwargs"] = redact_value(config)
        return ident

    def endpoint(self) -> str:
        """The URL the http engine posts to."""
        url = (self.url or "").rstrip("/")
        return url if url.endswith("/chat/completions") else f"{url}/chat/completions"

    def _config(self) -> Any:
        from ray.data.llm import HttpRequestProcessorConfig, vLLMEngineProcessorConfig

        common: dict[str, Any] = {"concurrency": self.concurrency}
        if self.batch_size is not None:
            common["batch_size"] = self.batch_size
        if self.engine == "http":
            key = os.environ.get(self.api_key_env)
            headers = {"Authorization": f"Bearer {key}"} if key else None
            return HttpRequestProcessorConfig(**{"url": self.endpoint(), "headers": headers, "qps": self.qps,
                                                 "max_retries": self.max_retries, **common, **self.config_kwargs})
        options: dict[str, Any] = {"should_continue_on_error": True, **common, **self.config_kwargs}
        if self.accelerator_type is not None:
            options["accelerator_type"] = self.accelerator_type
        return vLLMEngineProcessorConfig(model_source=self.model, engine_kwargs=dict(self.engine_kwargs), **options)

    def _ensure_ray(self) -> None:
        import ray

        if not ray.is_initialized():
            ray.init()
            self._started_ray = True

    def run(self, jobs: list[Job], on_result: OnResult) -> None:
        """One Ray Data execution for ``jobs``; each output row is handed on as it streams out."""
        rows = job_rows(jobs, self.engine, self.model, self.extra_params)
        if not rows:
            return
        self._ensure_ray()
        import ray
        from ray.data.llm import build_processor

        post = http_postprocess if self.engine == "http" else vllm_postprocess
        processor = build_processor(self._config(), preprocess=preprocess, postprocess=post)
        self.stats.requests += len(rows)
        done: set[tuple[int, int]] = set()
        failure: BaseException | None = None
        stream = iter(processor(ray.data.from_items(rows)).iter_rows())
        while True:
            try:
                row = next(stream)
            except StopIteration:
                break
            except Exception as err:  # the execution failed: the samples not yet out fail with it
                failure = err
                break
            c = to_completion(row, self.model)
            job_no = int(row["job"])
            if (job_no, c.index) in done:
                continue  # a row Ray delivered twice (a retried block): one answer per sample
            if c.error is not None:
                self.stats.error(error_kind(c))
            done.add((job_no, c.index))
            on_result(jobs[job_no], c)
        if failure is None:
            return
        message = f"ray.data.llm: {describe_failure(failure)}"
        for j, job in enumerate(jobs):
            for idx in job.indices:
                if (j, idx) not in done:
                    self.stats.error("ray.data.llm")
                    on_result(job, Completion(index=idx, seed=job.sampling.seed + idx, model=self.model,
                                              via="single", error=message))

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (process executors): a copy never shuts down the Ray it did not start."""
        return {**self.__dict__, "_started_ray": False}

    def close(self) -> None:
        """Shut Ray down if ``run`` started it (a cluster this process joined stays up)."""
        if self._started_ray:
            import ray

            ray.shutdown()
            self._started_ray = False
