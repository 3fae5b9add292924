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


# -- hardening: every input error names the file, the place and what to do ------------------------


def test_csv_field_over_the_csv_module_limit_loads_or_is_a_named_bad_row(tmp_path: Path) -> None:
    long = "x" * 200_000  # over csv's default 131,072-character field limit
    path = tmp_path / "long.csv"
    path.write_text(f"problem,answer\nWhat is 1+1?,2\n{long},3\n", encoding="utf-8")
    with pytest.raises(InputError, match=r"long.csv, line 3: problem is 200,000 characters"):
        read_problems(path)
    result = read_problems(path, on_bad_rows="quarantine")
    assert result.table["problem"].to_list() == ["What is 1+1?"] and result.bad_rows["line"].to_list() == [3]
    assert read_problems(path, max_chars=300_000).table.height == 2
    import csv

    assert csv.field_size_limit() == 131_072  # restored for everyone else


def test_unterminated_csv_quote_is_a_named_bad_row(tmp_path: Path) -> None:
    path = tmp_path / "quote.csv"
    path.write_bytes(b'problem,answer\nWhat is 1+1?,2\n"never closed,3\n')
    result = read_problems(path, on_bad_rows="quarantine")
    assert result.table["problem"].to_list() == ["What is 1+1?"]


def test_corrupt_parquet_names_the_file_and_the_row_group(tmp_path: Path) -> None:
    path = tmp_path / "c.parquet"
    pl.DataFrame({"problem": [f"What is {i}?" for i in range(30)]}).write_parquet(path, row_group_size=10)
    raw = path.read_bytes()
    (tmp_path / "cut.parquet").write_bytes(raw[: len(raw) // 2])
    with pytest.raises(InputError, match=r"cut.parquet: not a readable Parquet file .*copy or export it again"):
        read_problems(tmp_path / "cut.parquet")
    # damage the data of the second row group only: the others still load in quarantine mode
    import pyarrow.parquet as pq

    meta = pq.ParquetFile(path).metadata
    col = meta.row_group(1).column(0)
    start = col.dictionary_page_offset or col.data_page_offset
    broken = bytearray(raw)
    broken[start:start + 40] = b"\xff" * 40
    (tmp_path / "rg.parquet").write_bytes(bytes(broken))
    with pytest.raises(InputError, match=r"rg.parquet, line 11: Parquet row group 1 \(rows 11-20\) is unreadable"):
        read_problems(tmp_path / "rg.parquet")
    result = read_problems(tmp_path / "rg.parquet", on_bad_rows="quarantine")
    assert result.table.height == 20 and result.bad_rows["reason"].str.contains("row group 1").all()


def test_list_column_is_not_stringified_as_a_series(tmp_path: Path) -> None:
    path = tmp_path / "lists.parquet"
    pl.DataFrame({"problem": ["a?", "b?"], "answer": [[1, 2], [3]], "tags": [[1], [2]]}).write_parquet(path)
    df = read_problems(path).table
    assert df["answer"].to_list() == ["[1, 2]", "[3]"]  # a list of accepted answers: JSON
    assert all("Series" not in (m or "") for m in df["meta"]) and json.loads(df["meta"][0]) == {"tags": [1]}
    pl.DataFrame({"problem": [[1], [2]]}).write_parquet(tmp_path / "lp.parquet")
    with pytest.raises(InputError, match=r"lp.parquet: column 'problem' holds List\(Int64\), not text"):
        read_problems(tmp_path / "lp.parquet")
    pl.DataFrame({"problem": ["a?"], "source": [[1]]}).write_parquet(tmp_path / "ls.parquet")
    with pytest.raises(InputError, match=r"column 'source' holds List"):
        read_problems(tmp_path / "ls.parquet")


def test_integer_problem_is_a_clear_error_and_numbers_elsewhere_are_cast(tmp_path: Path) -> None:
    pl.DataFrame({"problem": [1, 2], "answer": [3, 4]}).write_parquet(tmp_path / "ints.parquet")
    with pytest.raises(InputError, match=r"column 'problem' holds Int64, not text.*columns=question->problem"):
        read_problems(tmp_path / "ints.parquet")
    path = write_lines(tmp_path / "ints.jsonl", [json.dumps({"problem": 7, "answer": 1}), GOOD[0]])
    with pytest.raises(InputError, match=r"ints.jsonl, line 1: 'problem' is int \(7\), not text"):
        read_problems(path)
    result = read_problems(path, on_bad_rows="quarantine")
    assert result.table["answer"].to_list() == ["1"] and result.bad_rows.height == 1
    pl.DataFrame({"problem": ["a?"], "answer": [0.5]}).write_parquet(tmp_path / "f.parquet")
    assert read_problems(tmp_path / "f.parquet").table["answer"].to_list() == ["0.5"]


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".parquet"])
def test_column_mapping_typo_names_the_column_and_the_columns_that_exist(tmp_path: Path, suffix: str) -> None:
    frame = pl.DataFrame({"question": ["1+1?"], "final_answer": ["2"]})
    path = tmp_path / f"m{suffix}"
    {".jsonl": frame.write_ndjson, ".csv": frame.write_csv, ".parquet": frame.write_parquet}[suffix](path)
    with pytest.raises(InputError, match=r"final_answr->answer names a column that does not exist; the columns are "
                                         r"\['question', 'final_answer'\]"):
        read_problems(path, columns="question->problem,final_answr->answer")


@pytest.mark.parametrize("suffix", [".jsonl", ".parquet"])
def test_mapping_onto_an_existing_column_replaces_it_and_says_so(tmp_path: Path, suffix: str) -> None:
    frame = pl.DataFrame({"question": ["Which?"], "answer": ["Aspirin"], "answer_idx": ["B"]})  # MedQA's shape
    path = tmp_path / f"medqa{suffix}"
    (frame.write_ndjson if suffix == ".jsonl" else frame.write_parquet)(path)
    result = read_problems(path, columns="question->problem,answer_idx->answer")
    assert result.table["answer"].to_list() == ["B"]
    assert json.loads(result.table["meta"][0]) == {"answer": "Aspirin"}  # nothing lost
    assert result.notes == ["column mapping answer_idx->answer replaces the input's own 'answer' column; "
                            "the input's 'answer' is kept in meta['answer']"]


def test_mapping_note_reaches_the_funnel(tmp_path: Path) -> None:
    path = write_lines(tmp_path / "medqa.jsonl", [json.dumps({"problem": "Which?", "answer": "x", "answer_idx": "B"})])
    Pipeline("notes", ReadProblems(str(path), columns="answer_idx->answer"), []).run(tmp_path / "out", quiet=True)
    load = json.loads((tmp_path / "out" / "funnel.json").read_text())["stages"][0]
    assert "replaces the input's own 'answer' column" in load["info"]["notes"][0]


def test_benchmark_files_are_validated_by_the_loader(tmp_path: Path) -> None:
    from filters.decontaminate import Benchmark

    bad = write_lines(tmp_path / "bench.jsonl", [json.dumps({"problem": "x"}), "{oops"])
    with pytest.raises(InputError, match=r"benchmark 'aime' .*bench.jsonl, line 2, column 2: malformed JSON.*fix or remove that record"):
        Benchmark("aime", str(bad)).load()
    (tmp_path / "b.parquet").write_bytes(b"PAR1 not really")
    with pytest.raises(InputError, match=r"benchmark 'b' .*b.parquet: not a readable Parquet file"):
        Benchmark("b", str(tmp_path / "b.parquet")).load()


def test_split_and_config_names_are_checked_before_anything_is_written(tmp_path: Path) -> None:
    from curator.core.outputs import SplitOutput, TableOutput

    with pytest.raises(InputError, match=r"split name '\.\./etc' is not valid"):
        TableOutput(split="../etc")
    with pytest.raises(InputError, match=r"config name 'a/b' is not valid"):
        SplitOutput(config="a/b")
    df = pl.DataFrame({"problem": ["a", "b"], "split": ["train", "../../x"]})
    with pytest.raises(InputError, match=r"column 'split': split name '../../x' is not valid"):
        SplitOutput().write(df, tmp_path)
    assert not (tmp_path / "data").exists()
