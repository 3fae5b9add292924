"""The card's facts from a build's files: numbers, licenses, languages, and stages by declared role."""

from __future__ import annotations

import statistics
from pathlib import Path

import polars as pl
from hypothesis import given
from hypothesis import strategies as st

from curator.publish import card_facts as facts
from curator.publish.build_output import Build


def _build(funnel: list[dict], stages: list[dict], table: pl.DataFrame | None = None) -> Build:
    return Build(Path("."), funnel, {"pipeline": "t", "stages": stages}, [], table, None)


def _stage(name: str, rows_in: int, rows_out: int, dropped: dict | None = None, info: dict | None = None) -> dict:
    return {"stage": name, "scope": "row", "rows_in": rows_in, "rows_out": rows_out, "dropped": dropped or {},
            "samples_out": 0, "samples_added": 0, "samples_dropped": {}, "info": info or {}}


@given(st.lists(st.floats(-1e6, 1e6, allow_nan=False), min_size=1, max_size=50))
def test_describe_orders_its_quantiles_and_agrees_with_statistics(values):
    d = facts.describe(values)
    assert d["n"] == len(values)
    assert d["min"] <= d["p10"] <= d["median"] <= d["p90"] <= d["max"]
    assert abs(d["median"] - statistics.median(values)) <= 1e-6 * max(1.0, abs(d["median"]))


def test_licenses_come_from_the_rows_never_guessed():
    df = pl.DataFrame({"source": ["a", "a", "b", "c"], "license": ["MIT", "MIT", "Apache-2.0", None]})
    assert facts.declared_licenses(df) == ["Apache-2.0", "MIT"]
    report = facts.license_report(df, {"license": ["mit", "apache-2.0"]})
    assert report["undeclared"] == 1 and report["value"] == "mit, apache-2.0"
    assert report["by_source"][0] == {"source": "a", "license": "MIT", "rows": 2}
    in_meta = pl.DataFrame({"meta": ['{"license": "CC-BY-4.0"}', None]})
    assert facts.declared_licenses(in_meta) == ["CC-BY-4.0"]


def test_language_codes_are_iso_639_and_counts_skip_an_empty_column():
    df = pl.DataFrame({"language": ["zh-CN", "en", "EN", "xx-not-a-language", None]})
    assert facts.language_codes(df) == ["en", "zh"]
    assert facts.language_counts(pl.DataFrame({"language": [None, None]}, schema={"language": pl.String})) == {}


def test_models_are_listed_with_the_role_their_stage_declared_not_its_name():
    ident = {"type": "OpenAI", "identity": {"model": "m-1", "kind": "openai"}}
    stages = [{"name": "draft_answers", "role": "teacher", "params": {"backend": ident, "k": 4}},
              {"name": "teacher_like_name", "role": "", "params": {"backend": ident}},
              {"name": "probe", "role": "probe", "params": {"backend": ident}},
              {"name": "ask_reference", "role": "reference", "params": {"backend": ident}}]
    got = {s["stage"]: s["role"] for s in facts.models(_build([], stages))["stages"]}
    assert got == {"draft_answers": "teacher", "teacher_like_name": "model", "probe": "probe",
                   "ask_reference": "reference / judge"}


def test_dedup_and_decontamination_reports_follow_roles():
    funnel = [_stage("load", 10, 10), _stage("near_dups", 10, 8, {"near duplicate": 2}, {"method": "minhash"}),
              _stage("dedup_lookalike", 8, 8, info={"note": "x"}),
              _stage("bench_check", 8, 7, {"contaminated (ngram)": 1}, {"ngram": 8})]
    stages = [{"name": "near_dups", "role": "dedup"}, {"name": "dedup_lookalike", "role": ""},
              {"name": "bench_check", "role": "decontamination"}]
    build = _build(funnel, stages)
    dedup = facts.stage_reports(build, "dedup")
    assert [(r["stage"], r["removed"]) for r in dedup] == [("near_dups", 2)]
    assert [r["stage"] for r in facts.stage_reports(build, "decontamination")] == ["bench_check"]
    assert [r["stage"] for r in facts.other_reports(build)] == ["dedup_lookalike"]
    assert facts.stage_reports(build, "language") is None


def test_funnel_totals_count_generated_samples_after_the_load():
    funnel = [_stage("load", 5, 4), {**_stage("generate", 4, 4), "samples_added": 16, "samples_out": 16},
              {**_stage("keep", 4, 3), "samples_out": 9}]
    assert facts.funnel_totals(funnel) == {"rows_in": 5, "rows_out": 3, "samples_generated": 16, "samples_out": 9}
    assert facts.funnel_totals([])["rows_in"] == 0
