"""Loading problems: formats, column mapping, validation errors people can act on, quarantine."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import polars as pl
import pytest

from curator import InputError, Pipeline, ReadProblems, make_id, read_problems, write_table
from curator.core.funnel import read_funnel
from curator.core.table import PROBLEM_SCHEMA


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    with path.open("wb") as fh:
        for line in lines:
            fh.write((line.encode() if isinstance(line, str) else line) + b"\n")
    return path


GOOD = [json.dumps({"problem": f"What is {i} + 1?", "answer": str(i + 1)}) for i in range(5)]


def test_id_is_stable_across_runs_and_machines() -> None:
    # fixed values: a change here changes every cache key and every published id
    assert make_id("gsm8k", "What is 2+2?") == "1dcab54005d44d3d"
    assert make_id("sample/additions", "What is 7 + 8?") == "45220076db133619"
    assert make_id("s", "a  b\n") == make_id("s", "a b")
    assert make_id("s", "a b") != make_id("t", "a b")


def test_jsonl_loads_with_fixed_columns_and_meta(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "p.jsonl", [json.dumps({"problem": "1+1?", "answer": 2, "level": 3})])
    df = read_problems(path).table
    assert df.columns[: len(PROBLEM_SCHEMA) + 1] == [*PROBLEM_SCHEMA, "samples"]
    row = df.row(0, named=True)
    assert row["answer"] == "2" and row["source"] == "p" and json.loads(row["meta"]) == {"level": 3}


def test_malformed_jsonl_line_names_file_line_and_fix(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "bad.jsonl", [GOOD[0], GOOD[1], '{"problem": "x", "answer": ', GOOD[2]])
    with pytest.raises(InputError) as err:
        read_problems(path)
    msg = str(err.value)
    assert f"{path}, line 3, column" in msg
    assert "malformed JSON" in msg
    assert "--on-bad-rows quarantine" in msg


def test_non_utf8_line_names_the_line_and_suggests_reencoding(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "latin.jsonl", [GOOD[0], '{"problem": "caf\xe9"}'.encode("latin-1")])
    with pytest.raises(InputError, match=r"latin.jsonl, line 2, column \d+: bytes are not valid UTF-8.*iconv"):
        read_problems(path)


def test_missing_problem_column_says_how_to_map_it(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "q.jsonl", [json.dumps({"question": "1+1?", "solution": "2"})])
    with pytest.raises(InputError, match=r"columns=question->problem"):
        read_problems(path)
    df = read_problems(path, columns="question->problem,solution->answer").table
    assert df["problem"].to_list() == ["1+1?"] and df["answer"].to_list() == ["2"]


def test_quarantine_keeps_every_good_row_and_sets_bad_ones_aside(tmp_path: Path) -> None:
    lines = [GOOD[0], "not json", GOOD[1], b"\xff\xfe bad bytes", json.dumps({"problem": ""}), "[1, 2]",
             GOOD[2], json.dumps({"problem": "x" * 200_001})]
    path = write_lines(tmp_path / "mixed.jsonl", lines)
    result = read_problems(path, on_bad_rows="quarantine")
    assert result.table["problem"].to_list() == ["What is 0 + 1?", "What is 1 + 1?", "What is 2 + 1?"]
    bad = result.bad_rows
    assert bad["line"].to_list() == [2, 4, 5, 6, 8]
    reasons = bad["reason"].to_list()
    assert reasons[0].startswith("malformed JSON") and "UTF-8" in reasons[1] and "empty 'problem'" in reasons[2]
    assert "JSON object" in reasons[3] and "over the limit" in reasons[4]


def test_quarantined_rows_reach_the_funnel_and_the_output_dir(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "mixed.jsonl", [GOOD[0], "{oops", GOOD[1]])
    out = tmp_path / "out"
    Pipeline("t", ReadProblems(str(path), on_bad_rows="quarantine"), []).run(out, quiet=True)
    load = read_funnel(out / "funnel.json")[0]
    assert (load.rows_in, load.rows_out, sum(load.dropped.values())) == (3, 2, 1)
    q = [json.loads(x) for x in (out / "quarantine.jsonl").read_text().splitlines()]
    assert q[0]["line"] == 2 and q[0]["file"] == str(path) and q[0]["raw"].startswith("{oops")


def test_csv_parquet_and_saved_hf_dataset_load_the_same_rows(tmp_path: Path) -> None:
    import datasets

    rows = [{"question": f"q{i}", "solution": str(i)} for i in range(4)]
    pl.DataFrame(rows).write_csv(tmp_path / "p.csv")
    pl.DataFrame(rows).write_parquet(tmp_path / "p.parquet")
    datasets.Dataset.from_list(rows).save_to_disk(str(tmp_path / "hf"))
    mapping = "question->problem,solution->answer"
    frames = [read_problems(tmp_path / name, columns=mapping, source="s").table
              for name in ("p.csv", "p.parquet", "hf")]
    for df in frames[1:]:
        assert df.select("id", "problem", "answer").equals(frames[0].select("id", "problem", "answer"))


def test_csv_row_with_wrong_field_count_names_its_line(tmp_path: Path) -> None:
    (tmp_path / "p.csv").write_text("problem,answer\n1+1?,2\n2+2?,4,extra\n")
    with pytest.raises(InputError, match=r"p.csv, line 3: row has a different number of fields"):
        read_problems(tmp_path / "p.csv")


def test_unknown_hub_dataset_offline_is_one_clear_error() -> None:
    with pytest.raises(InputError, match="could not load the Hugging Face dataset"):
        read_problems("no-such-org/no-such-dataset")


def test_written_jsonl_and_parquet_read_back(tmp_path: Path) -> None:
    df = read_problems(write_lines(tmp_path / "p.jsonl", GOOD)).table
    for name in ("o.parquet", "o.jsonl"):
        write_table(df, tmp_path / name)
        back = read_problems(tmp_path / name).table
        assert back.select(list(PROBLEM_SCHEMA)).equals(df.select(list(PROBLEM_SCHEMA)))


def test_cli_reports_bad_input_in_one_line_without_a_traceback(tmp_path: Path) -> None:
    bad = write_lines(tmp_path / "bad.jsonl", [GOOD[0], "{nope"])
    pipe = tmp_path / "p.py"
    pipe.write_text(
        "from dataclasses import dataclass\n"
        "from curator import InputParams, Pipeline\n"
        "@dataclass\nclass Params(InputParams):\n    pass\n"
        "def build(p):\n    return Pipeline('p', p.reader(), [])\n"
    )
    cmd = [sys.executable, "-m", "curator.cli", "build", str(pipe), "--param", f"input={bad}", "--out",
           str(tmp_path / "out")]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    assert proc.returncode == 1
    assert "Traceback" not in proc.stderr
    assert "line 2" in proc.stderr and "malformed JSON" in proc.stderr
    ok = subprocess.run(cmd + ["--on-bad-rows", "quarantine", "-q"], capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert (tmp_path / "out" / "quarantine.jsonl").exists()


def test_parquet_input_is_validated_like_jsonl(tmp_path: Path) -> None:
    pl.DataFrame({"question": ["1+1?", "", None, "2+2?"], "level": [1, 2, 3, 4]}).write_parquet(tmp_path / "p.parquet")
    with pytest.raises(InputError, match=r"p.parquet, line 2: missing or empty 'problem'"):
        read_problems(tmp_path / "p.parquet", columns="question->problem")
    result = read_problems(tmp_path / "p.parquet", columns="question->problem", on_bad_rows="quarantine")
    assert result.table["problem"].to_list() == ["1+1?", "2+2?"]
    assert [json.loads(m) for m in result.table["meta"]] == [{"level": 1}, {"level": 4}]
    assert result.bad_rows["line"].to_list() == [2, 3]


def test_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="no such file"):
        read_problems(tmp_path / "nope.jsonl")
