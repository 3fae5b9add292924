"""Verify's code path: rows of kind ``code`` are graded by running each sample's program on the row's tests.

A sample is ``correct`` when every test passes; ``tests_passed`` is the fraction that passed,
``test_status`` the first failing test's status (or ``ok``) and ``first_failed_test`` its index.
Rows get the same ``n_samples``/``n_correct``/``pass_rate``/``pass_at_k`` as any other kind, so
rejection sampling, difficulty, RL pools and curricula need nothing code-specific. There is no
majority vote over programs: ``maj_*`` stay null on code rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import polars as pl

from curator.code.execute import CodeExecutor
from curator.code.extract import extract_program
from curator.code.sandbox import SandboxConfig
from curator.code.testcases import BadTestsError, Tests, dump_tests, parse_tests
from curator.core.stage import StageOutput
from curator.core.table import CODE_KIND, parse_meta

#: ``meta`` fields that carry a public test format (APPS/TACO, HumanEval, MBPP, CodeContests)
TEST_FIELDS = ("tests", "input_output", "entry_point", "test_list", "public_tests")
#: fields a code sample gains, besides ``extracted`` (the program) and ``correct``
CODE_SAMPLE_FIELDS: dict[str, pl.DataType] = {
    "extracted": pl.String(), "correct": pl.Boolean(), "verify_error": pl.String(),
    "tests_passed": pl.Float64(), "test_status": pl.String(), "first_failed_test": pl.Int64(),
    "test_error": pl.String(),
}


def has_code_rows(df: pl.DataFrame, default_kind: str) -> bool:
    """Cheap test (vectorised) whether any row is code, before parsing any ``meta``."""
    if df.height == 0:
        return False
    if default_kind == CODE_KIND or ("tests" in df.columns and df["tests"].null_count() < df.height):
        return True
    if "meta" not in df.columns:
        return False
    keys = "|".join(TEST_FIELDS)
    return bool(df["meta"].str.contains(rf'"answer_kind":\s*"code"|"({keys})":').any())


def code_mask(df: pl.DataFrame, default_kind: str) -> list[bool]:
    """Rows graded by running tests: ``meta.answer_kind == "code"``, or no other kind named and either tests
    (the ``tests`` column or a public test field in ``meta``) or ``default_kind == "code"``."""
    metas = df["meta"].to_list() if "meta" in df.columns else [None] * df.height
    tests = df["tests"].to_list() if "tests" in df.columns else [None] * df.height
    out = []
    for m, t in zip(metas, tests, strict=True):
        meta = parse_meta(m)
        kind = meta.get("answer_kind")
        out.append(kind == CODE_KIND or (kind is None and (default_kind == CODE_KIND or bool(t)
                                                              or any(meta.get(f) for f in TEST_FIELDS))))
    return out


def row_tests(df: pl.DataFrame) -> list[tuple[Tests | None, str | None]]:
    """Each row's tests (``tests`` column, else the public fields in ``meta``) or why they could not be read."""
    metas = df["meta"].to_list() if "meta" in df.columns else [None] * df.height
    cols = df["tests"].to_list() if "tests" in df.columns else [None] * df.height
    out: list[tuple[Tests | None, str | None]] = []
    for i, (m, t) in enumerate(zip(metas, cols, strict=True)):
        try:
            out.append((parse_tests(t, parse_meta(m), where=f"row {i} tests"), None))
        except BadTestsError as err:
            out.append((None, str(err)))
    return out


def grade_code(df: pl.DataFrame, executor: CodeExecutor, ks: tuple[int, ...]) -> tuple[pl.DataFrame, dict[str, Any]]:
    """Fill the sample and row columns of Verify for code rows (all rows of ``df``)."""
    from curator.answers.verify import counted, pass_columns, sample_response

    parsed = row_tests(df)
    rows = df["samples"].to_list()
    items, where = [], []
    new_rows = [[{**s, **{f: None for f in CODE_SAMPLE_FIELDS}} for s in samples or []] for samples in rows]
    for r, samples in enumerate(new_rows):
        tests, why = parsed[r]
        for j, s in enumerate(samples):
            if not counted(s):
                continue
            if tests is None:
                s["verify_error"] = why or "no tests: give a tests column (see curator.code.testcases)"
                continue
            program = extract_program(sample_response(s))
            s["extracted"] = program
            items.append((program, tests))
            where.append((r, j))
    before = executor.info()
    verdicts = executor.run(items) if items else []
    after = executor.info()
    for (r, j), v in zip(where, verdicts, strict=True):
        new_rows[r][j].update(correct=v.correct, tests_passed=v.fraction, test_status=v.status,
                              first_failed_test=v.first_failure, test_error=v.error or None)
    inner = {f.name: f.dtype for f in df.schema["samples"].inner.fields} if "samples" in df.columns else {}
    dtype = pl.List(pl.Struct({**inner, **CODE_SAMPLE_FIELDS}))
    out = df.with_columns(pl.Series("samples", new_rows, dtype=dtype),  # tests in normal form, for the exports
                          pl.Series("tests", [dump_tests(t) if t is not None else None for t, _ in parsed], pl.String))
    out = pass_columns(out, ks, [t is not None for t, _ in parsed])
    out = out.with_columns(pl.lit(None, pl.String).alias("maj_answer"), pl.lit(None, pl.Float64).alias("maj_frac"),
                           pl.lit(None, pl.Boolean).alias("maj_correct"))
    statuses: dict[str, int] = {}
    for v in verdicts:
        statuses[v.status] = statuses.get(v.status, 0) + 1
    counts = ("code_programs_run", "code_programs_cached", "code_sandbox_restarts")  # this batch's share
    info = {**after, **{k: after[k] - before[k] for k in counts}, "code_samples_graded": len(items),
            "code_samples_correct": sum(1 for v in verdicts if v.correct), "code_statuses": statuses,
            "code_rows_without_tests": sum(1 for t, _ in parsed if t is None)}
    return out, info


def _align(df: pl.DataFrame, fields: dict[str, pl.DataType]) -> pl.DataFrame:
    """Give every sample struct the same fields (missing ones null) so code and other rows concatenate."""
    rows = [[{name: s.get(name) for name in fields} for s in samples or []] for samples in df["samples"].to_list()]
    return df.with_columns(pl.Series("samples", rows, dtype=pl.List(pl.Struct(fields))))


def apply_code(stage: Any, df: pl.DataFrame) -> StageOutput:
    """``Verify.apply`` when some rows are code: grade those here, the others through ``stage`` as before."""
    mask = code_mask(df, stage.kind)
    executor = getattr(stage, "_code_executor", None)
    own = executor is None and getattr(stage, "_code_cache", None) is None  # outside a run: for this call only
    if executor is None:
        executor = open_executor(stage)
        if not own:  # in a run: the worker sandboxes serve every batch; Verify.teardown closes them
            stage._code_executor = executor
    try:
        indexed = df.with_row_index("_row")
        code_df, code_info = grade_code(indexed.filter(pl.Series(mask)), executor, stage.ks)
    finally:
        if own:
            executor.close()
    rest = indexed.filter(~pl.Series(mask))
    if rest.height == 0:
        return StageOutput(code_df.sort("_row").drop("_row"), info={**code_info, "samples_graded": 0})
    other = stage.grade_answers(rest.drop("_row"))  # the answer path; never back through apply
    done = other.kept.with_columns(rest["_row"])
    fields = {f.name: f.dtype for f in done.schema["samples"].inner.fields}
    for f in code_df.schema["samples"].inner.fields:
        fields.setdefault(f.name, f.dtype)
    merged = pl.concat([_align(code_df, fields), _align(done, fields)], how="diagonal_relaxed")
    return StageOutput(merged.sort("_row").drop("_row"), info={**other.info, **code_info})


def open_executor(stage: Any) -> CodeExecutor:
    """The stage's executor: its sandbox settings, its worker count, the run's durable result cache."""
    cfg = getattr(stage, "code", None) or SandboxConfig()
    cache: Path | None = getattr(stage, "_code_cache", None)
    return CodeExecutor(cfg, workers=max(1, stage.workers), cache=cache)
