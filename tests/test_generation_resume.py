"""Kill -9 in the middle of generation, rerun: no finished request is sent again.

The generation runs in a real subprocess against a scripted server that ignores ``n`` (like
llama.cpp's Python server), so every sample is one countable request.
"""

from __future__ import annotations

import json
import signal
import sqlite3
import subprocess
import sys
import time

import polars as pl

from curator.generation import Sampling, make_backend, request_key, row_messages
from tests.servers.openai_fake import serve

N, K = 60, 3
SCRIPT = """
import sys
import polars as pl
from curator import Pipeline
from curator.generation import Generate, make_backend

url, out = sys.argv[1], sys.argv[2]
df = pl.DataFrame({"problem": [f"Problem number {i}: what is {i} + {i}?" for i in range(N_ROWS)]})
backend = make_backend("openai", model="fake", base_url=url, concurrency=2, backoff_base=0.05)
Pipeline("resume", df, [Generate(backend=backend, k=K_SAMPLES, max_tokens=16)], finishers=()).run(out, quiet=True)
""".replace("N_ROWS", str(N)).replace("K_SAMPLES", str(K))


def _run(script, url, out, kill_after=None, server=None):
    proc = subprocess.Popen([sys.executable, str(script), url, str(out)])
    if kill_after is None:
        assert proc.wait(300) == 0
        return
    deadline = time.time() + 120
    while len(server.answered) < kill_after and proc.poll() is None and time.time() < deadline:
        time.sleep(0.005)
    proc.send_signal(signal.SIGKILL)
    proc.wait(30)


def test_sigkill_midway_then_resume_from_the_cache(tmp_path):
    script = tmp_path / "gen.py"
    script.write_text(SCRIPT)
    out = tmp_path / "out"
    db = out / ".work" / "requests.sqlite"
    with serve(honour_n=False, delay=0.03) as server:
        _run(script, server.base_url, out, kill_after=40, server=server)
        first_run = server.requests
        cached = sqlite3.connect(db).execute("SELECT key FROM responses").fetchall()
        cached = {k for (k,) in cached}
        assert 0 < len(cached) < N * K, "the kill did not land midway"
        server.answered.clear()
        _run(script, server.base_url, out)
        second_run = server.requests - first_run
    # every sample that was in the cache came from it; every other one cost exactly one request
    assert second_run == N * K - len(cached)
    ident = make_backend("openai", model="fake", base_url=server.base_url).identity()
    sampling = Sampling(max_tokens=16)
    for req in server.answered:
        problem = req["messages"][-1]["content"].split("\n")[0]
        key = request_key(ident, row_messages({"problem": problem}, "r1"), sampling, req["seed"])
        assert key not in cached, f"sample {req['seed']} of {problem!r} was sent again"
    outputs = json.loads((out / "outputs.json").read_text())
    table = pl.read_parquet(out / outputs[0]["path"])
    assert table.height == N
    for samples in table["samples"].to_list():
        assert len(samples) == K
        assert [s["seed"] for s in samples] == list(range(K))
        assert len({s["text"] for s in samples}) == K
