"""Any OpenAI-compatible endpoint (vLLM serve, SGLang, llama.cpp server, DeepSeek, OpenAI).

Saturates the endpoints without hammering them: bounded in-flight requests per endpoint,
least-loaded endpoint first, RPM/TPM buckets, retries with exponential backoff and full
jitter on 429 (``Retry-After`` honoured), 5xx, timeouts, dropped connections, malformed
JSON and empty ``choices``. ``n`` is sent but never trusted: missing choices are filled with
seeded single requests and counted (``stats.filled``). API keys come from the environment.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import threading
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from curator.core.redact import allowed_extra, scrub_error
from curator.generation.backends.ratelimit import RateLimiter
from curator.generation.types import BackendStats, Completion, Job, OnResult

#: HTTP statuses worth another try (rate limits, server trouble, request timeouts)
RETRY_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 520, 522, 524, 529})


class EmptyChoices(ValueError):
    """The server answered 200 with no choices."""


@dataclass
class _Endpoint:
    client: Any
    sem: asyncio.Semaphore
    inflight: int = 0


def _retry_after(err: Exception) -> float | None:
    response = getattr(err, "response", None)
    headers = getattr(response, "headers", None) or {}
    for name, scale in (("retry-after-ms", 1e-3), ("retry-after", 1.0)):
        value = headers.get(name)
        if value is not None:
            try:
                return max(0.0, float(value) * scale)
            except ValueError:
                continue  # an HTTP date: fall back to the backoff
    return None


def response_json(body: bytes) -> dict[str, Any]:
    """A chat completion's JSON with at least one well-formed choice, or the error that says what is wrong.

    Each choice's ``message.content`` comes back a string (a list of text parts is joined).
    """
    resp = json.loads(body)
    if not isinstance(resp, dict):
        raise ValueError(f"not a chat completion: {body[:200]!r}")
    if resp.get("error") and not resp.get("choices"):
        raise ValueError(f"error in a 200 response: {str(resp['error'])[:300]}")
    choices = resp.get("choices")
    if not isinstance(choices, list | None) or not isinstance(resp.get("usage"), dict | None):
        raise ValueError(f"not a chat completion: {body[:200]!r}")
    if not choices:
        raise EmptyChoices("the response has no choices")
    for ch in choices:
        message = ch.get("message") if isinstance(ch, dict) else None
        if not isinstance(message, dict):
            raise ValueError(f"a choice without a message object: {body[:200]!r}")
        content = message.get("content")
        if isinstance(content, list):  # content parts: [{"type": "text", "text": ...}]
            content = "".join(p.get("text") or "" for p in content if isinstance(p, dict))
            message["content"] = content
        if not isinstance(content, str | None):
            raise ValueError(f"message content is {type(content).__name__}, not text: {body[:200]!r}")
    return resp


def classify(err: Exception) -> tuple[str, bool]:
    """(error kind for the report, whether another try may succeed)."""
    import openai

    if isinstance(err, openai.APIStatusError):
        return f"http {err.status_code}", err.status_code in RETRY_STATUS
    if isinstance(err, openai.APITimeoutError):
        return "timeout", True
    if isinstance(err, openai.APIConnectionError):
        return "connection", True
    if isinstance(err, EmptyChoices):
        return "empty choices", True
    if isinstance(err, (json.JSONDecodeError, openai.APIResponseValidationError, ValueError, TypeError)):
        return "malformed response", True
    return type(err).__name__, True


@dataclass
class OpenAIBackend:
    """``model`` at one or more ``base_url``s. Nothing connects until ``run``."""

    model: str
    base_url: str | list[str] = "https://api.openai.com/v1"
    api_key_env: str = "OPENAI_API_KEY"  # the key is read from this variable, never passed or stored
    concurrency: int = 64  # in-flight requests per endpoint (vLLM default max_num_seqs is 256)
    rpm: float | None = None
    tpm: float | None = None
    timeout: float = 600.0  # seconds per request; long CoT at 30 tok/s takes minutes
    max_retries: int = 6
    backoff_base: float = 1.0  # seconds; try i waits uniform(0, min(max, base * 2**i)) ("full jitter")
    backoff_max: float = 60.0
    send_n: bool = True  # ask for all k choices in one request (shared prefill where honoured)
    extra_body: dict[str, Any] = field(default_factory=dict)  # e.g. {"top_k": 20} for vLLM
    stats: BackendStats = field(default_factory=BackendStats, repr=False, compare=False)

    def __post_init__(self) -> None:
        urls = [self.base_url] if isinstance(self.base_url, str) else list(self.base_url)
        if not urls:
            raise ValueError("openai backend: give at least one base_url")
        for url in urls:
            if urlsplit(url).username or urlsplit(url).password:
                raise ValueError(f"openai backend: put credentials in ${self.api_key_env}, not in the URL")
        self._urls = urls
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        self._endpoints: list[_Endpoint] = []

    def identity(self) -> dict[str, Any]:
        # not the URLs: several servers of one model share a cache, and a restarted server on
        # another port must not invalidate it; sampling extras do change the output (only the
        # allow-listed ones are named: an unknown extra, such as a key, is redacted - curator.core.redact)
        return {"kind": "openai", "model": self.model, "extra_body": allowed_extra(self.extra_body)}

    def _api_key(self) -> str:
        key = os.environ.get(self.api_key_env)
        if key:
            return key
        if any("api.openai.com" in u or "api.deepseek.com" in u for u in self._urls):
            raise RuntimeError(f"openai backend: set ${self.api_key_env} to your API key for {self._urls[0]}")
        return "EMPTY"  # local servers (vLLM, llama.cpp) accept any key

    def run(self, jobs: list[Job], on_result: OnResult) -> None:
        """Send ``jobs`` on the backend's event loop (its own thread, so notebooks work too)."""
        loop = self._ensure_loop()
        future = asyncio.run_coroutine_threadsafe(self._run(jobs, on_result), loop)
        try:
            future.result()
        except BaseException:
            future.cancel()
            raise

    def close(self) -> None:
        """Close the connections and stop the loop thread (the next ``run`` starts them again)."""
        loop, thread = self._loop, self._thread
        if loop is None or thread is None:
            return
        if self._endpoints:
            closing = asyncio.run_coroutine_threadsafe(self._close_clients(), loop)
            closing.result(timeout=30)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(timeout=30)
        loop.close()
        self._loop = self._thread = None
        self._endpoints = []

    # -- async core ------------------------------------------------------------------------
    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        # one loop and one set of clients for the backend's life: connections and TLS setup are
        # reused across batches (a client costs ~0.1-0.3 s of CPU to build)
        if self._loop is None:
            loop = asyncio.new_event_loop()
            thread = threading.Thread(target=loop.run_forever, name="curator-openai", daemon=True)
            thread.start()
            try:
                asyncio.run_coroutine_threadsafe(self._open_clients(), loop).result()
            except BaseException:
                loop.call_soon_threadsafe(loop.stop)
                thread.join(timeout=30)
                loop.close()
                raise
            self._loop, self._thread = loop, thread
        return self._loop

    def __getstate__(self) -> dict[str, Any]:
        """Picklable (process executors): the loop, thread and clients are rebuilt on first use."""
        state = dict(self.__dict__)
        state.update(_loop=None, _thread=None, _endpoints=[])
        state.pop("_limiter", None)
        return state

    async def _open_clients(self) -> None:
        from openai import AsyncOpenAI

        key = self._api_key()
        self._endpoints = [_Endpoint(AsyncOpenAI(base_url=u, api_key=key, max_retries=0, timeout=self.timeout),
                                     asyncio.Semaphore(self.concurrency)) for u in self._urls]
        self._limiter = RateLimiter(self.rpm, self.tpm)

    async def _close_clients(self) -> None:
        for ep in self._endpoints:
            await ep.client.close()

    async def _run(self, jobs: list[Job], on_result: OnResult) -> None:
        await asyncio.gather(*(self._job(j, on_result) for j in jobs))

    async def _job(self, job: Job, on_result: OnResult) -> None:
        todo = list(job.indices)
        if self.send_n and len(todo) > 1:
            seed = job.sampling.seed + todo[0]
            resp, error = await self._request(job, len(todo), seed)
            if resp is None:
                for idx in todo:
                    on_result(job, Completion(index=idx, seed=seed, model=self.model, error=error))
                return
            for idx, c in zip(todo, self._completions(resp, seed, "n"), strict=False):
                c.index = idx
                on_result(job, c)
            got = min(len(resp["choices"]), len(todo))
            todo = todo[got:]
            self.stats.filled += len(todo)  # the server ignored n (llama.cpp's Python server does)
        await asyncio.gather(*(self._single(job, idx, on_result) for idx in todo))

    async def _single(self, job: Job, idx: int, on_result: OnResult) -> None:
        seed = job.sampling.seed + idx
        resp, error = await self._request(job, 1, seed)
        if resp is None:
            on_result(job, Completion(index=idx, seed=seed, model=self.model, via="single", error=error))
            return
        c = self._completions(resp, seed, "single")[0]
        c.index = idx
        on_result(job, c)

    def _completions(self, resp: dict[str, Any], seed: int, via: str) -> list[Completion]:
        usage = resp.get("usage") or None
        messages = [(ch.get("message") or {}) for ch in resp["choices"]]
        texts = [m.get("content") or "" for m in messages]
        total_chars = sum(len(t) for t in texts) or 1
        out = []
        for ch, msg, text in zip(resp["choices"], messages, texts, strict=True):
            reasoning = msg.get("reasoning_content") or msg.get("reasoning")
            if usage is None:
                tokens = None
            elif len(texts) == 1:
                tokens = usage.get("completion_tokens")
            else:  # usage is per request: apportion by characters
                tokens = round((usage.get("completion_tokens") or 0) * len(text) / total_chars)
            out.append(Completion(index=0, text=text, reasoning=reasoning, finish_reason=ch.get("finish_reason"),
                                  prompt_tokens=usage.get("prompt_tokens") if usage else None,
                                  completion_tokens=tokens, model=resp.get("model") or self.model, seed=seed,
                                  via=via))
        return out

    def _pick(self) -> _Endpoint:
        return min(self._endpoints, key=lambda ep: ep.inflight)

    async def _request(self, job: Job, n: int, seed: int) -> tuple[dict[str, Any] | None, str | None]:
        """One chat completion with retries: (response JSON, None) or (None, the last error).

        The body is read as plain JSON (``with_raw_response``), not built into the client's
        pydantic models: 10% less client CPU per request, and nothing of it is needed.
        """
        s = job.sampling
        body: dict[str, Any] = {"model": self.model, "messages": job.messages, "temperature": s.temperature,
                                "top_p": s.top_p, "max_tokens": s.max_tokens, "seed": seed}
        if n > 1:
            body["n"] = n
        if self.extra_body:
            body["extra_body"] = self.extra_body
        est = sum(len(m.get("content") or "") for m in job.messages) // 4 + s.max_tokens * n
        last = "no attempt"
        for attempt in range(self.max_retries + 1):
            await self._limiter.acquire(est)
            ep = self._pick()
            ep.inflight += 1
            try:
                async with ep.sem:
                    self.stats.requests += 1
                    raw = await ep.client.chat.completions.with_raw_response.create(**body)
                return response_json(raw.http_response.content), None
            except asyncio.CancelledError:
                raise
            except Exception as err:
                kind, retry = classify(err)
                self.stats.error(kind)
                last = scrub_error(f"{kind}: {type(err).__name__}: {str(err)[:300]}")
                if not retry or attempt == self.max_retries:
                    break
                self.stats.retries += 1
                delay = random.uniform(0, min(self.backoff_max, self.backoff_base * 2 ** attempt))
                wait = _retry_after(err)
                await asyncio.sleep(max(delay, wait) if wait is not None else delay)
            finally:
                ep.inflight -= 1
        return None, f"after {attempt + 1} attempt(s): {last}"
