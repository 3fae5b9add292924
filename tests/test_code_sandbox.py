"""Hostile programs in the sandbox: each is contained, gets a recorded status, and leaves the machine as it was.

What the sandbox guarantees at its ``bwrap`` level (what these tests check): the program sees
no ``/etc``, no home and no project (only read-only system directories and its own empty
directory), has no network, cannot outlive its wall limit (nor can its children, even in a new
session), and is bounded in CPU time, memory, processes, file size and open files. At the
weaker levels only the limits, the network namespace and the separate user hold; the
file-system tests are skipped there and say why.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from curator.code import CodeExecutor, Limits, SandboxConfig, Verdict, check_program, detect_isolation
from curator.code.sandbox import UID_BASE, IsolationError, bwrap_sizes_tmpfs
from curator.code.testcases import StdioTests

PROJECT = Path(__file__).resolve().parents[1]
CFG = SandboxConfig(limits=Limits(test_s=0.5, total_s=10.0))
ONE = StdioTests(("",), ("ok\n",))


@pytest.fixture(scope="module")
def level() -> str:
    try:
        return detect_isolation(CFG)
    except IsolationError as err:
        pytest.skip(f"no network namespace on this machine: {err}")


@pytest.fixture(scope="module", params=["sandbox per program", "sandbox per worker"])
def runner(request: pytest.FixtureRequest, level: str) -> object:
    """Both ways programs run: a sandbox each (``check_program``), or a worker's sandbox (``CodeExecutor``)."""
    if request.param == "sandbox per program":
        yield lambda program: check_program(program, ONE, CFG, level)
        return
    ex = CodeExecutor(CFG, workers=1)
    ex.start()
    ex.run([("print('ok')", ONE)])  # the worker's sandbox is up: its server and bwrap's processes

    def run_in_worker(program: str) -> Verdict:
        before = ex.info()["code_sandbox_restarts"]
        verdict = ex.run([(program, ONE)])[0]
        expected = SERVERS[0] if ex.info()["code_sandbox_restarts"] == before else None
        SERVERS[1] = expected
        return verdict

    SERVERS[0] = len(server_processes())
    yield run_in_worker
    ex.close()
    SERVERS[:] = [0, None]


#: processes of the worker's sandbox when idle (outer bwrap, its init, the server), and what to expect now
SERVERS: list = [0, None]


def server_processes() -> list[str]:
    """Live processes started as a worker's sandbox server (a program forked from it shares the name)."""
    out = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmd = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "harness.py serve" in cmd and "Z" not in text.split("\nState:\t", 1)[1][:1]:
            out.append(cmd)
    return out


def sandbox_processes() -> list[str]:
    """Processes still running as a sandbox user (root runs) or named after the harness."""
    left = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text()
            cmd = (status.parent / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        uid = int(text.split("\nUid:\t", 1)[1].split("\t", 1)[0])
        if "Z" in text.split("\nState:\t", 1)[1][:1]:
            continue
        if "harness.py serve" in cmd:  # a worker's sandbox server: it lives as long as its executor
            continue
        if (os.geteuid() == 0 and UID_BASE <= uid < UID_BASE + 64) or "harness.py" in cmd:
            left.append(cmd)
    return left


def run(program: str, runner: object) -> tuple[Verdict, float]:
    start = time.monotonic()
    verdict = runner(program)  # type: ignore[operator]
    elapsed = time.monotonic() - start
    deadline = time.monotonic() + 2
    while sandbox_processes() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert sandbox_processes() == [], "a sandboxed process outlived its run"
    if SERVERS[1] is not None:  # a worker's sandbox: back to its idle processes, nothing of the program left
        while len(server_processes()) > SERVERS[1] and time.monotonic() < deadline:
            time.sleep(0.05)
        assert len(server_processes()) == SERVERS[1], "a process forked by the program outlived it"
    return verdict, elapsed


def test_reads_outside_its_directory(level: str, runner: object) -> None:
    if level != "bwrap":
        pytest.skip(f"isolation {level}: the host file system is visible (read with the sandbox user's rights)")
    for path in ("/etc/passwd", str(Path.home() / ".bashrc"), str(PROJECT / "pyproject.toml")):
        v, _ = run(f"print(open({path!r}).read()[:10])", runner)
        assert v.status == "runtime error" and "No such file" in v.error, (path, v)
    v, _ = run("import os\nprint(sorted(os.listdir('/')))", runner)
    assert v.status == "wrong answer" and "home" not in v.error and "work" not in v.error


def test_writes_into_the_project(level: str, runner: object) -> None:
    target = PROJECT / "written_by_sandbox.txt"
    v, _ = run(f"open({str(target)!r}, 'w').write('x')\nprint('ok')", runner)
    assert v.status == "runtime error" and not target.exists()


def test_opens_a_socket(level: str, runner: object) -> None:
    v, _ = run("import socket\nsocket.create_connection(('1.1.1.1', 53), timeout=1)\nprint('ok')", runner)
    assert v.status == "runtime error" and ("unreachable" in v.error or "OSError" in v.error), v


def test_forks_without_bound(level: str, runner: object) -> None:
    v, elapsed = run("import os\nwhile True:\n    try:\n        os.fork()\n    except OSError:\n        pass\n", runner)
    assert v.status == "time limit" and elapsed < 6


def test_allocates_10_gb(level: str, runner: object) -> None:
    v, elapsed = run("b = bytearray(10 * 1024 ** 3)\nprint('ok')", runner)
    assert v.status == "memory limit" and elapsed < 3


def test_sleeps_forever(level: str, runner: object) -> None:
    v, elapsed = run("import time\ntime.sleep(10 ** 6)", runner)
    assert v.status == "time limit" and elapsed < 4


def test_prints_1_gb(level: str, runner: object) -> None:
    v, elapsed = run("import sys\nchunk = 'x' * (1 << 20)\nfor _ in range(1024):\n    sys.stdout.write(chunk)\n", runner)
    assert v.status == "runtime error" and "too large" in v.error and elapsed < 5, v


def test_fills_the_disk(level: str, runner: object) -> None:
    if level != "bwrap" or not bwrap_sizes_tmpfs():
        pytest.skip("only bubblewrap 0.7+ gives the program a size-capped private directory")
    program = ("i = 0\nwhile True:\n    with open(f'f{i}', 'wb') as fh:\n        fh.write(b'x' * (8 << 20))\n"
               "    i += 1\n")
    v, elapsed = run(program, runner)
    assert v.status == "runtime error" and elapsed < 5, v


def test_kills_its_parent(level: str, runner: object) -> None:
    me = os.getpid()
    v, _ = run(f"import os, signal\nfor pid in (os.getppid(), {me}, 1, -1):\n    try:\n"
               "        os.kill(pid, signal.SIGKILL)\n    except OSError:\n        pass\nprint('ok')", runner)
    assert v.status in ("ok", "runtime error", "time limit")  # contained either way; this process lives on
    assert runner("print('ok')").status == "ok"  # type: ignore[operator]


def test_survives_its_time_limit_with_signal_handlers(level: str, runner: object) -> None:
    program = ("import signal\nfor s in (signal.SIGALRM, signal.SIGTERM, signal.SIGXCPU, signal.SIGINT):\n"
               "    signal.signal(s, signal.SIG_IGN)\nwhile True:\n    pass\n")
    v, elapsed = run(program, runner)
    assert v.status == "time limit" and elapsed < 4


def test_child_in_a_new_session_is_killed_too(level: str, runner: object) -> None:
    v, _ = run("import os, time\nif os.fork() == 0:\n    os.setsid()\n    time.sleep(1000)\nprint('ok')", runner)
    assert v.status == "ok"  # and run() checked that nothing of it is left


def test_the_working_directory_is_fresh_and_removed(level: str, runner: object) -> None:
    first, _ = run("import os\nopen('mark', 'w').write('1')\nopen('/tmp/mark', 'w')\n"
                   "print(sorted(os.listdir('.')), os.path.exists('/tmp/mark'))", runner)
    second, _ = run("import os\nprint(sorted(os.listdir('.')), os.path.exists('/tmp/mark'))", runner)
    assert "mark" in first.error and "mark" not in second.error, (first, second)
    if level == "bwrap":  # a private /tmp, wiped between programs
        assert "True" in first.error and "False" in second.error


def test_no_isolation_is_refused_unless_allowed() -> None:
    with pytest.raises(IsolationError, match="allow_weak"):
        detect_isolation(SandboxConfig(isolation="unshare", python="/nonexistent/python3"))
    assert detect_isolation(SandboxConfig(isolation="none")) == "none"
