"""`curator inspect`: funnel, outputs, columns, rejects by reason and rendered samples in the terminal."""

from __future__ import annotations

import io
import json
from pathlib import Path

import polars as pl
import pytest
from outputs_build import build_demo, demo_table
from rich.console import Console
from typer.testing import CliRunner

from curator.cli import app
from curator.publish.build_output import Build
from curator.publish.inspect import column_summary, inspect_build, rejects_summary


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    df = demo_table(20).with_columns(
        pl.when(pl.int_range(pl.len()) == 0).then(pl.lit("[bold]Literal brackets[/bold]: what is 0 + 0?"))
        .otherwise(pl.col("problem")).alias("problem"))
    return build_demo(tmp_path_factory.mktemp("inspect") / "demo", df)


def _render(out: Path, samples: int = 2) -> str:
    console = Console(width=160, record=True, file=io.StringIO())
    inspect_build(out, console, samples=samples)
    return console.export_text()


def test_inspect_shows_funnel_outputs_columns_rejects_and_samples(built: Path) -> None:
    text = _render(built)
    funnel = json.loads((built / "funnel.json").read_text())["stages"]
    for stage in funnel:
        assert stage["stage"] in text
        for reason in stage["dropped"]:
            assert reason in text
    for f in json.loads((built / "outputs.json").read_text()):
        assert f["path"] in text
    for col in ("difficulty", "pass_at_4", "split", "samples"):
        assert col in text
    assert "list[struct]" in text  # data text is never read as rich markup
    assert "[bold]Literal brackets[/bold]" in text
    assert text.count("row 0  id") == 1 and "row 1  id" in text and "row 2  id" not in text
    assert "sample 1 of" in text and "reasoning" in text


def test_rejects_summary_counts_match_the_funnel(built: Path) -> None:
    build = Build.load(built)
    funnel = {s["stage"]: s["dropped"] for s in build.funnel}
    for stage, reason, n, _example in rejects_summary(build):
        assert funnel[stage][reason] == n


def test_column_summary_describes_each_type() -> None:
    df = pl.DataFrame({"x": [1.0, 2.0, None], "flag": [True, False, True], "s": ["a", "a", "b"], "_hidden": [1, 2, 3]})
    rows = {r[0]: r for r in column_summary(df)}
    assert set(rows) == {"x", "flag", "s"}
    assert rows["x"][2] == "2" and "mean 1.500" in rows["x"][3]
    assert "66.7% true" in rows["flag"][3]
    assert "2 distinct" in rows["s"][3] and "'a' (2)" in rows["s"][3]


def test_cli_inspect(built: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["inspect", str(built), "-n", "1"])
    assert result.exit_code == 0, result.output
    assert "Funnel" in result.output and "too_easy" in result.output
    missing = CliRunner().invoke(app, ["inspect", str(tmp_path)])
    assert missing.exit_code == 1 and "funnel.json is missing" in missing.output


def test_model_text_cannot_drive_the_terminal() -> None:
    from curator.publish.inspect import _sample_panel

    hostile = "\x1b[2J\x1b]0;pwned\x07[bold]not markup[/bold]\x1b]8;;http://evil\x07link\x1b]8;;\x07\x9b31m"
    row = {"id": "x", "problem": hostile, "answer": "1",
           "samples": [{"text": hostile, "reasoning": hostile, "final": hostile, "extracted": hostile}]}
    from rich.console import Console

    console = Console(record=True, width=120, color_system=None)
    console.print(_sample_panel(row, 0, 100))
    shown = console.export_text()
    assert "\x1b" not in shown and "\x07" not in shown and "\x9b" not in shown
    assert "\\x1b[2J" in shown and "[bold]not markup[/bold]" in shown
