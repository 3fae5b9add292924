"""Decontamination against benchmark files: each rule, the report, numeric variants caught."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curator.core.pipeline import Pipeline
from curator.core.sources import SAMPLE_PROBLEMS
from filters.decontaminate import Benchmark, BenchmarkIndex, Decontaminate, contamination, exact_key
from filters.dedup import dedup_groups

NATALIA = ("Natalia sold clips to 48 of her friends in April, and then she sold half as many clips in May. "
           "How many clips did Natalia sell altogether in April and May?")
JANET = "Janet's ducks lay 16 eggs per day. She eats three for breakfast every morning and bakes muffins."


@pytest.fixture
def bench_file(tmp_path):
    path = tmp_path / "gsm8k_test.jsonl"
    rows = [{"id": "gsm-1", "question": NATALIA}, {"id": "gsm-2", "question": JANET},
            {"id": "gsm-3", "question": "求方程 x^2 - 5x + 6 = 0 的两个实数根之和与两个实数根之积的差。"}]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows))
    return path


def _index(bench_file, n=8):
    return BenchmarkIndex.build([("gsm8k", Benchmark("gsm8k", str(bench_file)).load())], n)


def test_each_rule(bench_file):
    index = _index(bench_file)
    shared_8gram = "Tell me: she sold half as many clips in May. What is 3 + 4?"
    changed_numbers = NATALIA.replace("48", "52")
    rephrased = JANET.replace("16", "20").replace("ducks", "hens")  # the second sentence is intact
    problems = [shared_8gram, changed_numbers, "What is 2 + 2?", rephrased,
                "方程 x^2 - 5x + 6 = 0 的两个实数根之和与两个实数根之积的差是多少？"]
    marks, report = contamination(pl.DataFrame({"problem": problems}), index, fuzzy_threshold=None)
    by, rule = marks["contaminated_by"], marks["contamination_rule"]
    assert rule.to_list()[:3] == ["ngram", "ngram", None]
    assert by[0] == "gsm8k:gsm-1" and by[1] == "gsm8k:gsm-1"
    assert rule[4] == "ngram" and by[4] == "gsm8k:gsm-3"  # CJK in character n-grams
    r = report["benchmarks"]["gsm8k"]
    assert rule[3] == "ngram" and by[3] == "gsm8k:gsm-2"
    assert r["items"] == 3 and r["items_matched"] == 3 and r["rows_matched"] == 4


def test_exact_rule_catches_changed_numbers(bench_file):
    index = _index(bench_file, n=32)  # Light-R1's 32-grams: too long to match this short item
    variant = JANET.replace("16", "18")
    marks, _ = contamination(pl.DataFrame({"problem": [variant, JANET.replace("three", "four")]}), index)
    assert marks["contamination_rule"].to_list() == ["exact", None]
    assert exact_key("What is 12 + 7?") == exact_key("What is 13+7")


def test_fuzzy_rule(bench_file):
    index = _index(bench_file, n=32)
    near = JANET.replace("three", "thee")  # a typo: no exact key match, ratio > 95
    marks, report = contamination(pl.DataFrame({"problem": [near]}), index, fuzzy_threshold=95)
    assert marks["contamination_rule"].to_list() == ["fuzzy"] and report["benchmarks"]["gsm8k"]["by_rule"]["fuzzy"] == 1
    marks, _ = contamination(pl.DataFrame({"problem": [near]}), index, fuzzy_threshold=None)
    assert marks["contamination_rule"].to_list() == [None]


def test_numeric_variants_kept_by_dedup_but_caught_by_decontamination(bench_file, tmp_path):
    variants = [NATALIA.replace("48", str(n)) for n in (48, 50, 60, 72)]
    df = pl.DataFrame({"id": [f"v{n}" for n in range(4)], "problem": variants, "answer": [None] * 4},
                      schema={"id": pl.String, "problem": pl.String, "answer": pl.String})
    marks, _ = dedup_groups(df)
    assert marks["dup_reason"].null_count() == 4
    marks, _ = contamination(df, _index(bench_file))
    assert marks["contaminated_by"].to_list() == ["gsm8k:gsm-1"] * 4


def test_stage_report_and_rejects(bench_file, tmp_path):
    df = pl.DataFrame({"problem": [NATALIA.replace("48", "50"), "What is 9 + 8?"], "source": ["x", "x"]})
    stage = Decontaminate(benchmarks=(f"gsm8k={bench_file}", str(SAMPLE_PROBLEMS)))
    out = Pipeline("dc", df, [stage]).run(tmp_path / "o", quiet=True)
    assert out["problem"].to_list() == ["What is 9 + 8?"] and out["contaminated_by"].null_count() == 1
    funnel = json.loads((tmp_path / "o" / "funnel.json").read_text())
    step = next(s for s in (funnel["stages"] if isinstance(funnel, dict) else funnel) if s["stage"] == "decontaminate")
    report = step["info"]["decontamination"]["benchmarks"]
    assert report["gsm8k"]["rows_matched"] == 1 and report["gsm8k"]["by_rule"]["ngram"] == 1
    assert set(report) == {"gsm8k", "sample_problems"}
    rej = pl.read_parquet(next((tmp_path / "o" / "rejects").glob("*.parquet")))
    assert rej["reason"].to_list() == ["contaminated (ngram)"] and rej["contaminated_by"][0] == "gsm8k:gsm-1"
    assert rej["contamination_item"][0] == NATALIA and 0.7 < rej["contamination_overlap"][0] <= 1.0
    assert step["info"]["decontamination"]["hits"][0]["contaminated_by"] == "gsm8k:gsm-1"


def test_mark_only_and_fingerprint_follows_content(bench_file):
    stage = Decontaminate(benchmarks=(str(bench_file),), drop=False)
    out = stage.apply(pl.DataFrame({"problem": [NATALIA]}))
    assert out.kept.height == 1 and out.kept["contaminated_by"][0] == "gsm8k_test:gsm-1"
    from curator.core.fingerprint import canonical

    before = canonical(stage.params())
    bench_file.write_text(bench_file.read_text() + json.dumps({"id": "x", "question": "new"}) + "\n")
    assert canonical(Decontaminate(benchmarks=(str(bench_file),)).params()) != before


def test_missing_hub_dataset_says_what_to_do():
    with pytest.raises(RuntimeError, match="local file"):
        Decontaminate(benchmarks=("no-such-org/no-such-benchmark",)).build_index()


def test_no_benchmarks_is_an_error():
    with pytest.raises(ValueError, match="at least one benchmark"):
        Decontaminate()
