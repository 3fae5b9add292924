"""Trainer-ready exports: Output objects that write what SFT and RL trainers read as-is.

- :class:`SFTMessages`: chat ``messages`` (system / user / assistant, reasoning inside
  ``<think>``), the conversational form TRL's SFTTrainer and LLaMA-Factory (``sharegpt``
  formatting with OpenAI tags) read.
- :class:`ShareGPT`: LLaMA-Factory's sharegpt form, ``conversations`` of ``{from, value}`` with
  ``human`` / ``gpt`` and a ``system`` column.
- :class:`VerlParquet`: verl's RL data schema (``data_source``, ``prompt`` as chat messages,
  ``ability``, ``reward_model: {style: "rule", ground_truth}``, ``extra_info``), Parquet only.
- :class:`GRPOPrompts`: ``prompt`` (chat messages), ``problem`` and ``solution``, the columns
  TRL's GRPOTrainer (``prompt``, reward kwargs such as ``solution``) and open-r1 (``problem``,
  ``solution``) read.

Each writes one file per split (``split_column="splits"`` after a Curriculum stage) and
returns ``OutputFile`` records. The SFT exports also write LLaMA-Factory's ``dataset_info.json``
next to their files so ``dataset_dir`` can point straight at them.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import polars as pl

from curator.core.io import write_table
from curator.core.outputs import OutputFile, check_name
from curator.core.samples import explode_samples
from curator.publish.grading_fields import grading_fields
from curator.selection.curriculum import iter_splits

PerProblem = Literal["one", "all"]
Format = Literal["jsonl", "parquet"]

#: the MATH-style instruction verl's MATH preprocessing and DeepScaleR append to each problem
BOXED_INSTRUCTION = "Let's think step by step and output the final answer within \\boxed{}."
#: a data_source verl's default_compute_score knows (its boxed-answer MATH scorer), so a run
#: without custom_reward_function still gets a reward instead of NotImplementedError; the
#: row's own source goes to extra_info.source
VERL_DATA_SOURCE = "lighteval/MATH"
#: extra_info fields curator.rewards.verl_reward grades with (besides split, index, id)
GRADING_INFO = ("source", "answer_kind", "options", "language", "max_response_length")


def _parts(df: pl.DataFrame, split: str, split_column: str | None) -> list[tuple[str, pl.DataFrame]]:
    parts = list(iter_splits(df, split_column)) if split_column else [(split, df)]
    for name, _ in parts:  # names become paths: every one checked before any file is written
        check_name("split", str(name), f"export split column {split_column!r}" if split_column else "export")
    return parts


def _write(df: pl.DataFrame, out_dir: Path, config: str, split: str, fmt: str) -> OutputFile:
    check_name("config", config, "export")
    rel = f"data/{config}/{split}.{fmt}"
    write_table(df, Path(out_dir) / rel)
    return OutputFile(config, split, rel, df.height, fmt)


def chosen_samples(df: pl.DataFrame, per_problem: PerProblem = "one", require_correct: bool = True,
                   context: tuple[str, ...] = ("id", "problem", "source", "domain")) -> pl.DataFrame:
    """One row per training example: the best usable sample of each problem (or all of them).

    Usable: status ok (or unset), and ``correct`` when ``require_correct``. Best: highest
    ``quality_score`` when the samples have one (LIMO), else the first in order.
    """
    flat = explode_samples(df, tuple(c for c in context if c in df.columns))
    ok = pl.col("status").is_null() | (pl.col("status") == "ok")
    if require_correct:
        ok = ok & pl.col("correct").fill_null(False)
    flat = flat.filter(ok)
    score = pl.col("quality_score").fill_null(-1.0) if "quality_score" in flat.columns else pl.lit(0.0)
    flat = flat.sort(["_row", score.alias("_q"), "sample_idx"], descending=[False, True, False]) \
        if "quality_score" in flat.columns else flat.sort(["_row", "sample_idx"])
    if per_problem == "one":
        flat = flat.unique("_row", keep="first", maintain_order=True)
    return flat


def assistant_content(think: bool = True) -> pl.Expr:
    """``<think>\\nreasoning\\n</think>\\n\\nfinal`` (R1's format); the raw text when no reasoning."""
    final = pl.coalesce(pl.col("final"), pl.col("text").str.replace(r"(?s)^.*</think>", "").str.strip_chars())
    if not think:
        return final.fill_null("")
    with_think = pl.concat_str([pl.lit("<think>\n"), pl.col("reasoning").str.strip_chars(), pl.lit("\n</think>\n\n"),
                                final.fill_null("").str.strip_chars()])
    return pl.when(pl.col("reasoning").is_not_null()).then(with_think).otherwise(pl.col("text").fill_null(""))


def _message(role: str | pl.Expr, content: pl.Expr, role_key: str = "role", content_key: str = "content") -> pl.Expr:
    role_expr = pl.lit(role) if isinstance(role, str) else role
    return pl.struct(role_expr.alias(role_key), content.cast(pl.String).alias(content_key))


def user_turns(flat: pl.DataFrame, template: str | None = "plain") -> pl.Series:
    """The user turn of each row's prompt spec (``plain``: the problem and its options)."""
    from curator.generation.prompts import prompt_columns, row_messages

    rows = flat.select([c for c in prompt_columns() if c in flat.columns]).to_dicts()
    return pl.Series("_user", [row_messages(r, template or "plain")[-1]["content"] for r in rows], pl.String)


def sft_messages(flat: pl.DataFrame, system: str | None = None, think: bool = True,
                 reasoning_field: str | None = None, template: str | None = "plain") -> pl.Series:
    """A ``messages`` list per chosen sample: [system], user (problem and options), assistant (think + answer).

    ``reasoning_field`` (``reasoning_content`` for Qwen3-style templates, ``thinking`` for
    GPT-OSS): the reasoning goes in that key of the assistant message and ``content`` holds
    the answer, for chat templates that render the reasoning from its own field (and drop a
    ``<think>`` block written into ``content``). ``template``: the user turn's prompt spec.
    """
    flat = flat.with_columns(user_turns(flat, template))
    if reasoning_field is None:
        turns = ([_message("system", pl.lit(system))] if system else []) + [
            _message("user", pl.col("_user")), _message("assistant", assistant_content(think))]
        return flat.select(pl.concat_list(turns).alias("messages"))["messages"]
    none = pl.lit(None, dtype=pl.String).alias(reasoning_field)
    reasoning = pl.col("reasoning").str.strip_chars() if think else pl.lit(None, dtype=pl.String)
    turns = ([pl.struct(pl.lit("system").alias("role"), pl.lit(system).alias("content"), none)] if system else []) + [
        pl.struct(pl.lit("user").alias("role"), pl.col("_user").alias("content"), none),
        pl.struct(pl.lit("assistant").alias("role"),
                  pl.when(pl.col("reasoning").is_not_null()).then(assistant_content(False))
                  .otherwise(pl.col("text").fill_null("")).alias("content"),
                  reasoning.alias(reasoning_field))]
    return flat.select(pl.concat_list(turns).alias("messages"))["messages"]


def _check_rows(flat: pl.DataFrame, df: pl.DataFrame, on_missing: str, what: str) -> None:
    if on_missing == "error":
        missing = df.height - flat["_row"].n_unique() if flat.height else df.height
        if missing:
            raise ValueError(f"{what}: {missing} of {df.height} problems have no usable sample (correct, status ok); "
                             "add a rejection-sampling stage before the export, or pass on_missing='skip'")


def _llama_factory_info(out_dir: Path, config: str, files: list[OutputFile], entry: dict) -> None:
    info = {f"{config}_{f.split}": {**entry, "file_name": Path(f.path).name} for f in files}
    path = Path(out_dir) / "data" / config / "dataset_info.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=2) + "\n")


@dataclass
class SFTMessages:
    """Chat ``messages`` rows for TRL's SFTTrainer and LLaMA-Factory (OpenAI-style sharegpt)."""

    config: str = "sft"
    split: str = "train"
    system: str | None = None  # optional system prompt; None writes user + assistant only
    template: str | None = "plain"  # the user turn's prompt spec; "plain" = problem and options
    think: bool = True  # reasoning inside <think>...</think> before the answer (R1)
    per_problem: PerProblem = "one"  # "all": one row per usable sample (rejection-sampling sets)
    require_correct: bool = True
    on_missing: Literal["error", "skip"] = "error"
    split_column: str | None = None  # "splits" / "split": one file per curriculum stage
    format: Format = "jsonl"
    keep_columns: tuple[str, ...] = ("id", "source", "domain")
    reasoning_field: str | None = None  # None: <think> inside content; "reasoning_content": its own key

    def rows(self, df: pl.DataFrame) -> pl.DataFrame:
        ctx = tuple(dict.fromkeys(("id", "problem", "options", "language", "meta", *self.keep_columns)))
        flat = chosen_samples(df, self.per_problem, self.require_correct, ctx)
        _check_rows(flat, df, self.on_missing, "SFT export")
        keep = [c for c in self.keep_columns if c in flat.columns]
        return flat.select(sft_messages(flat, self.system, self.think, self.reasoning_field, self.template), *keep)

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        files = [_write(self.rows(part), out_dir, self.config, name, self.format)
                 for name, part in _parts(df, self.split, self.split_column)]
        tags = {"role_tag": "role", "content_tag": "content", "user_tag": "user",
                "assistant_tag": "assistant", "system_tag": "system"}
        _llama_factory_info(out_dir, self.config, files,
                            {"formatting": "sharegpt", "columns": {"messages": "messages"}, "tags": tags})
        return files


@dataclass
class ShareGPT(SFTMessages):
    """LLaMA-Factory's sharegpt form: ``conversations`` [{from: human|gpt, value}] + ``system``."""

    config: str = "sharegpt"

    def rows(self, df: pl.DataFrame) -> pl.DataFrame:
        ctx = tuple(dict.fromkeys(("id", "problem", "options", "language", "meta", *self.keep_columns)))
        flat = chosen_samples(df, self.per_problem, self.require_correct, ctx)
        _check_rows(flat, df, self.on_missing, "ShareGPT export")
        flat = flat.with_columns(user_turns(flat, self.template))
        turns = [_message("human", pl.col("_user"), "from", "value"),
                 _message("gpt", assistant_content(self.think), "from", "value")]
        keep = [c for c in self.keep_columns if c in flat.columns]
        return flat.select(pl.concat_list(turns).alias("conversations"),
                           pl.lit(self.system or "", dtype=pl.String).alias("system"), *keep)

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        files = [_write(self.rows(part), out_dir, self.config, name, self.format)
                 for name, part in _parts(df, self.split, self.split_column)]
        _llama_factory_info(out_dir, self.config, files, {
            "formatting": "sharegpt", "columns": {"messages": "conversations", "system": "system"}})
        return files


def verl_schema(extra: dict | None = None) -> object:
    """The Arrow schema of verl's RL data files (its data preparation docs), ``extra_info`` widened."""
    import pyarrow as pa

    message = pa.struct([("role", pa.string()), ("content", pa.string())])
    extra_fields = [("split", pa.string()), ("index", pa.int64()), ("id", pa.string())]
    extra_fields += list((extra or {}).items())
    return pa.schema([
        ("data_source", pa.string()),
        ("prompt", pa.list_(message)),
        ("ability", pa.string()),
        ("reward_model", pa.struct([("style", pa.string()), ("ground_truth", pa.string())])),
        ("extra_info", pa.struct(extra_fields)),
    ])


MESSAGES_DTYPE = pl.List(pl.Struct({"role": pl.String, "content": pl.String}))


def rl_prompt(df: pl.DataFrame, template: str | None, system: str | None = None,
              instruction: str | None = None) -> pl.Series:
    """Chat messages per row from the item's prompt spec (``curator.generation.prompts.row_messages``:
    the prompt generation and the difficulty probe sent); ``instruction`` appended and ``system``
    prepended when given (earlier fixed-string behaviour)."""
    from curator.generation.prompts import prompt_columns, row_messages

    rows = df.select([c for c in prompt_columns() if c in df.columns]).to_dicts()
    out = []
    for row in rows:
        msgs = [dict(m) for m in row_messages(row, template or "plain")]
        if instruction:
            msgs[-1]["content"] = f"{msgs[-1]['content']} {instruction}"
        if system and msgs[0]["role"] != "system":
            msgs.insert(0, {"role": "system", "content": system})
        out.append(msgs)
    return pl.Series("prompt", out, dtype=MESSAGES_DTYPE)


@dataclass
class VerlParquet:
    """RL prompts in verl's Parquet schema; rows without a gold answer are an error (no reward).

    ``extra_info`` carries what ``curator.rewards.verl_reward.compute_score`` grades with:
    ``answer_kind``, ``options`` (JSON), ``language``, ``max_response_length``, and the row's
    ``source``.
    """

    config: str = "verl"
    split: str = "train"
    data_source: str | None = VERL_DATA_SOURCE  # verl picks its default scorer by it; None: the row's source
    ability: str = "math"
    template: str | None = "boxed"  # prompt spec (prompt_spec.SPECS): BOXED_INSTRUCTION, zh / choice variants
    system: str | None = None
    instruction: str | None = None  # a fixed string appended to every prompt instead (earlier default)
    split_column: str | None = None
    # sampling_weight: Kimi k1.5 prioritized sampling (curator.selection.priority), read by
    # curator.analysis.verl_sampler.PrioritizedSampler
    extra_columns: tuple[str, ...] = ("domain", "difficulty", "pass_rate", "bin", "sampling_weight")
    kind: str = "math"  # answer kind of rows whose meta / answer_kind column names none (as Verify)
    language: str | None = None  # target language of the reasoning; None: the row's, else detected
    max_response_length: int | None = None  # L_max of the overlong punishment (verl data.max_response_length)

    def table(self, df: pl.DataFrame, split: str) -> object:
        import pyarrow as pa

        gold = pl.coalesce("answer", "tests") if "tests" in df.columns else pl.col("answer")  # code: its tests
        if df.select(gold.is_null() | (gold.str.strip_chars() == "")).to_series().any():
            raise ValueError("verl export: every RL prompt needs a gold answer (or, for code, tests) for its rule "
                             "reward; drop rows without one first (rl_pool.Evaluable)")
        extras = [c for c in self.extra_columns if c in df.columns and c not in GRADING_INFO]  # written below
        types = {"domain": pa.string(), "bin": pa.string(), "difficulty": pa.float64(), "pass_rate": pa.float64(),
                 "sampling_weight": pa.float64()}
        grading = {"source": pa.string(), "answer_kind": pa.string(), "options": pa.string(),
                   "language": pa.string(), "max_response_length": pa.int64()}
        schema = verl_schema({**grading, **{c: types.get(c, pa.string()) for c in extras}})
        source = pl.lit(self.data_source) if self.data_source else pl.col("source").fill_null("curator")
        fields = grading_fields(df, self.kind, self.language)
        df = df.with_columns(fields.rename({c: f"_g_{c}" for c in fields.columns}))
        row_source = pl.col("source").cast(pl.String) if "source" in df.columns else pl.lit(None, dtype=pl.String)
        out = df.select(
            source.cast(pl.String).alias("data_source"),
            rl_prompt(df, self.template, self.system, self.instruction).alias("prompt"),
            pl.lit(self.ability).alias("ability"),
            pl.struct(pl.lit("rule").alias("style"), gold.alias("ground_truth")).alias("reward_model"),
            pl.struct(pl.lit(split).alias("split"), pl.int_range(pl.len(), dtype=pl.Int64).alias("index"),
                      pl.col("id"), row_source.alias("source"),
                      *[pl.col(f"_g_{c}").alias(c) for c in ("answer_kind", "options", "language")],
                      pl.lit(self.max_response_length, dtype=pl.Int64).alias("max_response_length"),
                      *[pl.col(c).cast(pl.Float64 if types.get(c) == pa.float64() else pl.String)
                        for c in extras]).alias("extra_info"),
        )
        return out.to_arrow().cast(schema)

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        import pyarrow.parquet as pq

        files = []
        for name, part in _parts(df, self.split, self.split_column):
            rel = f"data/{self.config}/{name}.parquet"
            path = Path(out_dir) / rel
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(path.name + ".tmp")
            pq.write_table(self.table(part, name), tmp)
            tmp.replace(path)
            files.append(OutputFile(self.config, name, rel, part.height, "parquet"))
        return files


@dataclass
class GRPOPrompts:
    """``prompt`` / ``problem`` / ``solution`` rows for TRL's GRPOTrainer and open-r1's GRPO script.

    Also the columns ``curator.rewards.trl_reward`` grades with (TRL passes every column to
    reward functions): ``answer``, ``answer_kind``, ``options`` (JSON), ``language``, and
    ``label``, the same as one JSON object for OpenRLHF's ``--label_key label``.
    """

    config: str = "grpo"
    split: str = "train"
    template: str | None = "plain"  # prompt spec (prompt_spec.SPECS); "plain" = problem and options only
    system: str | None = None
    instruction: str | None = None  # appended to the problem in ``prompt``; open-r1 uses a system prompt
    boxed_solution: bool = True  # gold wrapped in \boxed{} so math-verify parses it (Skywork-OR1)
    split_column: str | None = None
    format: Format = "parquet"
    # tests: the code reward; sampling_weight: Kimi k1.5 prioritized sampling (curator.selection.priority)
    keep_columns: tuple[str, ...] = ("id", "source", "domain", "difficulty", "tests", "sampling_weight")
    kind: str = "math"  # answer kind of rows whose meta / answer_kind column names none (as Verify)
    language: str | None = None  # target language of the reasoning; None: the row's, else detected
    max_response_length: int | None = None  # L_max of the overlong punishment, written to each row

    def rows(self, df: pl.DataFrame) -> pl.DataFrame:
        gold = pl.col("answer").cast(pl.String)
        solution = pl.concat_str([pl.lit("$\\boxed{"), gold, pl.lit("}$")]) if self.boxed_solution else gold
        keep = [c for c in self.keep_columns if c in df.columns]
        fields = grading_fields(df, self.kind, self.language)
        grading = [pl.col(f"_g_{c}").alias(c) for c in fields.columns]
        grading.append(pl.lit(self.max_response_length, dtype=pl.Int64).alias("max_response_length"))
        label_gold = pl.coalesce(gold, pl.col("tests").cast(pl.String)) if "tests" in df.columns else gold  # code
        label = pl.struct(label_gold.alias("answer"), *grading).struct.json_encode().alias("label")
        keep = [c for c in keep if c not in fields.columns]
        prompt = rl_prompt(df, self.template, self.system, self.instruction)
        return df.with_columns(fields.rename({c: f"_g_{c}" for c in fields.columns})).select(
            prompt.alias("prompt"), pl.col("problem"), solution.alias("solution"),
            pl.col("answer"), *grading, label, *keep)

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        return [_write(self.rows(part), out_dir, self.config, name, self.format)
                for name, part in _parts(df, self.split, self.split_column)]
