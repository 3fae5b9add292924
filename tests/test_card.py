"""The data card: Hub-valid metadata, numbers equal to funnel.json, real PNG plots, graceful sections."""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from pathlib import Path

import polars as pl
import pytest
from huggingface_hub import DatasetCard, DatasetCardData
from outputs_build import build_demo, demo_table
from typer.testing import CliRunner

from curator import Pipeline, filter_stage
from curator.cli import app
from curator.core.io import write_table
from curator.core.outputs import OutputFile, TableOutput
from curator.publish.card import CHECKOUT_TEMPLATE, PACKAGED_TEMPLATE, CardError, render_card, validate_card

ROOT = Path(__file__).resolve().parents[1]
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_demo(tmp_path_factory.mktemp("card") / "demo")


def _card(out: Path) -> str:
    return (out / "README.md").read_text()


def _section(text: str, title: str) -> str:
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start: end if end != -1 else None]


def _table_rows(section: str) -> list[list[str]]:
    rows = [ln for ln in section.splitlines() if ln.startswith("| ") and not ln.startswith("|---")]
    return [[c.strip() for c in re.split(r"(?<!\\)\|", ln)[1:-1]] for ln in rows[1:]]


def _int(cell: str) -> int:
    return int(cell.replace(",", ""))


def _reasons(cell: str) -> dict[str, int]:
    if cell == "-":
        return {}
    return {k.strip(): _int(v) for k, v in (part.rsplit(":", 1) for part in cell.split("; "))}


def _png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()
    assert data[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def test_every_build_writes_a_card_with_its_plots(built: Path) -> None:
    text = _card(built)
    linked = re.findall(r"!\[[^\]]*\]\((plots/[^)]+\.png)\)", text)
    assert sorted(linked) == sorted(f"plots/{n}.png" for n in ("funnel", "difficulty", "reasoning_length", "languages"))
    for rel in linked:
        path = built / rel
        width, height = _png_size(path)
        assert path.stat().st_size > 5_000 and width >= 400 and height >= 150, (rel, width, height)


def test_front_matter_parses_and_validates_with_huggingface_hub(built: Path) -> None:
    card = DatasetCard.load(built / "README.md")
    data = DatasetCardData(**card.data.to_dict(), ignore_metadata_errors=False)
    assert validate_card(str(card)) == []
    assert data.license == ["apache-2.0", "mit"]  # inherited from meta.license of the rows
    assert data.language == ["en", "zh"]  # from the language column
    assert data.size_categories == ["n<1K"]
    assert "text-generation" in data.task_categories
    outputs = json.loads((built / "outputs.json").read_text())
    configs = {c["config_name"]: c for c in card.data.to_dict()["configs"]}
    for f in outputs:
        assert {"split": f["split"], "path": f["path"]} in configs[f["config"]]["data_files"]
    assert configs["default"]["default"] is True


def test_configs_load_with_datasets(built: Path, tmp_path: Path) -> None:
    import datasets

    outputs = json.loads((built / "outputs.json").read_text())
    for f in outputs:
        ds = datasets.load_dataset(str(built), f["config"], split=f["split"], cache_dir=str(tmp_path))
        assert ds.num_rows == f["rows"]
        assert "difficulty" in ds.column_names


def test_every_funnel_number_in_the_card_equals_funnel_json(built: Path) -> None:
    text = _card(built)
    funnel = json.loads((built / "funnel.json").read_text())["stages"]
    rows = _table_rows(_section(text, "Funnel"))
    assert len(rows) == len(funnel)
    for row, stage in zip(rows, funnel, strict=True):
        index, name, rows_in, kept, dropped, reasons, samples_kept, sample_reasons = row
        assert name == stage["stage"]
        assert _int(rows_in) == stage["rows_in"] and _int(kept) == stage["rows_out"]
        assert _int(dropped) == sum(stage["dropped"].values())
        assert _reasons(reasons) == stage["dropped"]
        assert _int(samples_kept) == stage["samples_out"]
        assert _reasons(sample_reasons) == stage["samples_dropped"]
    head = re.search(r"\*\*([\d,]+) problems\*\* with \*\*([\d,]+) generated samples\*\*, kept from\s+([\d,]+) input", text)
    assert head and _int(head[1]) == funnel[-1]["rows_out"] and _int(head[2]) == funnel[-1]["samples_out"]
    assert _int(head[3]) == funnel[0]["rows_in"]
    by_name = {s["stage"]: s for s in funnel}
    for title, stage in (("Decontamination", "decontaminate"), ("Deduplication", "dedup")):
        m = re.search(rf"Stage `{stage}` removed \*\*([\d,]+)\*\* of ([\d,]+) problems", _section(text, title))
        assert m and _int(m[1]) == sum(by_name[stage]["dropped"].values()) and _int(m[2]) == by_name[stage]["rows_in"]
    bench = _table_rows(_section(text, "Decontamination").split("| setting |")[0])
    removed = sum(by_name["decontaminate"]["dropped"].values())
    assert bench == [["sample_benchmark", "1", str(removed), str(removed), f"ngram: {removed}; exact: 0"]]
    assert "| rule | word 8-gram overlap |" in _section(text, "Decontamination")
    drops = _table_rows(_section(text, "Languages").split("Dropped for language:")[1])
    assert drops == [["language_consistency", "samples", "mixed languages in reasoning",
                      str(by_name["language_consistency"]["samples_dropped"]["mixed languages in reasoning"])]]


def test_sections_show_models_passk_curriculum_and_lengths(built: Path) -> None:
    text = _card(built)
    models = _section(text, "Models and sampling parameters")
    assert "HuggingFaceTB/SmolLM2-135M-Instruct" in models and "k=4" in models and "max_tokens=512" in models
    passk = {r[0]: r for r in _table_rows(_section(text, "pass@k and maj@k"))}
    df = pl.read_parquet(built / "data/all/train.parquet")
    assert float(passk["pass@4"][2]) == pytest.approx(df["pass_at_4"].mean(), abs=5e-4)
    assert float(passk["maj@k"][2]) == pytest.approx(df["maj_correct"].cast(pl.Float64).mean(), abs=5e-4)
    assert "42 problems that were probed" in text  # kept + every row dropped after probing
    curriculum = _section(text, "Difficulty and curriculum")
    splits = [r[0] for r in _table_rows(curriculum.split("Curriculum stages")[1].split("Difficulty bins")[0])]
    assert splits == ["stage1_easy", "stage2_hard"]  # easy to hard
    lengths = {r[0]: r for r in _table_rows(_section(text, "Reasoning length"))}
    flat = df.select(pl.col("split"), pl.col("samples")).explode("samples").unnest("samples")
    assert _int(lengths["all"][1]) == flat.height
    assert float(lengths["all"][5].replace(",", "")) == flat["completion_tokens"].max()
    assert "in completion tokens" in _section(text, "Reasoning length")


def test_card_degrades_gracefully_without_optional_columns(tmp_path: Path) -> None:
    df = pl.DataFrame({"problem": ["What is 1 + 1?", "What is 2 + 2?", "What is 2 + 2?"]})

    def dupes(frame: pl.DataFrame) -> pl.Series:
        return pl.Series([None if f else "exact duplicate" for f in frame["problem"].is_first_distinct()], dtype=pl.String)

    Pipeline("bare", df, [filter_stage(dupes, needs=("problem",))]).run(tmp_path / "bare", quiet=True)
    text = _card(tmp_path / "bare")
    assert validate_card(text) == []
    data = DatasetCard(text).data
    assert data.license == "unknown" and data.language is None
    assert "**Unknown.**" in _section(text, "License")
    for absent in ("Difficulty and curriculum", "pass@k and maj@k", "Reasoning length", "Models and sampling",
                   "Decontamination"):
        assert f"## {absent}" not in text
    assert sorted(p.name for p in (tmp_path / "bare" / "plots").iterdir()) == ["funnel.png"]


def test_license_is_inherited_or_declared_never_guessed(tmp_path: Path) -> None:
    out = build_demo(tmp_path / "nolicense", demo_table(12, licensed=False))
    assert DatasetCard.load(out / "README.md").data.license == "unknown"
    custom = demo_table(12).with_columns(pl.lit('{"license": "Custom Research License"}').alias("meta"))
    out = build_demo(tmp_path / "custom", custom)
    data = DatasetCard.load(out / "README.md").data
    assert data.license == "other" and data.to_dict()["license_name"] == "custom-research-license"
    assert validate_card((out / "README.md").read_text()) == []
    declared = render_card(out, into=tmp_path / "declared", license_value="CC-BY-4.0")
    assert DatasetCard(declared.text).data.license == "cc-by-4.0"


def test_curator_card_regenerates_from_a_custom_template(built: Path, tmp_path: Path) -> None:
    tpl = tmp_path / "mine.md.j2"
    tpl.write_text("---\n{{ front_matter }}---\n\n# {{ pretty_name }}\n\nrows: {{ rows | num }}\n")
    result = CliRunner().invoke(app, ["card", str(built), "--into", str(tmp_path / "card"), "--template", str(tpl)])
    assert result.exit_code == 0, result.output
    text = (tmp_path / "card" / "README.md").read_text()
    assert text.endswith("# Demo Set\n\nrows: 32\n")
    assert (tmp_path / "card" / "plots" / "funnel.png").read_bytes()[:8] == PNG_SIGNATURE
    tpl.write_text("{{ no_such_variable }}\n")
    with pytest.raises(CardError, match="mine.md.j2"):
        render_card(built, into=tmp_path / "broken", template=tpl)
    bad = CliRunner().invoke(app, ["card", str(tmp_path / "nothing-here")])
    assert bad.exit_code == 1 and "funnel.json is missing" in bad.output


def test_packaged_template_is_the_checkout_template() -> None:
    assert (ROOT / CHECKOUT_TEMPLATE).read_text() == PACKAGED_TEMPLATE.read_text(), (
        "copy data_cards/template.md.j2 to curator/templates/dataset_card.md.j2 so installed copies render the same card")


def test_card_has_no_machine_paths(tmp_path: Path) -> None:
    from curator import load_pipeline
    from curator.core.sources import SAMPLE_PROBLEMS

    pipe_file = tmp_path / "tiny.py"
    pipe_file.write_text(
        '"""A tiny pipeline over the bundled sample."""\n'
        "from dataclasses import dataclass\n"
        "from curator import InputParams, Pipeline\n\n"
        "@dataclass\nclass Params(InputParams):\n    pass\n\n"
        "def build(p: Params) -> Pipeline:\n    return Pipeline(name='tiny', source=p.reader(), stages=[])\n")
    pipe = load_pipeline(pipe_file, ["limit=5"])
    pipe.run(tmp_path / "tiny", quiet=True, command=f"curator build {pipe_file} --param limit=5")
    text = _card(tmp_path / "tiny")
    assert "A tiny pipeline over the bundled sample." in text  # the module docstring is the purpose
    assert str(SAMPLE_PROBLEMS.parent) not in text and "curator/data/sample_problems.jsonl" in text
    assert validate_card(text) == []


@dataclass
class HardOnly:
    """An output whose split can come out empty: only the rows a filter column marks."""

    def write(self, df: pl.DataFrame, out_dir: Path) -> list[OutputFile]:
        part = df.filter(pl.col("problem").str.contains("hard"))
        write_table(part, out_dir / "data/default/hard.parquet")
        return [OutputFile("default", "hard", "data/default/hard.parquet", part.height)]


def test_an_empty_split_is_left_out_of_configs_and_of_the_push(tmp_path: Path) -> None:
    import datasets

    from curator.publish.hub import HubError, plan_push

    df = pl.DataFrame({"problem": ["What is 1 + 1?", "What is 2 + 2?"]})
    out = tmp_path / "partly_empty"
    Pipeline("partly", df, [], outputs=[HardOnly(), TableOutput()]).run(out, quiet=True)
    text = _card(out)
    assert validate_card(text) == []
    splits = [f["split"] for c in DatasetCard(text).data.to_dict()["configs"] for f in c["data_files"]]
    assert splits == ["train"]  # `datasets` cannot load the 0-row "hard" split
    assert 'split="train"' in text and 'split="hard"' not in text  # the usage line names a loadable split
    assert datasets.load_dataset(str(out), "default", split="train", cache_dir=str(tmp_path / "hf")).num_rows == 2
    plan = plan_push(out, "my-lab/partly", plots_into=tmp_path / "plots")
    assert [u.split for u in plan.uploads if u.kind == "data"] == ["train"]
    assert any(line.startswith("skip  default/hard (0 rows") for line in plan.lines())

    empty = tmp_path / "all_empty"
    Pipeline("empty", df, [], outputs=[HardOnly()]).run(empty, quiet=True)
    with pytest.raises(HubError, match="every split has 0 rows"):
        plan_push(empty, "my-lab/empty", plots_into=tmp_path / "plots2")
