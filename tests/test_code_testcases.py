"""Test formats, program extraction and output comparison: pure functions, no process started."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from curator.code.compare import outputs_match
from curator.code.extract import extract_program
from curator.code.testcases import BadTestsError, CallTests, StdioTests, dump_tests, parse_tests, split_check


def test_extracts_the_last_block_in_the_language_after_the_reasoning() -> None:
    text = ("<think>try:\n```python\nprint(0)\n```\n</think>\nFirst:\n```python\nprint(1)\n```\n"
            "Better:\n```py\nprint(2)\n```\nRun it:\n```bash\npython a.py\n```\n")
    assert extract_program(text) == "print(2)\n"
    assert extract_program("no code here") is None
    assert extract_program("<think>```python\nx=1\n```</think> nothing after") is None
    assert extract_program("```\nprint(3)\n```") == "print(3)\n"  # untagged block as a fallback
    assert extract_program("```python\nprint(1)\n```\n```python\nprint(2)") == "print(1)\n"  # unclosed: ignored
    assert extract_program("````python\nprint('```')\n````") == "print('```')\n"


@given(st.text(alphabet=st.characters(blacklist_characters="`~", blacklist_categories=("Cs",)), max_size=200))
def test_a_fenced_program_is_extracted_verbatim(body: str) -> None:
    body = body.replace("\r", "") + "\n"
    assert extract_program(f"<think>hmm</think>\n```python\n{body}```\n") == body


def test_stdio_tests_from_apps_taco_and_codecontests() -> None:
    apps = parse_tests(json.dumps({"inputs": ["1 2\n"], "outputs": ["3\n"]}))
    assert apps == StdioTests(("1 2\n",), ("3\n",))
    cc = parse_tests(None, {"public_tests": {"input": ["5\n"], "output": ["25\n"]},
                            "private_tests": {"input": ["2\n"], "output": ["4\n"]}})
    assert isinstance(cc, StdioTests) and cc.count == 2
    taco_fn = parse_tests({"fn_name": "add", "inputs": [[1, 2]], "outputs": [[3]]})
    assert isinstance(taco_fn, CallTests) and taco_fn.entry_point == "add" and taco_fn.count == 1
    with pytest.raises(BadTestsError, match="2 inputs but 1 outputs"):
        parse_tests({"inputs": ["1", "2"], "outputs": ["1"]})
    with pytest.raises(BadTestsError, match="no tests found"):
        parse_tests({"foo": 1})
    assert parse_tests(None, {"unrelated": 1}) is None


def test_call_tests_from_humaneval_and_mbpp() -> None:
    he = split_check("import math\n\ndef check(candidate):\n    assert candidate(2) == 4\n    x = 3\n"
                     "    for i in range(x):\n        assert candidate(i) == i * 2\n", "double")
    assert he.setup == "import math" and he.count == 2 and [t for _, t in he.steps] == [True, False, True]
    mbpp = parse_tests(None, {"test_list": ["assert f(1) == 1", "assert f(2) == 4"], "test_setup_code": ""})
    assert isinstance(mbpp, CallTests) and mbpp.count == 2 and mbpp.entry_point is None
    with pytest.raises(BadTestsError, match="does not parse"):
        split_check("def check(candidate):\n    assert (", "f")


def test_normal_form_round_trips() -> None:
    for t in (StdioTests(("a\n",), ("b\n",)), CallTests("f", "import os", (("assert f() == 1", True),))):
        assert parse_tests(dump_tests(t)) == t
        assert dump_tests(parse_tests(dump_tests(t))) == dump_tests(t)


def test_output_comparison() -> None:
    assert outputs_match("3 \n\n\n", "3\n")
    assert outputs_match("1  2\n3\n", "1 2\n3")
    assert outputs_match("1\n2\n", "1 2\n")  # same tokens, other layout (APPS's checker accepts it)
    assert outputs_match("0.333333", "0.3333333333")
    assert not outputs_match("0.3333", "0.3333333333")
    assert not outputs_match("10", "11") and not outputs_match("YES", "yes")
    assert not outputs_match("", "1") and outputs_match("", "\n")
    assert not outputs_match("nan", "nan0") and not outputs_match("1 2", "1 2 3")


@given(st.lists(st.integers(-10**9, 10**9), max_size=20), st.sampled_from([" ", "  ", "\t"]),
       st.sampled_from(["", "\n", " \n", "\n\n"]))
def test_whitespace_never_changes_a_verdict(xs: list[int], sep: str, tail: str) -> None:
    want = " ".join(map(str, xs)) + "\n"
    assert outputs_match(sep.join(map(str, xs)) + tail, want)
    if xs:
        assert not outputs_match(sep.join(map(str, xs[:-1] + [xs[-1] + 1])) + tail, want)


@given(st.lists(st.tuples(st.text(max_size=30), st.text(max_size=30)), min_size=1, max_size=5))
def test_stdio_normal_form_round_trips_any_text(cases: list[tuple[str, str]]) -> None:
    t = StdioTests(tuple(i for i, _ in cases), tuple(o for _, o in cases))
    assert parse_tests(dump_tests(t)) == t and parse_tests(json.loads(dump_tests(t))) == t
