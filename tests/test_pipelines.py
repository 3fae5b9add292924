"""The recipes in pipelines/ end to end, twice over.

1. On the embedded 135M model and the bundled sample (tiny k, max_tokens and limit so the
   suite stays fast on 2 cores): the build finishes, the funnel adds up, every output loads
   with ``datasets``, the card is written, and a second build is answered from the cache.
2. Against a real OpenAI-compatible HTTP server on 127.0.0.1 serving ``ScriptedTeacher`` - a
   test double for a strong teacher, not a model: it answers the bundled problems correctly
   with a per-problem probability, in R1's format, with some deliberately flawed chains. The
   135M model almost never gets an answer right, so this is where rejection sampling,
   difficulty bins, pools, selections and the language filter see non-trivial data.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import polars as pl
import pytest

from curator import load_pipeline
from curator.core.funnel import read_funnel
from tests.servers.openai_fake import serve
from tests.servers.scripted_teacher import ScriptedTeacher

pytestmark = pytest.mark.slow

PIPELINES = Path(__file__).resolve().parent.parent / "pipelines"
NAMES = ("cold_start", "rejection_sampling", "consensus", "rl_pool", "s1k", "limo")

#: the embedded model is slow on 2 cores: a few one-digit additions, one or two short samples
EMBEDDED: dict[str, dict[str, str]] = {
    "cold_start": {"k": "1"},
    "rejection_sampling": {"k": "1"},
    "consensus": {},
    "rl_pool": {"k": "2"},
    "s1k": {"probe_max_tokens": "24"},
    "limo": {"k": "1", "probe_max_tokens": "24"},
}
SMALL = {"limit": "3", "max_tokens": "24"}


def build(name: str, out: Path, params: dict[str, str], work_dir: Path | None = None) -> pl.DataFrame:
    return load_pipeline(PIPELINES / f"{name}.py", params).run(out, work_dir=work_dir, quiet=True)


def funnel(out: Path) -> dict[str, Any]:
    return {s["stage"]: s for s in json.loads((out / "funnel.json").read_text())["stages"]}


def rejects(out: Path, stage: str, samples: bool = False) -> pl.DataFrame:
    files = sorted((out / "rejects").glob(f"*-{stage}.{'samples.' if samples else ''}parquet"))
    return pl.read_parquet(files[0]) if files else pl.DataFrame()


def output_file(out: Path, config: str, split: str = "train") -> Path:
    entry = next(o for o in json.loads((out / "outputs.json").read_text())
                 if o["config"] == config and o["split"] == split)
    return out / entry["path"]


def load_with_datasets(path: Path, cache: Path) -> Any:
    import datasets

    kind = "parquet" if path.suffix == ".parquet" else "json"
    return datasets.load_dataset(kind, data_files=str(path), split="train", cache_dir=str(cache))


def assert_outputs_load(out: Path, cache: Path) -> int:
    """Every non-empty output file loads with ``datasets`` with the row count outputs.json gives;
    empty ones (``datasets`` refuses a file without rows) must really be empty. Returns files loaded."""
    loaded = 0
    for f in json.loads((out / "outputs.json").read_text()):
        path = out / f["path"]
        if f["rows"]:
            assert len(load_with_datasets(path, cache)) == f["rows"], f
            loaded += 1
        else:
            empty = pl.read_parquet(path).height == 0 if path.suffix == ".parquet" else not path.read_text().strip()
            assert empty, f
    return loaded


def assert_funnel_adds_up(out: Path, final_rows: int) -> None:
    stats = read_funnel(out / "funnel.json")
    for before, stage in zip(stats, stats[1:], strict=False):
        assert stage.rows_in == before.rows_out, f"{stage.stage} got {stage.rows_in} rows, {before.stage} gave {before.rows_out}"
        assert stage.samples_in == before.samples_out, stage.stage
    for stage in stats:
        stage.check()  # rows in = kept + dropped per reason; samples likewise
    assert stats[-1].rows_out == final_rows


# -- 1. the embedded model --------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def shared_work(tmp_path_factory):
    """One work dir (stage cache + request cache) for the embedded builds: the recipes send some
    identical requests (same prompt, sampling and seed), and the model is slow on 2 cores."""
    return tmp_path_factory.mktemp("work")


@pytest.fixture(scope="module", params=NAMES)
def embedded_build(request, tmp_path_factory, shared_work):
    name = request.param
    out = tmp_path_factory.mktemp(name) / "out"
    params = {**SMALL, **EMBEDDED[name]}
    df = build(name, out, params, shared_work)
    return name, out, params, df, shared_work


def test_embedded_build_finishes_adds_up_loads_and_caches(embedded_build, tmp_path):
    name, out, params, df, work = embedded_build
    assert_funnel_adds_up(out, df.height)
    assert (out / "README.md").is_file() and "---" in (out / "README.md").read_text()[:10]
    assert any(f["config"] == "default" for f in json.loads((out / "outputs.json").read_text()))
    # the 135M model rarely boxes a right answer, so these tables are often empty; the scripted
    # teacher's builds below load every (non-empty) output with ``datasets``
    assert_outputs_load(out, tmp_path / "hf")
    run = json.loads((out / "run.json").read_text())
    assert run["params"]["fields"]["max_tokens"] == 24 and run["pipeline"] == name

    again = build(name, out, params, work)  # a fresh pipeline object: every stage from the cache
    assert again.height == df.height
    not_cached = [s for s in funnel(out).values() if not s["cached"]]
    assert not not_cached, f"stages rerun on an unchanged build: {[s['stage'] for s in not_cached]}"


# -- 2. a scripted strong teacher on loopback ----------------------------------------------------------------

@pytest.fixture(scope="module")
def teacher_url():
    teacher = ScriptedTeacher()

    def respond(req: dict[str, Any]) -> str:  # the fake server asks once per choice
        return teacher({**req, "n": 1, "seed": int(req.get("seed") or 0) + req["choice_index"]})[0]

    with serve(respond) as server:
        yield server.base_url


@pytest.fixture(scope="module")
def scripted(teacher_url, tmp_path_factory):
    """Build a pipeline once against the teacher; later calls with the same args reuse it."""
    built: dict[tuple, tuple[Path, pl.DataFrame]] = {}

    def run(name: str, **params: str) -> tuple[Path, pl.DataFrame]:
        key = (name, tuple(sorted(params.items())))
        if key not in built:
            out = tmp_path_factory.mktemp(f"scripted_{name}") / "out"
            full = {"backend": "openai", "model": "scripted-teacher", "endpoints": teacher_url, **params}
            df = build(name, out, full)
            assert_funnel_adds_up(out, df.height)
            assert assert_outputs_load(out, out.parent / "hf") >= 2  # the full table and the export(s)
            assert (out / "README.md").is_file()
            built[key] = (out, df)
        return built[key]

    return run


def test_cold_start_keeps_readable_correct_chains(scripted):
    out, df = scripted("cold_start", k="4")
    f = funnel(out)
    rs = f["rejection_sample"]
    assert 0 < rs["rows_out"] < rs["rows_in"] and rs["dropped"].get("no correct sample", 0) > 0
    for samples in df["samples"].to_list():  # one readable, correct chain per problem
        assert len(samples) == 1 and samples[0]["correct"] is True and samples[0]["reasoning"]
    assert f["readability"]["samples_dropped"].get("repetition (lines)", 0) > 0
    sft = pl.read_ndjson(output_file(out, "sft"))
    assert sft.height == df.height
    assert all(m[-1]["content"].startswith("<think>") for m in sft["messages"].to_list())


def test_language_filter_drops_chinese_chains_with_an_english_sentence(scripted):
    out, _ = scripted("cold_start", k="4")
    dropped = rejects(out, "language_consistency", samples=True)
    assert dropped.height > 0
    assert set(dropped["language"].to_list()) == {"zh"}
    assert all("in English" in t for t in dropped["text"].to_list())
    kept = funnel(out)["language_consistency"]
    assert kept["samples_out"] > 0


def test_rejection_sampling_caps_per_problem_and_exports_every_kept_chain(scripted):
    out, df = scripted("rejection_sampling", k="8", per_problem="3")
    f = funnel(out)["rejection_sample"]
    assert 0 < f["rows_out"] < f["rows_in"]
    assert f["samples_dropped"].get("incorrect sample", 0) > 0
    counts = df["samples"].list.len().to_list()
    assert max(counts) == 3 and min(counts) >= 1
    assert all(s["correct"] for row in df["samples"].to_list() for s in row)
    sft = pl.read_ndjson(output_file(out, "sft"))
    assert sft.height == sum(counts)
    assert pl.read_ndjson(output_file(out, "sharegpt")).height == sum(counts)


def test_consensus_keeps_items_the_reference_agrees_with(scripted):
    out, df = scripted("consensus")
    f = funnel(out)["consensus"]
    assert 0 < f["rows_out"] < f["rows_in"] and f["dropped"]["disagrees with reference"] > 0
    assert df["agrees_with_reference"].to_list() == [True] * df.height
    dropped = rejects(out, "consensus")
    assert dropped["agrees_with_reference"].to_list() == [False] * dropped.height
    assert dropped["reference_answer"].null_count() < dropped.height
    choice = df.filter(pl.col("problem").str.contains(r"\(A\)"))  # the multiple-choice item, graded by letter
    assert choice.height + dropped.filter(pl.col("problem").str.contains(r"\(A\)")).height == 1
    verl = pl.read_parquet(output_file(out, "verl"))
    assert verl.height == df.height and verl["reward_model"].struct.field("style").unique().to_list() == ["rule"]


def test_consensus_majority_vote_pseudo_labels_without_gold(scripted, tmp_path_factory):
    src = tmp_path_factory.mktemp("nogold") / "problems.jsonl"
    rows = [json.loads(line) for line in (PIPELINES.parent / "curator/data/sample_problems.jsonl").open()]
    rows = [r for r in rows if r["source"].startswith("reasoning-gym/")]
    src.write_text("".join(json.dumps({"problem": r["problem"], "hidden_gold": r["answer"]}) + "\n" for r in rows))
    out, df = scripted("consensus", input=str(src), k="8", temperature="1.0", tau="0.5")
    f = funnel(out)["consensus"]
    assert f["info"]["pseudo_labelled"] == df.height > 0
    assert any("below tau" in r for r in f["dropped"])
    assert df["pseudo_label"].all() and df["reference_frac"].min() >= 0.5
    gold = [json.loads(m)["hidden_gold"] for m in df["meta"].to_list()]
    right = sum(a == g for a, g in zip(df["answer"].to_list(), gold, strict=True))
    assert right >= 0.8 * df.height  # a majority of a mostly-right teacher is mostly right


def test_rl_pool_has_informative_balanced_prompts_and_curricula(scripted, tmp_path):
    out, df = scripted("rl_pool", k="8")
    f = funnel(out)
    assert f["difficulty"]["dropped"].get("unsolved", 0) > 0 and f["difficulty"]["dropped"].get("saturated", 0) > 0
    assert df.height > 0 and df["pass_rate"].min() > 0 and df["pass_rate"].max() < 1
    assert df["bin"].n_unique() >= 2  # easy / medium / hard, not one bin
    assert set(df["split"].unique()) == {"stage1", "stage2"}
    s1, s2 = df.filter(pl.col("split") == "stage1"), df.filter(pl.col("split") == "stage2")
    assert s1["difficulty"].max() <= s2["difficulty"].min()  # easy -> hard
    assert df["split_5stage"].n_unique() >= 3
    verl = load_with_datasets(output_file(out, "verl"), tmp_path / "hf")
    assert len(verl) == df.height and set(verl.column_names) >= {"data_source", "prompt", "reward_model"}
    staged = [o for o in json.loads((out / "outputs.json").read_text()) if o["config"] == "verl_2stage"]
    assert sorted(o["split"] for o in staged) == ["stage1", "stage2"] and sum(o["rows"] for o in staged) == df.height
    grpo = pl.read_parquet(output_file(out, "grpo"))
    assert grpo["solution"].str.starts_with("$\\boxed{").all()


def test_s1k_drops_what_the_probe_solves_and_draws_by_domain(scripted):
    out, df = scripted("s1k", n="10")
    f = funnel(out)
    assert f["solved_by_probe"]["dropped"]["solved by probe model"] > 0
    assert f["set_aside_probe"]["samples_out"] == 0  # the probe's answers are not training data
    assert 0 < df.height <= 10 and df["s1_order"].to_list() == sorted(df["s1_order"].to_list())
    assert all(len(s) == 1 and s[0]["correct"] for s in df["samples"].to_list())
    assert pl.read_ndjson(output_file(out, "sft")).height == df.height


def test_limo_keeps_the_best_chain_of_hard_problems(scripted):
    out, df = scripted("limo", k="8", max_correct="3", n="5")
    f = funnel(out)
    assert f["select_limo"]["dropped"].get("outside difficulty window", 0) > 0
    assert 0 < df.height <= 5
    assert df["n_correct"].max() <= 3 and df["n_correct"].min() >= 1
    for samples in df["samples"].to_list():
        assert len(samples) == 1 and samples[0]["correct"] and samples[0]["quality_score"] is not None
    assert pl.read_ndjson(output_file(out, "sft")).height == df.height


@pytest.mark.parametrize("select", ["s1", "limo"])
def test_cold_start_optional_selection_cuts_to_n(scripted, select):
    out, df = scripted("cold_start", k="4", select=select, n="10")
    stage = funnel(out)[f"select_{select}"]
    assert df.height == 10 and stage["rows_in"] > 10 and stage["dropped"]["not selected"] == stage["rows_in"] - 10
    assert pl.read_ndjson(output_file(out, "sft")).height == 10
