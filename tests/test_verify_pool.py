"""The verify pool's processes: a forkserver of its own, started with math-verify and sympy loaded.

Workers are restarted after every time-out, so they fork from a server that imported the
grading libraries once. That server must be the pool's alone: the process-wide forkserver
(datatrove's workers, a notebook's pools) keeps its own preload list.
"""

from __future__ import annotations

import multiprocessing as mp
import sys
import time
from multiprocessing import forkserver

import pytest

from curator.answers.process_context import PRELOAD, verify_context
from curator.answers.verify import TIMEOUT, VerifyPool, grade_item

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="forkserver is the Linux start method")


def loaded(name: str) -> bool:
    """In a worker: was ``name`` imported before the worker ran anything?"""
    return name in sys.modules


def sleep_then(value: int, seconds: float) -> int:
    time.sleep(seconds)
    return value


def _global_preload() -> list[str]:
    return list(forkserver._forkserver._preload_modules)  # the stdlib keeps it there


def test_workers_start_with_math_verify_and_sympy_imported():
    with VerifyPool(workers=1, timeout_s=30) as pool:
        outcomes = pool.map(loaded, [("sympy",), ("math_verify",), ("curator.answers.warm",)])
    assert [o.value for o in outcomes] == [True, True, True], [o.error for o in outcomes]
    assert {"sympy", "math_verify"} <= set(PRELOAD)


def test_the_pool_leaves_the_process_wide_forkserver_alone():
    before = _global_preload()
    with VerifyPool(workers=1, timeout_s=30) as pool:
        assert pool.map(grade_item, [("\\boxed{4}", "4", "math", None)])[0].value == ("4", True)
    assert _global_preload() == before
    assert verify_context() is not mp.get_context("forkserver")
    assert verify_context().get_start_method() == "forkserver"


def test_a_worker_replaced_after_a_timeout_grades_the_rest():
    with VerifyPool(workers=1, timeout_s=4.0) as pool:
        out = pool.map(sleep_then, [(1, 0.0), (2, 30.0), (3, 0.0), (4, 0.0)])
        assert [o.value for o in out] == [1, None, 3, 4], [o.error for o in out]
        assert out[1].error == TIMEOUT and pool.restarts == 1
