"""The default backend end to end: the shipped 135M model in process, k=3, through a Pipeline."""

from __future__ import annotations

import json

import pytest

from curator import Pipeline, ReadProblems
from curator.generation import Generate, complete, make_backend

pytestmark = pytest.mark.slow
K = 3


@pytest.fixture(scope="session")
def embedded():
    backend = make_backend("embedded", n_threads=1)
    yield backend
    backend.close()


def test_k_samples_per_problem_end_to_end(tmp_path, embedded):
    source = ReadProblems(limit=3)  # bundled sample: one-digit additions first
    stage = Generate(backend=embedded, k=K, max_tokens=16)
    pipe = Pipeline("embedded", source, [stage], finishers=())
    out = pipe.run(tmp_path / "out", quiet=True)
    assert out.height == 3
    for samples in out["samples"].to_list():
        assert len(samples) == K
        assert [s["seed"] for s in samples] == [0, 1, 2]
        for s in samples:
            assert s["status"] in ("ok", "truncated") and s["text"]
            assert s["model"] == "smollm2-135m" and s["completion_tokens"] > 0 and s["prompt_tokens"] > 0
            assert s["final"] is not None
    funnel = json.loads((tmp_path / "out" / "funnel.json").read_text())
    gen = next(s for s in funnel["stages"] if s["stage"] == "generate")
    assert gen["samples_added"] == 3 * K and gen["info"]["requests_sent"] == 3 * K
    # the same problems again from a fresh pipeline object: the stage cache answers, no model call
    before = embedded.stats.requests
    again = Pipeline("embedded", source, [Generate(backend=embedded, k=K, max_tokens=16)], finishers=()).run(
        tmp_path / "out", quiet=True)
    assert embedded.stats.requests == before
    assert again["samples"].to_list() == out["samples"].to_list()


def test_seeded_samples_are_reproducible(tmp_path, embedded):
    convs = [[{"role": "user", "content": "What is 6 + 8? Think briefly."}]]
    a = complete(embedded, convs, n=2, temperature=0.7, max_tokens=16)
    b = complete(embedded, convs, n=2, temperature=0.7, max_tokens=16, cache=tmp_path / "r.sqlite")
    assert [s["text"] for s in a[0]] == [s["text"] for s in b[0]]
