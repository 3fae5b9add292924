"""Hub push: offline it stops with the documented line and sends nothing; --dry-run lists every file.

A real HTTP server on loopback stands in for the Hub endpoint (HF_ENDPOINT) and records every
request, so "pushes nothing" is checked on the wire, not assumed.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from outputs_build import build_demo

from curator.publish.hub import OFFLINE_MESSAGE, HubError, plan_push

SECRET = "hf_notarealtoken0123456789abcdef"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("hub") / "demo")


class _Recorder(BaseHTTPRequestHandler):
    requests: list[str] = []

    def _any(self) -> None:
        type(self).requests.append(f"{self.command} {self.path}")
        self.send_response(500)
        self.end_headers()

    do_GET = do_POST = do_PUT = do_HEAD = _any  # noqa: N815

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture()
def fake_hub() -> Iterator[tuple[str, list[str]]]:
    _Recorder.requests = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", _Recorder.requests
    server.shutdown()


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _curator(args: list[str], cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "HF_TOKEN": SECRET, "COLUMNS": "200", **env}
    code = "from curator.cli import main; main()"
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=300)


def _snapshot(out: Path) -> dict[str, tuple[int, int]]:
    return {str(p.relative_to(out)): (p.stat().st_size, p.stat().st_mtime_ns) for p in out.rglob("*") if p.is_file()}


def test_push_offline_fails_with_the_documented_line_and_sends_nothing(built: Path, fake_hub: tuple[str, list[str]]) -> None:
    endpoint, requests = fake_hub
    before = _snapshot(built)
    proc = _curator(["push", str(built), "my-lab/demo"], built.parent, HF_HUB_OFFLINE="1", HF_ENDPOINT=endpoint)
    assert proc.returncode == 1
    assert proc.stderr.strip() == f"error: {OFFLINE_MESSAGE}"  # one line, exactly the documented message
    assert requests == []
    assert _snapshot(built) == before
    assert SECRET not in proc.stdout + proc.stderr


def test_push_without_network_fails_with_one_line(built: Path) -> None:
    endpoint = f"http://127.0.0.1:{_closed_port()}"
    proc = _curator(["push", str(built), "my-lab/demo"], built.parent, HF_HUB_OFFLINE="0", HF_ENDPOINT=endpoint)
    assert proc.returncode == 1
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1, proc.stderr
    assert lines[0].startswith(f"error: cannot push to the Hugging Face Hub at {endpoint}: ")
    assert "nothing was uploaded" in lines[0]
    assert SECRET not in proc.stdout + proc.stderr


def test_dry_run_lists_every_file_and_touches_nothing(built: Path, fake_hub: tuple[str, list[str]]) -> None:
    endpoint, requests = fake_hub
    before = _snapshot(built)
    proc = _curator(["push", str(built), "my-lab/demo", "--dry-run", "--private", "--revision", "v1"], built.parent,
                    HF_HUB_OFFLINE="0", HF_ENDPOINT=endpoint)
    assert proc.returncode == 0, proc.stderr
    assert requests == [] and _snapshot(built) == before
    listed = [ln.split()[1] for ln in proc.stdout.splitlines()]
    outputs = json.loads((built / "outputs.json").read_text())
    expected = [f"{'data' if f['config'] == 'default' else f['config']}/{f['split']}-00000-of-00001.parquet"
                for f in outputs]
    expected += ["README.md"] + sorted(str(p.relative_to(built)) for p in (built / "plots").glob("*.png"))
    assert sorted(listed) == sorted(expected)
    for f in outputs:
        assert any(f["path"] in ln and f"({f['rows']:,} rows)" in ln for ln in proc.stdout.splitlines())
    assert "private" in proc.stderr and "branch v1" in proc.stderr and "token from HF_TOKEN" in proc.stderr
    assert SECRET not in proc.stdout + proc.stderr


def test_hub_card_points_configs_at_the_pushed_shards(built: Path, tmp_path: Path) -> None:
    from huggingface_hub import DatasetCard

    plan = plan_push(built, "my-lab/demo", plots_into=tmp_path)
    card = DatasetCard(plan.card_text).data.to_dict()
    data_remote = {u.remote for u in plan.uploads if u.kind == "data"}
    for config in card["configs"]:
        for f in config["data_files"]:
            prefix = f["path"].removesuffix("*")
            assert any(r.startswith(prefix) for r in data_remote), f
    assert 'load_dataset("my-lab/demo"' in plan.card_text


@pytest.mark.parametrize(("repo", "match"), [("demo", "write ORG/NAME"), ("my lab/demo!", "not a valid Hub name")])
def test_bad_repository_names_are_refused_before_anything(built: Path, repo: str, match: str) -> None:
    with pytest.raises(HubError, match=match):
        plan_push(built, repo)


def test_build_with_push_to_hub_offline_keeps_the_build(tmp_path: Path, fake_hub: tuple[str, list[str]]) -> None:
    endpoint, requests = fake_hub
    pipe = tmp_path / "tiny.py"
    pipe.write_text(
        "from dataclasses import dataclass\nfrom curator import InputParams, Pipeline\n\n"
        "@dataclass\nclass Params(InputParams):\n    pass\n\n"
        "def build(p: Params) -> Pipeline:\n    return Pipeline(name='tiny', source=p.reader(), stages=[])\n")
    proc = _curator(["build", str(pipe), "--param", "limit=5", "--out", "out", "--quiet", "--push-to-hub",
                     "my-lab/tiny"], tmp_path, HF_HUB_OFFLINE="1", HF_ENDPOINT=endpoint)
    assert proc.returncode == 1
    assert proc.stderr.strip().splitlines()[-1] == f"error: {OFFLINE_MESSAGE}"
    assert (tmp_path / "out" / "README.md").is_file() and (tmp_path / "out" / "data/default/train.parquet").is_file()
    assert requests == []
