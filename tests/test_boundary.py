"""Reasoning-boundary comparison: curves, crossovers, boundary sets, the recipe and `curator compare`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from curator import load_pipeline
from curator.analysis.boundary import compare
from curator.analysis.models import parse_model_spec, parse_models
from curator.analysis.outcomes import Outcomes, outcomes_from_rows
from curator.publish.boundary_report import write_report

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"


def outcomes(model: str, correct_rows: list[list[bool]], ids: list[str] | None = None) -> Outcomes:
    """Outcomes where every correct sample answers "1" and every wrong one a distinct number."""
    ids = ids or [f"p{i}" for i in range(len(correct_rows))]
    samples = [[{"correct": ok, "extracted": "1" if ok else str(10 + j), "status": "ok"} for j, ok in enumerate(row)]
               for row in correct_rows]
    groups = [[0 if ok else j + 1 for j, ok in enumerate(row)] for row in correct_rows]
    return outcomes_from_rows(model, ids, samples, groups)


def test_base_model_overtakes_the_tuned_one_at_large_k():
    # tuned: sharp - always right on 6 problems, never on 2; base: right 1 time in 8 on all 8
    tuned = outcomes("tuned", [[True] * 8] * 6 + [[False] * 8] * 2)
    base = outcomes("base", [[True] + [False] * 7] * 8)
    report = compare([tuned, base], resamples=100)
    assert report.ks == [1, 2, 4, 8]
    assert report.curves["tuned"].pass_at_k[0] == pytest.approx(0.75)
    assert report.curves["base"].pass_at_k[0] == pytest.approx(0.125)
    assert report.curves["base"].pass_at_k[-1] == pytest.approx(1.0)
    crossing = report.crossovers[0]
    assert crossing["ahead_at_1"] == "tuned" and crossing["behind_at_1"] == "base"
    assert crossing["pass_crossover_k"] == 8  # base: pass@k = k/8, so 0.5 at k=4 and 1.0 at k=8
    assert crossing["maj_crossover_k"] is None  # a 1-in-8 answer never wins a vote
    b = report.boundaries[0]
    assert (b.a, b.b) == ("tuned", "base")
    assert b.a_only == [] and sorted(b.b_only) == ["p6", "p7"]
    assert b.both == 6 and b.neither == 0 and b.total == report.problems == 8


def test_only_problems_every_model_could_be_graded_on_are_compared():
    a = outcomes("a", [[True, False], [False, False], [True, True]])
    b = outcomes_from_rows("b", ["p0", "p1", "p2"], [[{"correct": True, "extracted": "1", "status": "ok"}],
                                                     [{"correct": None, "extracted": None, "status": "ok"}], []],
                           [[0], [], []])
    report = compare([a, b], resamples=50)
    assert report.problems == 1 and report.dropped == {"a": 0, "b": 2}
    assert report.per_problem["id"].to_list() == ["p0"]


def test_breakdown_by_domain_and_report_files(tmp_path):
    a = outcomes("a", [[True, True], [False, True], [False, False], [True, False]])
    b = outcomes("b", [[True, False], [False, False], [False, True], [True, True]])
    problems = pl.DataFrame({"id": ["p0", "p1", "p2", "p3"], "problem": ["x"] * 4, "answer": ["1"] * 4,
                             "domain": ["algebra", "algebra", "geometry", "geometry"]})
    report = compare([a, b], problems, resamples=50)
    algebra = report.breakdown.filter((pl.col("model") == "a") & (pl.col("by") == "domain")
                                      & (pl.col("value") == "algebra") & (pl.col("k") == 1))
    assert algebra["pass_at_k"].item() == pytest.approx(0.75) and algebra["problems"].item() == 2
    readme = write_report(report, tmp_path / "rep", title="a <b>")
    text = readme.read_text()
    assert "a &lt;b&gt;" in text and "<b>" not in text  # labels are inert
    for rel in ("plots/pass_at_k.png", "plots/maj_at_k.png", "report.json", "per_problem.parquet",
                "breakdown.csv", "boundary/a__not__b.jsonl", "boundary/b__not__a.jsonl"):
        assert (tmp_path / "rep" / rel).is_file(), rel
    summary = json.loads((tmp_path / "rep" / "report.json").read_text())
    cells = summary["boundaries"][0]
    assert cells["a_only"] + cells["b_only"] + cells["both"] + cells["neither"] == summary["problems"] == 4
    a_only = pl.read_ndjson(tmp_path / "rep" / "boundary/a__not__b.jsonl")
    assert a_only["id"].to_list() == ["p1"] and a_only["domain"].to_list() == ["algebra"]


def test_model_specs():
    m = parse_model_spec("rl=openai:Qwen/Qwen2.5-7B@T0.6|http://127.0.0.1:8001/v1")
    assert (m.label, m.backend, m.model, m.temperature, m.endpoints) == (
        "rl", "openai", "Qwen/Qwen2.5-7B", 0.6, "http://127.0.0.1:8001/v1")
    with pytest.raises(ValueError, match="needs a label"):
        parse_model_spec("embedded@T0.3")
    with pytest.raises(ValueError, match="distinct"):
        parse_models(["A=embedded", "a=embedded@T1.0"])


@pytest.mark.slow
def test_boundary_recipe_and_compare_on_the_embedded_model(tmp_path):
    """Two real backends (the embedded 135M model at T=0.3 and T=1.0 stands in for base vs tuned)."""
    out = tmp_path / "boundary"
    cache = tmp_path / "requests.sqlite"  # one request cache: the one-model builds below reuse every sample
    params = {"limit": "3", "k": "8", "max_tokens": "12"}
    df = load_pipeline(PIPELINES / "boundary.py", params).run(out, quiet=True, request_cache=cache)
    tags = {s["source_model"] for row in df["samples"].to_list() for s in row}
    assert tags == {"cold", "hot"}
    assert all(len(row) == 16 for row in df["samples"].to_list())
    summary = json.loads((out / "report" / "report.json").read_text())
    assert summary["models"] == ["cold", "hot"] and summary["ks"] == [1, 2, 4, 8]
    cells = summary["boundaries"][0]
    assert cells["a_only"] + cells["b_only"] + cells["both"] + cells["neither"] == summary["problems"] == 3
    for m in ("cold", "hot"):
        curve = summary["curves"][m]
        assert all(0.0 <= v <= 1.0 for v in curve["pass_at_k"])
        assert curve["pass_at_k"] == sorted(curve["pass_at_k"])  # pass@k never falls with k
    card = (out / "README.md").read_text()
    assert "## pass@k and maj@k curves" in card and (out / "plots" / "pass_at_k_curve.png").is_file()

    # raising k reuses every finished sample: only the new ones are requested
    more = load_pipeline(PIPELINES / "boundary.py", {**params, "k": "9"}).run(out, quiet=True, request_cache=cache)
    funnel = {s["stage"]: s for s in json.loads((out / "funnel.json").read_text())["stages"]}
    assert funnel["generate_cold"]["info"]["cache_hits"] == 3 * 8
    assert all(len(row) == 18 for row in more["samples"].to_list())

    # the same report across two one-model builds, through the CLI
    singles = []
    for name, temp in (("low", "0.3"), ("high", "1.0")):
        d = tmp_path / name
        load_pipeline(PIPELINES / "boundary.py", {**params, "models": f"{name}=embedded@T{temp}"}).run(
            d, quiet=True, request_cache=cache)
        singles.append(str(d))
    rep = tmp_path / "cmp"
    res = subprocess.run([sys.executable, "-m", "curator.cli", "compare", *singles, "--out", str(rep)],
                         capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr
    both = json.loads((rep / "report.json").read_text())
    assert both["models"] == ["low", "high"] and both["problems"] == 3
    # the same requests as the two-model build (served from the cache): the same pass@k curves
    np.testing.assert_allclose(both["curves"]["low"]["pass_at_k"], summary["curves"]["cold"]["pass_at_k"])
    np.testing.assert_allclose(both["curves"]["high"]["pass_at_k"], summary["curves"]["hot"]["pass_at_k"])
