"""Decontamination against benchmark files: each rule, the report, numeric variants caught."""

from __future__ import annotations

import json

import polars as pl
import pytest

from curator.core.pipeline import Pipeline
from curator.core.sources import SAMPLE_PROBLEMS
from filters.decontaminate import (
    Benchmark,
    BenchmarkIndex,
    Decontaminate,
    contamination,
    exact_key,
    ngram_keys,
    parse_benchmark_spec,
)
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


# --- benchmark specs: [NAME=]SOURCE[@CONFIG][:SPLIT[:COLUMN]] ---------------------------------------------
@pytest.mark.parametrize(("spec", "name", "path", "config", "split", "column"), [
    ("HuggingFaceH4/aime_2024:train:problem", "aime_2024", "HuggingFaceH4/aime_2024", None, "train", "problem"),
    ("gsm8k=openai/gsm8k@main:test:question", "gsm8k", "openai/gsm8k", "main", "test", "question"),
    ("openai/gsm8k@main", "gsm8k", "openai/gsm8k", "main", "test", None),
    ("math=HuggingFaceH4/MATH-500", "math", "HuggingFaceH4/MATH-500", None, "test", None),
    ("cais/mmlu@abstract_algebra:validation", "mmlu", "cais/mmlu", "abstract_algebra", "validation", None),
])
def test_hub_spec_is_parsed(spec, name, path, config, split, column):
    b = parse_benchmark_spec(spec)
    assert (b.name, b.path, b.config, b.split, b.column) == (name, path, config, split, column)


@pytest.mark.parametrize(("spec", "message"), [
    ("", "empty benchmark"),
    ("openai/gsm8k:test:question:extra", "too many ':'"),
    ("openai/gsm8k@ma in:test", "config 'ma in'"),
    ("openai/gsm8k:te st", "split 'te st'"),
    ("no such/thing", "neither an existing file"),
    ("missing_eval.jsonl", "not found"),
    ("bad name!=openai/gsm8k", "name 'bad name!'"),
])
def test_bad_spec_says_what_was_wrong(spec, message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(")):
        parse_benchmark_spec(spec)


def test_file_spec_takes_a_column_but_no_split(bench_file):
    b = parse_benchmark_spec(f"{bench_file}::question")
    assert (b.name, b.column) == ("gsm8k_test", "question") and b.load().height == 3
    with pytest.raises(ValueError, match="no split"):
        parse_benchmark_spec(f"{bench_file}:test")


def test_hub_loader_reads_config_split_and_column_from_a_local_dataset_folder(tmp_path, monkeypatch):
    """The Hub path (datasets.load_dataset) offline, on a dataset repository saved locally."""
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    repo = tmp_path / "gsm8k_repo"
    (repo / "main").mkdir(parents=True)
    (repo / "README.md").write_text("---\nconfigs:\n- config_name: main\n  data_files:\n"
                                    "  - split: test\n    path: main/test.jsonl\n---\n")
    (repo / "main" / "test.jsonl").write_text(json.dumps({"question": NATALIA, "answer": "72"}) + "\n")
    stage = Decontaminate(benchmarks=(f"gsm8k={repo}@main:test:question",), drop=False)
    b = stage.benchmarks[0]
    assert (b.config, b.split, b.column) == ("main", "test", "question")
    out = stage.apply(pl.DataFrame({"problem": [NATALIA, "What is 9 + 8?"]}))
    assert out.kept["contaminated_by"].to_list() == ["gsm8k:0", None]
    with pytest.raises(RuntimeError, match="split 'train'"):
        Decontaminate(benchmarks=(f"{repo}@main:train",)).build_index()


# --- script-aware n-grams and precision mode ---------------------------------------------------------------
TRIANGLE = "在△ABC中，角A，B，C所对的边分别为a，b，c，已知a=3，b=5，cosC=1/3，求c的值。"
CONCLUSION = ("已知函数f(x)=sin(2x+π/6)，则下列结论中正确的是（  ）\nA．f(x)的最小正周期为2π\nB．f(x)的图象关于直线x=π/6对称\n"
              "C．f(x)在区间(0，π/6)上单调递增\nD．f(x)的图象关于点(π/12，0)对称")
ZH_BENCH = [TRIANGLE, CONCLUSION, "在△ABC中，角A，B，C所对的边分别为a，b，c，且2bcosA=acosC+ccosA，求角A的大小。",
            "已知a>b>0，c<0，则下列结论中正确的是（  ）\nA．a/c>b/c\nB．ac²<bc²\nC．a−c>b−c\nD．c/a<c/b"]


@pytest.fixture
def zh_index():
    items = pl.DataFrame({"item_id": [f"g{i}" for i in range(len(ZH_BENCH))], "text": ZH_BENCH})
    return BenchmarkIndex.build([("gaokao", items)], 8, 12, cjk_ngram=18)


@pytest.mark.parametrize(("row", "expected"), [
    (TRIANGLE, "gaokao:g0"),  # copy
    ("问题：" + TRIANGLE + "请写出解答过程。", "gaokao:g0"),  # corpus prefix and suffix
    (TRIANGLE.replace("求c的值", "试求c的值"), "gaokao:g0"),  # one-word edit
    (TRIANGLE.replace("a=3", "a=4"), "gaokao:g0"),  # numeric variant: its own (exact) rule
    (CONCLUSION.replace("sin(2x+π/6)", "sin(2x+π/3)"), "gaokao:g1"),
    ("在△ABC中，角A，B，C所对的边分别为a，b，c，已知b²+c²−a²=bc，求角A的大小。", None),  # shares the stem only
    ("在△ABC中，角A，B，C所对的边分别为a，b，c，且c=2，C=π/3，求△ABC面积的最大值。", None),
    ("已知函数f(x)=|x|+cosx，则下列结论中正确的是（  ）\nA．f(x)是奇函数\nB．f(x)是偶函数\nC．f(x)是周期函数\nD．f(x)的最小值为0", None),
    ("设l是一条直线，α，β是两个不同的平面，则下列结论中正确的是（  ）\nA．若l∥α，l∥β，则α∥β\nB．若l⊥α，l⊥β，则α∥β", None),
])
def test_gaokao_precision_mode(zh_index, row, expected):
    hit = zh_index.match(row, min_overlap=0.7)
    assert (hit.label if hit else None) == expected


def test_recall_mode_flags_a_shared_stem_that_precision_mode_keeps(zh_index):
    stem_only = "在△ABC中，角A，B，C所对的边分别为a，b，c，已知b²+c²−a²=bc，求角A的大小。"
    old = BenchmarkIndex.build([("g", pl.DataFrame({"item_id": ["0"], "text": [TRIANGLE]}))], 8, 12, cjk_ngram=None)
    assert old.match(stem_only) is not None  # CJK characters as words: the 17-character stem is enough
    assert zh_index.match(stem_only, min_overlap=0.7) is None


def test_cjk_text_uses_character_ngrams_and_latin_words():
    assert len(ngram_keys("在△ABC中，角A，B，C所对的边分别为a，b，c", 8, 18)) == 1  # 17 tokens: one whole gram
    assert len(ngram_keys("one two three four five six seven eight nine", 8, 18)) == 2


def test_precision_stage_records_every_hit(bench_file):
    stage = Decontaminate(benchmarks=(str(bench_file),), drop=False, precision=True)
    shared_phrase = "Tell me: she sold half as many clips in May. What is 3 + 4?"
    out = stage.apply(pl.DataFrame({"problem": [NATALIA, shared_phrase, JANET.replace("16", "18")]})).kept
    assert out["contaminated_by"].to_list() == ["gsm8k_test:gsm-1", None, "gsm8k_test:gsm-2"]
    assert out["contamination_rule"].to_list() == ["ngram", None, "ngram"]
    overlaps = out["contamination_overlap"].to_list()
    assert overlaps[0] == 1.0 and overlaps[1] is None and 0.7 <= overlaps[2] < 1.0  # one number changed
    assert out["contamination_item"][2] == JANET
    assert Decontaminate(benchmarks=(str(bench_file),)).apply(
        pl.DataFrame({"problem": [shared_phrase]})).kept.height == 0  # recall mode: one 8-gram is a hit


def test_min_overlap_must_be_a_share(bench_file):
    with pytest.raises(ValueError, match="between 0 and 1"):
        Decontaminate(benchmarks=(str(bench_file),), min_overlap=70)


def test_cli_param_reaches_the_stage_with_split_config_and_column():
    """``--param benchmarks=...`` as the cold-start recipe reads it (nothing is loaded here)."""
    from curator.core.params import apply_overrides
    from pipelines.cold_start import Params

    p = apply_overrides(Params(), ["benchmarks=HuggingFaceH4/aime_2024:train:problem,gsm8k=openai/gsm8k@main"])
    stage = Decontaminate(benchmarks=p.benchmarks, precision=True)
    got = [(b.name, b.path, b.config, b.split, b.column) for b in stage.benchmarks]
    assert got == [("aime_2024", "HuggingFaceH4/aime_2024", None, "train", "problem"),
                   ("gsm8k", "openai/gsm8k", "main", "test", None)]
