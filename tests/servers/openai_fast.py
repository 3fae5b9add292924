"""A fast scripted OpenAI-compatible server (asyncio, one process) for throughput benchmarks.

Same answers as ``openai_fake.echo_responder`` and ``n`` honoured, but no threads: a response
``--delay`` costs no CPU, so many requests wait at once and the server stays out of the way
of the client being measured. No fault injection here (use ``openai_fake`` for that).

    python -m tests.servers.openai_fast --port 8012 --delay 0.05
"""

from __future__ import annotations

import argparse
import asyncio
import json

from tests.servers.openai_fake import FakeServer


async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter, script: FakeServer,
                 delay: float) -> None:
    try:
        while True:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")
            method = lines[0].split(" ", 1)[0]
            headers = {k.lower(): v.strip() for k, _, v in (ln.partition(":") for ln in lines[1:] if ln)}
            body = await reader.readexactly(int(headers.get("content-length", 0)))
            if method == "POST":
                script.requests += 1
                if delay:
                    await asyncio.sleep(delay)
                status = b"200 OK"
                try:
                    payload = json.dumps(script.completion(json.loads(body))).encode()
                except (ValueError, KeyError, IndexError, TypeError) as err:  # e.g. no messages
                    status, payload = b"400 Bad Request", json.dumps({"error": {"message": repr(err)}}).encode()
            else:
                status, payload = b"200 OK", b'{"object": "list", "data": [{"id": "fake", "object": "model"}]}'
            writer.write(b"HTTP/1.1 " + status + b"\r\nContent-Type: application/json\r\nContent-Length: "
                         + str(len(payload)).encode() + b"\r\n\r\n" + payload)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def main_async(port: int, delay: float, honour_n: bool) -> None:
    script = FakeServer(honour_n=honour_n)
    server = await asyncio.start_server(lambda r, w: handle(r, w, script, delay), "127.0.0.1", port, backlog=1024)
    print(f"serving http://127.0.0.1:{port}/v1", flush=True)
    async with server:
        await server.serve_forever()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--port", type=int, default=8012)
    ap.add_argument("--delay", type=float, default=0.0)
    ap.add_argument("--ignore-n", action="store_true")
    a = ap.parse_args()
    asyncio.run(main_async(a.port, a.delay, not a.ignore_n))


if __name__ == "__main__":
    main()
