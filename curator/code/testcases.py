"""A code problem's tests in the two public shapes, normalised to one JSON form (the ``tests`` column).

- stdin/stdout cases (Codeforces, APPS, TACO, CodeContests): ``{"inputs": [...], "outputs": [...]}``,
  the ``input_output`` field of APPS/TACO; with ``fn_name`` the cases are function calls instead.
- function-call tests (HumanEval, MBPP, LeetCode): an entry point and assert statements,
  HumanEval's ``test`` (a ``check(candidate)`` function) + ``entry_point``, MBPP's ``test_list``.

Normal form, stored as JSON text in the ``tests`` column:
``{"kind": "stdio", "inputs": [...], "outputs": [...]}`` or
``{"kind": "call", "entry_point": "f", "setup": "...", "steps": [["assert f(1) == 2", true], ...]}``
where a step flagged ``true`` is a test (it holds an ``assert``) and the others prepare state.
Test code comes from the dataset and is only parsed here (``ast``), never run in this process.
"""

from __future__ import annotations

import ast
import json
from dataclasses import dataclass
from typing import Any


class BadTestsError(ValueError):
    """A row's tests could not be read; the message says which field and what was expected."""


@dataclass(frozen=True)
class StdioTests:
    """Cases fed on stdin; stdout compared with whitespace and float tolerance (curator.code.compare)."""

    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    kind: str = "stdio"

    @property
    def count(self) -> int:
        return len(self.inputs)


@dataclass(frozen=True)
class CallTests:
    """Statements run after the program, with ``candidate`` bound to ``entry_point`` (HumanEval's name)."""

    entry_point: str | None
    setup: str
    steps: tuple[tuple[str, bool], ...]  # (code, is a test)
    kind: str = "call"

    @property
    def count(self) -> int:
        return sum(1 for _, is_test in self.steps if is_test)


Tests = StdioTests | CallTests


def _as_text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):  # CodeContests / some TACO rows split a case into lines
        return "\n".join(str(v) for v in value) + "\n"
    return str(value)


def _has_assert(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node))


def _source(code: str, where: str) -> ast.Module:
    try:
        return ast.parse(code)
    except SyntaxError as err:
        raise BadTestsError(f"{where}: the test code does not parse ({err.msg}, line {err.lineno}); "
                         "fix the row or drop it") from err


def split_check(test: str, entry_point: str | None) -> CallTests:
    """HumanEval's ``test``: module-level code is setup, each statement of ``check``'s body a step.

    >>> t = split_check("X = 1\\ndef check(candidate):\\n    assert candidate(1) == 2\\n", "inc")
    >>> t.count, t.steps[0][0]
    (1, 'assert candidate(1) == 2')
    """
    tree = _source(test, "test")
    check = next((n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "check"), None)
    if check is None:  # plain asserts at module level (some MBPP/LeetCode exports)
        return CallTests(entry_point, "", tuple((ast.unparse(n), _has_assert(n)) for n in tree.body))
    setup = "\n".join(ast.unparse(n) for n in tree.body if n is not check)
    arg = check.args.args[0].arg if check.args.args else "candidate"
    prefix = () if arg == "candidate" else ((f"{arg} = candidate", False),)
    return CallTests(entry_point, setup, prefix + tuple((ast.unparse(n), _has_assert(n)) for n in check.body))


def _from_asserts(asserts: list[str], setup: str, entry_point: str | None) -> CallTests:
    for i, code in enumerate(asserts):
        _source(code, f"test_list[{i}]")
    return CallTests(entry_point, setup, tuple((code, True) for code in asserts))


def _from_fn_cases(fn_name: str, inputs: list[Any], outputs: list[Any]) -> CallTests:
    """APPS/TACO call-based cases: ``candidate(*args)`` equals the output (or the output wrapped in a list)."""
    setup = ("def _same(got, want):\n"  # built-in values only: an object whose __eq__ says yes proves nothing
             "    if type(got).__module__ != 'builtins':\n"
             "        return False\n"
             "    return want == got or want == [got] or (isinstance(got, tuple) and want == list(got))")
    steps = tuple((f"assert _same(candidate(*{args!r}), {want!r})", True)
                  for args, want in zip(inputs, outputs, strict=True))
    return CallTests(fn_name, setup, steps)


def _from_dict(d: dict[str, Any], where: str) -> Tests:
    kind = d.get("kind")
    if kind == "call" or "steps" in d:
        return CallTests(d.get("entry_point"), d.get("setup") or "",
                         tuple((str(c), bool(t)) for c, t in d.get("steps") or []))
    if "inputs" in d and "outputs" in d:
        inputs, outputs = list(d["inputs"] or []), list(d["outputs"] or [])
        if len(inputs) != len(outputs):
            raise BadTestsError(f"{where}: {len(inputs)} inputs but {len(outputs)} outputs; each input needs its output")
        if d.get("fn_name"):
            return _from_fn_cases(str(d["fn_name"]), inputs, outputs)
        return StdioTests(tuple(_as_text(x) for x in inputs), tuple(_as_text(x) for x in outputs))
    if "input" in d and "output" in d:  # CodeContests: {"input": [...], "output": [...]}
        return _from_dict({"inputs": d["input"], "outputs": d["output"]}, where)
    if d.get("test"):
        return split_check(str(d["test"]), d.get("entry_point"))
    if d.get("test_list"):
        setup = "\n".join(x for x in (d.get("test_setup_code") or "", *(d.get("test_imports") or [])) if x)
        return _from_asserts(list(d["test_list"]), setup, d.get("entry_point"))
    raise BadTestsError(f"{where}: no tests found (keys: {sorted(d)[:10]}); give 'inputs'/'outputs', "
                     "'test' + 'entry_point' (HumanEval) or 'test_list' (MBPP)")


def parse_tests(value: Any, meta: dict[str, Any] | None = None, where: str = "tests") -> Tests | None:
    """A row's tests from its ``tests`` column, else from the public fields kept in ``meta``.

    ``meta`` fields read: ``input_output`` (APPS/TACO), ``tests``, ``test`` + ``entry_point``
    (HumanEval), ``test_list`` (MBPP), ``public_tests``/``private_tests`` (CodeContests). None
    when the row has no tests at all.

    >>> parse_tests('{"inputs": ["1 2\\\\n"], "outputs": ["3\\\\n"]}').count
    1
    """
    if isinstance(value, str) and value.strip():
        try:
            value = json.loads(value)
        except ValueError as err:
            raise BadTestsError(f"{where}: not JSON ({err}); store tests as a JSON object") from err
    if isinstance(value, dict):
        return _from_dict(value, where)
    if isinstance(value, list) and value:  # a bare list of assert statements
        return _from_asserts([str(v) for v in value], "", (meta or {}).get("entry_point"))
    meta = meta or {}
    for key in ("tests", "input_output"):
        if meta.get(key):
            return parse_tests(meta[key], None, f"meta.{key}") if key == "input_output" or not isinstance(
                meta[key], list) else parse_tests(meta[key], meta, f"meta.{key}")
    if meta.get("test") or meta.get("test_list"):
        return _from_dict(meta, "meta")
    cases = [t for k in ("public_tests", "private_tests", "generated_tests") for t in [meta.get(k)] if t]
    if cases:
        inputs = [x for c in cases for x in c.get("input", [])]
        outputs = [x for c in cases for x in c.get("output", [])]
        return _from_dict({"inputs": inputs, "outputs": outputs}, "meta.public_tests")
    return None


def dump_tests(tests: Tests) -> str:
    """The normal form as JSON text (key order fixed: equal tests give equal text, hence cache keys)."""
    if isinstance(tests, StdioTests):
        body: dict[str, Any] = {"kind": "stdio", "inputs": list(tests.inputs), "outputs": list(tests.outputs)}
    else:
        body = {"kind": "call", "entry_point": tests.entry_point, "setup": tests.setup,
                "steps": [list(s) for s in tests.steps]}
    return json.dumps(body, ensure_ascii=False, sort_keys=True)
