"""A work directory on an object store: ``s3://`` against a real S3-compatible server on loopback.

The server is moto's (``ThreadedMotoServer``: S3's HTTP API, buckets in memory) reached
through s3fs over HTTP, exactly as a real bucket would be; endpoint and credentials come
from the environment (fsspec's ``FSSPEC_S3_ENDPOINT_URL``, ``AWS_*``), never from the URL.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar

import fsspec
import polars as pl
import pytest
from scale_stages import NotTooLong, ProblemLength, assert_same_build

from curator import Pipeline
from curator.core.pipeline import StageError
from curator.core.sources import SAMPLE_PROBLEMS, ReadProblems
from curator.core.stage import Filter
from curator.core.storage import StorageError, is_local, location
from curator.executors import ProcessesExecutor, SlurmExecutor
from curator.generation import Generate, make_backend
from filters.dedup import Dedup
from filters.quality import ProblemQuality, QualityRules

SECRET = "not-a-real-secret-but-must-not-leak"


@pytest.fixture(scope="module")
def s3():
    """Yield a function giving fresh ``s3://`` work-dir URLs on a loopback S3 server."""
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    env = {"AWS_ACCESS_KEY_ID": "curator-test", "AWS_SECRET_ACCESS_KEY": SECRET, "AWS_DEFAULT_REGION": "us-east-1",
           "FSSPEC_S3_ENDPOINT_URL": f"http://{host}:{port}"}
    old = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # module scope: worker processes inherit it
    fsspec.config.conf.setdefault("s3", {})["endpoint_url"] = env["FSSPEC_S3_ENDPOINT_URL"]
    fs = fsspec.filesystem("s3", skip_instance_cache=True)
    fs.mkdir("curator-work")
    counter = iter(range(1000))
    yield lambda: f"s3://curator-work/run-{next(counter)}"
    fsspec.config.conf.get("s3", {}).pop("endpoint_url", None)
    for k, v in old.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v
    server.stop()


def _pipeline(rows: int = 24, generate: bool = False) -> Pipeline:
    stages = [ProblemQuality(rules=QualityRules(unparseable_answer=False)), NotTooLong()]
    if generate:
        stages.append(Generate(backend=make_backend("embedded", n_threads=1), k=2, max_tokens=8, progress=False))
    return Pipeline("s3", ReadProblems(limit=rows), [*stages, Dedup(), ProblemLength()])


@dataclass
class FailsWhileFlagged(Filter):
    """Raises on the batch holding ``fail_on`` while the file ``flag`` exists (an interrupted run)."""

    flag: str = ""
    fail_on: str = ""
    batch_size: ClassVar[int] = 4
    needs: ClassVar[tuple[str, ...]] = ("problem",)

    def reasons(self, df: pl.DataFrame) -> pl.Series:
        if self.flag and os.path.exists(self.flag) and self.fail_on in df["problem"].to_list():
            raise RuntimeError("interrupted")
        return pl.Series([None] * df.height, dtype=pl.String)


def _listing(url: str) -> list[str]:
    fs = fsspec.filesystem("s3")
    fs.invalidate_cache()
    return [p.split("/", 2)[-1] for p in fs.find(url.removeprefix("s3://"))]


def test_plain_paths_stay_pathlib_and_urls_become_fsspec_paths():
    assert location("out/.work") == Path("out/.work") and is_local(location("out/.work"))
    assert location("file:///tmp/x") == Path("/tmp/x")
    remote = location("s3://bucket/run")
    assert not is_local(remote) and str(remote / "stages") == "s3://bucket/run/stages"


def test_credentials_in_the_work_dir_url_are_refused_with_where_to_put_them():
    with pytest.raises(StorageError, match="AWS_ACCESS_KEY_ID"):
        location("s3://AKIA123:secret@bucket/run")


def test_build_with_s3_work_dir_equals_local_build_and_reruns_from_the_cache(s3, tmp_path):
    url = s3()
    _pipeline().run(tmp_path / "local", quiet=True)
    _pipeline().run(tmp_path / "s3", work_dir=url, quiet=True)
    assert_same_build(tmp_path / "local", tmp_path / "s3")
    names = _listing(url)
    assert any(n.startswith("stages/dedup-") and n.endswith("/_SUCCESS") for n in names)
    assert not (tmp_path / "s3" / ".work").exists()  # nothing went to the local default instead

    again = _pipeline().run(tmp_path / "s3", work_dir=url, quiet=True)
    stages = json.loads((tmp_path / "s3/funnel.json").read_text())["stages"]
    assert all(s["cached"] for s in stages if s["stage"] != "load"), stages
    assert again.height == pl.read_parquet(tmp_path / "local/data/default/train.parquet").height


def test_generation_with_s3_work_dir_keeps_responses_in_a_local_request_cache(s3, tmp_path):
    url = s3()
    _pipeline(rows=3, generate=True).run(tmp_path / "out", work_dir=url, quiet=True)
    assert (tmp_path / "out/.requests.sqlite").exists()
    _pipeline(rows=3, generate=True).run(tmp_path / "again", work_dir=s3(), quiet=True,
                                         request_cache=tmp_path / "out/.requests.sqlite")
    gen = next(s for s in json.loads((tmp_path / "again/funnel.json").read_text())["stages"] if s["stage"] == "generate")
    assert gen["info"]["cache_hits"] == gen["samples_added"] == 6  # a fresh work dir, no new requests


def test_processes_executor_shards_through_s3_like_the_local_runner(s3, tmp_path):
    url = s3()
    _pipeline().run(tmp_path / "local", quiet=True)
    _pipeline().run(tmp_path / "sharded", work_dir=url, executor=ProcessesExecutor(tasks=3, workers=2), quiet=True)
    assert_same_build(tmp_path / "local", tmp_path / "sharded")
    names = _listing(url)
    assert any("/shards/00002-of-00003/" in n for n in names)  # shards wrote straight to the bucket
    assert any(n.startswith("executors/") and "/completions/" in n for n in names)  # datatrove's markers too


def test_no_credential_reaches_outputs_or_the_bucket(s3, tmp_path):
    url = s3()
    _pipeline().run(tmp_path / "out", work_dir=url, executor=ProcessesExecutor(tasks=2, workers=1), quiet=True)
    for f in (tmp_path / "out").rglob("*"):
        if f.is_file():
            assert SECRET.encode() not in f.read_bytes(), f
    fs = fsspec.filesystem("s3")
    for key in fs.find(url.removeprefix("s3://")):
        assert SECRET.encode() not in fs.cat(key), key


def test_slurm_refuses_an_object_store_work_dir_naming_the_fix(s3, tmp_path):
    with pytest.raises(StorageError, match="shared POSIX"):
        _pipeline().run(tmp_path / "out", work_dir=s3(), executor=SlurmExecutor(submit=False), quiet=True)


@pytest.fixture(scope="module")
def ray_cluster(s3):
    """A local Ray cluster started after the S3 settings are in the environment (its workers inherit them)."""
    import ray

    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
def test_ray_build_with_s3_work_dir_equals_local_build(s3, ray_cluster, tmp_path):
    from curator.executors import RayExecutor

    url = s3()
    _pipeline().run(tmp_path / "local", quiet=True)
    _pipeline().run(tmp_path / "ray", work_dir=url, executor=RayExecutor(tasks=2), quiet=True)
    assert_same_build(tmp_path / "local", tmp_path / "ray")
    assert any("/shards/00001-of-00002/" in n for n in _listing(url))


def test_interrupted_sharded_build_on_s3_resumes_to_the_full_result(s3, tmp_path):
    # the last shard fails mid-way; the rerun must see every part the workers wrote since,
    # not a directory listing cached before they wrote it
    flag = tmp_path / "interrupt"
    flag.write_text("")
    last = json.loads(SAMPLE_PROBLEMS.read_text().splitlines()[16])["problem"]  # first batch of shard 3 of 3

    def pipe() -> Pipeline:
        return Pipeline("s3", ReadProblems(limit=24), [NotTooLong(), FailsWhileFlagged(str(flag), last), Dedup(),
                                                       ProblemLength()])

    url = s3()
    with pytest.raises(StageError, match="interrupted"):
        pipe().run(tmp_path / "sharded", work_dir=url, executor=ProcessesExecutor(tasks=3, workers=2), quiet=True)
    flag.unlink()
    pipe().run(tmp_path / "local", quiet=True)
    pipe().run(tmp_path / "sharded", work_dir=url, executor=ProcessesExecutor(tasks=3, workers=2), quiet=True)
    assert_same_build(tmp_path / "local", tmp_path / "sharded")


def test_a_missing_bucket_is_named_not_created(s3, tmp_path):
    with pytest.raises(StorageError, match="curator-typo does not exist"):
        _pipeline().run(tmp_path / "out", work_dir="s3://curator-typo/run", quiet=True)
    assert not fsspec.filesystem("s3").exists("curator-typo")
