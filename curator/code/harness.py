"""Runs inside the sandbox (standard library only): set the limits, then run one program.

One-shot (``python -I -S harness.py``, a sandbox per program): read ``job.json`` in the
throwaway directory, lower the resource limits (they bind the program and everything it
starts), then either run the program as ``__main__`` on its stdin (stdio tests: the parent
compares the output) or run the program and then each test statement, reporting one line per
statement to the result file descriptor. Exit codes: 0 done, 3 compile error, 4 memory limit,
1 runtime error.

Served (``python -I -S harness.py serve``, a sandbox per worker): the same, but for a stream of
jobs read from fd 3 and answered on fd 4. For each job this server (which never runs untrusted
code itself) makes a fresh directory, forks a fresh process that sets the limits, starts a new
session and runs the program there; after it ends or its wall time runs out, every process of
the sandbox user but the server is killed and the directory and ``/tmp`` are wiped.
"""

import json
import os
import resource
import signal
import sys
import time
from types import CodeType

COMPILE_ERROR, MEMORY_LIMIT, RUNTIME_ERROR = 3, 4, 1


def _describe(err: BaseException) -> str:
    import traceback

    return "".join(traceback.format_exception_only(type(err), err))


class TestTimeout(BaseException):
    """Raised by the per-test timer; a BaseException so a program's ``except Exception`` cannot swallow it."""


def set_limits(lim: dict) -> None:
    """Lower this process's limits; they bind the program and everything it starts."""
    mb = 1 << 20
    cpu = max(1, int(lim["cpu_s"] + 0.999))
    pairs = [(resource.RLIMIT_CPU, cpu, cpu + 1), (resource.RLIMIT_AS, lim["memory_mb"] * mb, lim["memory_mb"] * mb),
             (resource.RLIMIT_FSIZE, lim["file_mb"] * mb, lim["file_mb"] * mb),
             (resource.RLIMIT_NOFILE, lim["open_files"], lim["open_files"]),
             (resource.RLIMIT_NPROC, lim["processes"], lim["processes"]), (resource.RLIMIT_CORE, 0, 0)]
    for what, soft, hard in pairs:
        cap = resource.getrlimit(what)[1]  # never above the current hard limit (only root may raise it)
        if cap != resource.RLIM_INFINITY:
            soft, hard = min(soft, cap), min(hard, cap)
        resource.setrlimit(what, (soft, hard))


def compile_program(path: str) -> CodeType:
    with open(path, encoding="utf-8", errors="replace") as fh:
        source = fh.read()
    try:
        return compile(source, "solution.py", "exec")
    except (SyntaxError, ValueError) as err:
        sys.stderr.write(f"compile error: {type(err).__name__}: {err}\n")
        sys.exit(COMPILE_ERROR)


def run_stdio(job: dict) -> None:
    code = compile_program(job["program"])
    ns = {"__name__": "__main__", "__builtins__": __builtins__}
    try:
        exec(code, ns)
    except MemoryError:
        sys.exit(MEMORY_LIMIT)
    sys.stdout.flush()


def _plain(value: object, depth: int = 0) -> bool:
    """A built-in value all the way down (an object with its own ``__eq__`` could equal anything)."""
    kind = type(value)
    if kind.__module__ != "builtins" or depth > 100:
        return False
    if kind in (list, tuple, set, frozenset):
        return all(_plain(v, depth + 1) for v in value)
    if kind is dict:
        return all(_plain(k, depth + 1) and _plain(v, depth + 1) for k, v in value.items())
    return True


def _checked(fn: object, name: str) -> object:
    """``candidate``: the entry point, whose results must be built-in values to be compared at all."""
    if not callable(fn):
        return fn

    def candidate(*args: object, **kwargs: object) -> object:
        out = fn(*args, **kwargs)
        if not _plain(out):
            raise AssertionError(f"{name} returned a {type(out).__name__}, not a built-in value")
        return out

    return candidate


def run_call(job: dict, out_fd: int) -> None:
    nonce = job["nonce"]

    def report(i: int, status: str, error: str = "") -> None:
        os.write(out_fd, (json.dumps({"n": nonce, "i": i, "s": status, "e": error[-500:]}) + "\n").encode())

    def on_alarm(signum: int, frame: object) -> None:
        raise TestTimeout()

    code = compile_program(job["program"])
    ns = {"__name__": "solution", "__builtins__": __builtins__}  # not __main__: no self-test blocks
    signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, job["test_s"])
    try:
        exec(code, ns)  # the program's own top level (a program that runs forever is a time limit)
        ep = job.get("entry_point")
        if ep:
            ns["candidate"] = _checked(eval(ep, ns), ep)  # noqa: S307 - the dataset's entry point, in the sandbox
        exec(job.get("setup") or "", ns)
    except MemoryError:
        report(-1, "memory limit")
        sys.exit(MEMORY_LIMIT)
    except TestTimeout:
        report(-1, "time limit")
        return
    except BaseException as err:  # noqa: BLE001 - any failure of untrusted code is a recorded status
        report(-1, "runtime error", _describe(err))
        return
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
    skip = ""
    for i, (step, _is_test) in enumerate(job["steps"]):
        if skip:  # after a time limit the rest would only burn time: recorded, not run
            report(i, "time limit", skip)
            continue
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, job["test_s"])
        try:
            exec(step, ns)
            status, error = "ok", ""
        except AssertionError as err:
            status, error = "wrong answer", f"{step[:200]} {err}"
        except TestTimeout:
            status, error = "time limit", step[:200]
        except MemoryError:
            status, error = "memory limit", step[:200]
        except BaseException as err:  # noqa: BLE001
            status, error = "runtime error", _describe(err)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
        report(i, status, error)
        if status == "time limit":
            skip = "not run: an earlier test ran out of time"
    report(len(job["steps"]), "done")


def main(src: str = ".") -> None:
    """One program: the job and the program are read from ``src`` (the read-only ``/srv`` under bwrap)."""
    path = os.path.join(src, "job.json")
    with open(path, encoding="utf-8") as fh:
        job = json.load(fh)
    try:
        os.unlink(path)  # the program does not see the job (when its directory is writable)
    except OSError:
        pass
    job["program"] = os.path.join(src, job["program"])
    set_limits(job["limits"])
    sys.setrecursionlimit(10000)
    if job["mode"] == "stdio":
        run_stdio(job)
    else:
        run_call(job, job["result_fd"])
    sys.stdout.flush()
    os._exit(0)


# -- served mode --------------------------------------------------------------------------------

def _wipe(path: str) -> None:
    for root, dirs, files in os.walk(path, topdown=False):
        for name in files + [d for d in dirs]:
            full = os.path.join(root, name)
            try:
                if os.path.isdir(full) and not os.path.islink(full):
                    os.chmod(full, 0o700)
                    os.rmdir(full)
                else:
                    os.unlink(full)
            except OSError:
                pass


def _read_capped(path: str, cap: int, tail: bool = False) -> str:
    try:
        with open(path, "rb") as fh:
            size = fh.seek(0, os.SEEK_END)
            fh.seek(max(0, size - cap) if tail else 0)
            return fh.read(cap).decode("utf-8", errors="replace")
    except OSError:
        return ""


def _child(job: dict, work: str, io: str) -> None:
    """In the forked process: files on fds 0-2 and 3 (results), limits, new session, then the program."""
    os.setsid()
    os.chdir(work)
    fds = [os.open(os.path.join(io, "stdin"), os.O_RDONLY)]
    fds += [os.open(os.path.join(io, n), os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            for n in ("stdout", "stderr", "results")]
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    os.closerange(4, 1 << 16)
    sys.stdin = open(0, encoding="utf-8", errors="replace", closefd=False)
    sys.stdout = open(1, "w", encoding="utf-8", closefd=False)
    sys.stderr = open(2, "w", encoding="utf-8", closefd=False)
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    code = 0
    try:
        set_limits(job["limits"])
        if job["mode"] == "stdio":
            run_stdio(job)
        else:
            run_call(job, 3)
    except SystemExit as ex:
        code = ex.code if isinstance(ex.code, int) else (0 if ex.code is None else 1)
    except MemoryError:
        code = MEMORY_LIMIT
    except BaseException:  # noqa: BLE001 - the program's crash: traceback on its stderr
        import traceback

        traceback.print_exc()
        code = RUNTIME_ERROR
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BaseException:  # noqa: BLE001
        pass
    os._exit(code)


def _run_one(job: dict, n: int, opts: dict) -> dict:
    root = os.getcwd()
    work, io = os.path.join(root, f"w{n}"), os.path.join(root, f"io{n}")
    os.mkdir(work, 0o700)
    os.mkdir(io, 0o700)
    with open(os.path.join(work, "solution.py"), "w", encoding="utf-8") as fh:
        fh.write(job["program_text"])
    with open(os.path.join(io, "stdin"), "w", encoding="utf-8") as fh:
        fh.write(job.get("stdin", ""))
    job["program"] = os.path.join(work, "solution.py")
    start = time.monotonic()
    pid = os.fork()
    if pid == 0:
        try:
            _child(job, work, io)
        finally:
            os._exit(RUNTIME_ERROR)
    pidfd = os.pidfd_open(pid)
    import select

    ready, _, _ = select.select([pidfd], [], [], job["wall_s"])
    timed_out = not ready
    if timed_out:
        try:
            os.killpg(pid, signal.SIGKILL)
        except OSError:
            pass
    if opts["kill_all"]:  # its own pid namespace or user: every process but this one, nothing outlives its program
        os.kill(-1, signal.SIGKILL)
    _, status = os.waitpid(pid, 0)
    os.close(pidfd)
    wall = time.monotonic() - start
    rc = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
    reply = {"returncode": rc, "timed_out": timed_out, "wall_s": wall,
             "stdout": _read_capped(os.path.join(io, "stdout"), job["stdout_cap"]),
             "stderr": _read_capped(os.path.join(io, "stderr"), 64 << 10, tail=True),
             "results": _read_capped(os.path.join(io, "results"), 8 << 20)}
    for path in (work, io):
        _wipe(path)
        try:
            os.rmdir(path)
        except OSError:
            pass
    if opts["private_tmp"]:
        _wipe("/tmp")
    return reply


def serve(opts: dict) -> None:
    """Answer jobs (one JSON line each) until the parent closes the inbox."""
    inbox, outbox = os.fdopen(opts["inbox"], "rb"), os.fdopen(opts["outbox"], "wb")
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    n = 0
    for line in inbox:
        n += 1
        reply = _run_one(json.loads(line), n, opts)
        outbox.write(json.dumps(reply).encode() + b"\n")
        outbox.flush()


if __name__ == "__main__":
    if sys.argv[1:2] == ["serve"]:
        serve(json.loads(sys.argv[2]))
    else:
        main(sys.argv[1] if len(sys.argv) > 1 else ".")
