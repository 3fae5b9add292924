"""Secrets never reach disk: a whole build with keys in every place a careless user puts them.

An OpenAI-compatible key in the environment, a key in ``extra_body``, a key in the endpoint
URL's query, a key passed as ``--param api_key=...``, and a server that echoes all of them
back in a 401 body. Every byte the build leaves behind (outputs, card, run.json, rejects, work
directory, the request cache's SQLite files, the CLI's own output) is searched for each key.
"""

from __future__ import annotations

import os
import string
import subprocess
import sys
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from curator.core.redact import allowed_extra, redact_command, redact_url, scrub_error
from tests.servers.openai_fake import serve

ENV_KEY = "sk-proj-ENVabcdefghijklmnopqrstuvwxyz0123456789"
BODY_KEY = "body-7f3a9c2e5b8d1f4a6c0e9b2d"
URL_KEY = "urlkey-51c9e7a3d2b8f6e4a0c1"
PARAM_KEY = "param-e2a4c6b8d0f1a3c5e7b9"

PIPELINE = '''"""A one-stage generation build for the secrets test."""
from dataclasses import dataclass

from curator import InputParams, Pipeline
from curator.generation import Generate, make_backend


@dataclass
class Params(InputParams):
    endpoint: str = ""
    api_key: str = ""  # a careless user's own parameter: must never be recorded
    extra_key: str = ""


def build(p: Params) -> Pipeline:
    backend = make_backend("openai", model="fake", base_url=p.endpoint, max_retries=1, backoff_base=0.01,
                           extra_body={"api-key": p.extra_key, "top_k": 5})
    return Pipeline(name="secrets", source=p.reader(), stages=[Generate(backend=backend, k=2, max_tokens=16)])
'''


def _plain_bytes(path: Path) -> bytes:
    """A file's bytes, with Parquet decompressed (a key inside a compressed page hides from a byte search)."""
    raw = path.read_bytes()
    if path.suffix == ".parquet":
        import polars as pl

        raw += pl.read_parquet(path).write_ndjson().encode()
    return raw


def test_unit_redaction():
    assert URL_KEY not in redact_url(f"http://u:{URL_KEY}@h:1/v1?key={URL_KEY}&api-version=1")
    assert allowed_extra({"api-key": BODY_KEY, "apikey": 1, "top_k": 5}) == {
        "api-key": "<redacted>", "apikey": "<redacted>", "top_k": 5}
    cmd = redact_command(["curator", "build", "p.py", "--param", f"endpoint=http://h/v1?token={URL_KEY}",
                          "--param", f"api_key={PARAM_KEY}", "--hf-token", PARAM_KEY], {"endpoint", "api_key"})
    assert URL_KEY not in cmd and PARAM_KEY not in cmd and "p.py" in cmd
    for body in (f"Incorrect API key provided: {ENV_KEY}", f"Authorization: Bearer {BODY_KEY}",
                 f"{{'api-key': '{BODY_KEY}'}}", "token 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"):
        assert "redacted" in scrub_error(body), body


@pytest.mark.parametrize("executor", ["local", "processes"])
def test_no_key_anywhere_after_a_build(tmp_path, executor):
    pipe = tmp_path / "secrets_pipeline.py"
    pipe.write_text(PIPELINE)
    problems = tmp_path / "problems.jsonl"
    problems.write_text("".join(f'{{"problem": "What is {i} + {i}?", "answer": "{2 * i}"}}\n' for i in range(4)))
    out, work, cache = tmp_path / "out", tmp_path / "work", tmp_path / "cache" / "requests.sqlite"
    echoed = []

    def fault(number: int, req: dict) -> str | None:  # the first two requests: a 401 echoing everything
        if number <= 2:
            echoed.append(number)
            return "401echo"
        return None

    with serve(fault=fault) as server:
        env = {**os.environ, "OPENAI_API_KEY": ENV_KEY, "PYTHONPATH": str(Path(__file__).parents[1])}
        res = subprocess.run(
            [sys.executable, "-m", "curator.cli", "build", str(pipe), "--out", str(out), "--work-dir", str(work),
             "--request-cache", str(cache), "--quiet", "--executor", executor,
             "--param", f"input={problems}", "--param", f"endpoint={server.base_url}?key={URL_KEY}",
             "--param", f"api_key={PARAM_KEY}", "--param", f"extra_key={BODY_KEY}"],
            capture_output=True, text=True, env=env, timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        assert server.answered, "the build reached the server"
        sent = server.answered[0]
    assert echoed and sent.get("api-key") == BODY_KEY  # the keys really were in play
    (tmp_path / "cli.log").write_text(res.stdout + res.stderr)
    files = [p for root in (out, work, cache.parent, tmp_path / "cli.log") for p in
             ([root] if root.is_file() else root.rglob("*")) if p.is_file()]
    assert any(p.name == "run.json" for p in files) and any(p.suffix == ".sqlite" for p in files)
    leaks = [(p.relative_to(tmp_path), key) for p in files for key in (ENV_KEY, BODY_KEY, URL_KEY, PARAM_KEY)
             if key.encode() in _plain_bytes(p)]
    assert not leaks, leaks
    run = (out / "run.json").read_text()
    assert "<redacted>" in run and "top_k" in run  # named, non-secret fields are still recorded


SECRET = st.text(alphabet=string.ascii_letters + string.digits + "_-", min_size=12, max_size=48).filter(
    lambda s: s[0].isalnum())


@settings(max_examples=200, deadline=None)
@given(secret=SECRET, where=st.sampled_from([
    "http://user:{s}@host:8000/v1", "https://host/v1?key={s}&api-version=1", "Authorization: Bearer {s}",
    "api_key={s}", '{{"api-key": "{s}"}}', "token: {s}", "X-Api-Key={s} and more", "password = '{s}'"]))
def test_scrub_removes_a_secret_wherever_a_careless_user_puts_it(secret, where):
    assert secret not in scrub_error(where.format(s=secret))
    assert secret not in redact_command(["curator", "build", "p.py", "--param", f"endpoint={where.format(s=secret)}"],
                                        {"endpoint"})
