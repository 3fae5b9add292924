"""Code problems: tests in the public shapes, program extraction, and sandboxed execution.

A code sample is graded by running its program against the problem's tests in a separate
process (resource limits, no network, a throwaway directory), never in the toolkit's own
process. ``curator.answers.verify.Verify`` dispatches rows of kind ``code`` here.
"""

from curator.code.execute import CodeExecutor, Verdict, check_program
from curator.code.extract import extract_program
from curator.code.sandbox import Limits, SandboxConfig, detect_isolation
from curator.code.testcases import CallTests, StdioTests, dump_tests, parse_tests

__all__ = [
    "CallTests", "CodeExecutor", "Limits", "SandboxConfig", "StdioTests", "Verdict", "check_program",
    "detect_isolation", "extract_program", "parse_tests", "dump_tests",
]
