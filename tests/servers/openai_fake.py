"""A scripted OpenAI-compatible server on 127.0.0.1: real HTTP, real sockets, scripted answers.

``serve(respond)`` runs ``/v1/chat/completions`` where ``respond(request_json)`` returns the
text of one choice (or a dict with ``text``, ``finish_reason``, ``reasoning_content``). It is
called once per choice with ``request_json["choice_index"]`` set. ``honour_n=False`` behaves
like llama.cpp's Python server (always one choice). ``fault(request_number, request_json)``
may return one of FAULTS or HOSTILE_FAULTS to misbehave on that request. Every request is counted and logged.

    with serve(lambda req: "\\\\boxed{4}") as server:
        client = OpenAI(base_url=server.base_url, api_key="x")

Run it as a separate process (for benchmarks): ``python -m tests.servers.openai_fake --port 8011``.
"""

from __future__ import annotations

import argparse
import json
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Responder = Callable[[dict[str, Any]], "str | dict[str, Any]"]
FaultFn = Callable[[int, dict[str, Any]], "str | None"]
FAULTS = ("429", "500", "hang", "drop", "malformed", "empty", "shape", "error200")
#: faults that are not retried and end a sample as failed: a 401 that echoes the credentials it got
HOSTILE_FAULTS = ("401echo",)


def echo_responder(req: dict[str, Any]) -> str:
    """A deterministic answer naming the prompt, the seed and the choice (so duplicates show)."""
    prompt = req["messages"][-1]["content"]
    return (f"<think>thinking about {prompt[:40]!r} seed={req.get('seed')} choice={req['choice_index']}"
            f"</think> So the answer is \\boxed{{{len(prompt) % 10}}}.")


@dataclass
class FakeServer:
    respond: Responder = echo_responder
    honour_n: bool = True
    fault: FaultFn | None = None
    delay: float = 0.0  # seconds per response (a model's generation time)
    hang_seconds: float = 30.0
    retry_after: str = "0.2"
    requests: int = 0  # every POST to /v1/chat/completions
    answered: list[dict[str, Any]] = field(default_factory=list)  # bodies of requests answered 200 OK
    faults_served: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    base_url: str = ""
    _httpd: Any = None

    def start(self, port: int = 0) -> FakeServer:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for k, v in (headers or {}).items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                self._send(200, json.dumps({"object": "list", "data": [{"id": "fake", "object": "model"}]}).encode())

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                req = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests += 1
                    number = server.requests
                kind = server.fault(number, req) if server.fault else None
                if kind:
                    with server.lock:
                        server.faults_served[kind] = server.faults_served.get(kind, 0) + 1
                    self._misbehave(kind, req)
                    return
                if server.delay:
                    time.sleep(server.delay)
                try:
                    body = json.dumps(server.completion(req)).encode()
                except (ValueError, KeyError, IndexError, TypeError) as err:  # e.g. no messages
                    self._send(400, json.dumps({"error": {"message": repr(err)}}).encode())
                    return
                self._send(200, body)
                with server.lock:
                    server.answered.append(req)

            def _misbehave(self, kind: str, req: dict[str, Any]) -> None:
                if kind == "401echo":  # a hostile 401: echoes the bearer key and every body field back
                    echo = {"message": f"Incorrect API key provided: {self.headers.get('Authorization')}",
                            "request": {k: v for k, v in req.items() if k != "messages"}, "url": self.path}
                    self._send(401, json.dumps({"error": echo}).encode())
                elif kind == "429":
                    self._send(429, b'{"error": {"message": "slow down"}}', {"Retry-After": server.retry_after})
                elif kind == "500":
                    self._send(500, b'{"error": {"message": "boom"}}')
                elif kind == "malformed":
                    self._send(200, b'{"id": "x", "choices": [{"index": 0, "message": ')
                elif kind == "empty":
                    self._send(200, json.dumps({"id": "x", "object": "chat.completion", "created": 0,
                                                "model": "fake", "choices": []}).encode())
                elif kind == "shape":  # valid JSON, wrong shape: the message is a bare string
                    self._send(200, json.dumps({"id": "x", "object": "chat.completion", "model": "fake",
                                                "choices": [{"index": 0, "message": "hello"}], "usage": 5}).encode())
                elif kind == "error200":  # an error body with status 200 (some proxies do this)
                    self._send(200, b'{"error": {"message": "upstream overloaded"}}')
                elif kind == "hang":
                    time.sleep(server.hang_seconds)
                    self.close_connection = True
                elif kind == "drop":
                    self.close_connection = True
                    self.connection.shutdown(socket.SHUT_RDWR)
                else:
                    raise ValueError(f"unknown fault {kind!r}; use one of {FAULTS}")

        class Server(ThreadingHTTPServer):
            daemon_threads = True
            request_queue_size = 256

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that time out or get killed reset their connections: expected here

        self._httpd = Server(("127.0.0.1", port), Handler)
        self.base_url = f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"
        threading.Thread(target=self._httpd.serve_forever, daemon=True, name="fake-openai").start()
        return self

    def completion(self, req: dict[str, Any]) -> dict[str, Any]:
        n = int(req.get("n") or 1) if self.honour_n else 1
        choices, total = [], 0
        for i in range(n):
            out = self.respond({**req, "choice_index": i})
            out = {"text": out} if isinstance(out, str) else out
            message: dict[str, Any] = {"role": "assistant", "content": out["text"]}
            if out.get("reasoning_content"):
                message["reasoning_content"] = out["reasoning_content"]
            choices.append({"index": i, "message": message, "finish_reason": out.get("finish_reason", "stop")})
            total += max(1, len(out["text"]) // 4)
        prompt = sum(len(m.get("content") or "") for m in req.get("messages", [])) // 4
        return {"id": f"chatcmpl-{self.requests}", "object": "chat.completion", "created": int(time.time()),
                "model": req.get("model", "fake"), "choices": choices,
                "usage": {"prompt_tokens": prompt, "completion_tokens": total, "total_tokens": prompt + total}}

    def stop(self) -> None:
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()


@contextmanager
def serve(respond: Responder = echo_responder, **options: Any) -> Iterator[FakeServer]:
    """Start a scripted server on a free loopback port; stop it on exit."""
    server = FakeServer(respond, **options).start()
    try:
        yield server
    finally:
        server.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description="scripted OpenAI-compatible server (loopback)")
    ap.add_argument("--port", type=int, default=8011)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--ignore-n", action="store_true")
    args = ap.parse_args()
    server = FakeServer(honour_n=not args.ignore_n, delay=args.delay).start(args.port)
    print(f"serving {server.base_url}", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        server.stop()


if __name__ == "__main__":
    main()
