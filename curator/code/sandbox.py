"""One untrusted program in one throwaway process: resource limits, no network, a fresh directory.

Isolation levels, strongest first, detected once by running a probe:

- ``bwrap``: bubblewrap with new user, network, pid, ipc and uts namespaces; the program sees the
  system directories read-only, its own empty directory writable, a private ``/tmp``, and nothing
  else (no ``/etc``, no home, no project). Killing the sandbox kills every process inside it.
- ``unshare``: util-linux ``unshare`` with new network and pid namespaces; the file system is the
  host's (read with the program's user rights). A downgrade, stated in the run's record.
- ``none``: resource limits and a separate user only. Refused unless ``allow_weak=True``.

A sandbox is made per program (``run_job``) or, by default, per worker (``Server``: a
small server inside it forks each program into a fresh process and directory, and cleans up
after it). In every level the program runs in a new session (the wall-time kill reaches its whole process
group), under rlimits set before it starts (CPU time, address space, processes, file size, open
files, no core dumps), with an empty environment. Run as root, each worker slot uses its own
unprivileged user id, so the process limit counts only that slot's processes.
"""

from __future__ import annotations

import functools
import json
import os
import select
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

HARNESS = Path(__file__).with_name("harness.py")
LEVELS = ("bwrap", "unshare", "none")
#: first user id of the per-slot sandbox users when running as root (unused ids on Debian/Ubuntu)
UID_BASE = 61000


class IsolationError(RuntimeError):
    """No network isolation is available and the caller did not allow running without it."""


@dataclass(frozen=True)
class Limits:
    """Per-program limits. Defaults follow common judge settings (Codeforces: 256 MB, 1-2 s per test)."""

    test_s: float = 2.0  # wall seconds per test (Codeforces' usual 1-2 s; APPS used 4 s)
    memory_mb: int = 1024  # address space; Python itself maps ~30 MB (Codeforces: 256 MB of RSS)
    processes: int = 16  # RLIMIT_NPROC for the program and its children
    file_mb: int = 16  # largest file it may write, stdout included (an output past this is a runtime error)
    open_files: int = 64  # RLIMIT_NOFILE
    total_s: float = 30.0  # wall cap for one program's whole run, whatever its number of tests
    scratch_mb: int = 256  # a worker sandbox's private tmpfs for its programs' directories (and /tmp)


@dataclass
class SandboxConfig:
    """How programs are run. ``isolation="auto"`` takes the strongest level the machine allows."""

    isolation: str = "auto"  # auto | bwrap | unshare | none
    allow_weak: bool = False  # run with rlimits only when no network namespace is possible (recorded)
    python: str = ""  # interpreter inside the sandbox; default /usr/bin/python3, else this one
    limits: Limits = field(default_factory=Limits)
    fresh_sandbox: bool = False  # True: new namespaces per program (~3x slower); False: per worker (see below)

    def interpreter(self) -> str:
        if self.python:
            return self.python
        return "/usr/bin/python3" if Path("/usr/bin/python3").exists() else sys.executable


@dataclass
class RawRun:
    """What one sandboxed process did: exit, signal, whether the wall limit killed it, its output."""

    returncode: int
    timed_out: bool
    stdout: str
    stderr: str
    results: list[dict[str, Any]]
    wall_s: float

    @property
    def signal(self) -> int | None:
        return -self.returncode if self.returncode < 0 else None


def scratch_root() -> str | None:
    """Where throwaway directories go: ``/dev/shm`` (tmpfs) when writable, else the system default.

    On ext4, creating and removing a program's directory cost about 12 ms of the 25 ms a trivial
    program took; on tmpfs 0.3 ms. Files there live in memory, bounded per file by ``file_mb``.
    """
    shm = Path("/dev/shm")
    return str(shm) if shm.is_dir() and os.access(shm, os.W_OK | os.X_OK) else None


def _slot_user(slot: int) -> tuple[int | None, int | None]:
    if os.geteuid() != 0:
        return None, None
    return UID_BASE + slot, UID_BASE + slot


def _system_binds(python: str) -> list[str]:
    """Read-only binds of the host's system directories (symlinks kept as symlinks) and the interpreter."""
    args: list[str] = []
    for top in ("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64"):
        p = Path(top)
        if p.is_symlink():
            args += ["--symlink", os.readlink(p), top]
        elif p.is_dir():
            args += ["--ro-bind", top, top]
    real = Path(os.path.realpath(python))
    if not str(real).startswith(("/usr/", "/bin/", "/lib")):
        prefix = real.parents[1]  # <prefix>/bin/python3.x -> <prefix>
        args += ["--ro-bind", str(prefix), str(prefix)]
    return args


@functools.lru_cache(maxsize=4)
def bwrap_sizes_tmpfs(bwrap: str = "bwrap") -> bool:
    """Whether this bubblewrap can cap a tmpfs (``--size``, bubblewrap 0.7+)."""
    try:
        out = subprocess.run([bwrap, "--help"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return "--size" in out.stdout + out.stderr


def wrap(level: str, python: str, box: Path, uid: int | None, gid: int | None,
         args: tuple[str, ...] = (), die_with_parent: bool = True, scratch_mb: int | None = None) -> list[str]:
    """The command that starts ``python -I -S harness.py [args]`` in ``box`` at isolation ``level``.

    ``die_with_parent`` is bwrap's PR_SET_PDEATHSIG, which fires when the *thread* that started
    it ends: right for a process waited on by its thread, wrong for a server a pool thread starts.
    ``scratch_mb`` (bwrap with ``--size``): ``box`` is mounted read-only at ``/srv`` and the
    working directory ``/box`` is a private tmpfs of that size, as is ``/tmp``, so programs
    cannot fill the host's memory or disk by writing many files.
    """
    inner = [python, "-I", "-S", "harness.py", *args]
    if level == "bwrap":
        sized = scratch_mb is not None and bwrap_sizes_tmpfs()
        size = ["--size", str(scratch_mb << 20)] if sized and scratch_mb else []
        work = (["--ro-bind", str(box), "/srv", *size, "--tmpfs", "/box"] if sized
                else ["--bind", str(box), "/box"])
        if sized:
            inner = [python, "-I", "-S", "/srv/harness.py", *(args or ("/srv",))]
        return ["bwrap", *_system_binds(python), "--proc", "/proc", "--dev", "/dev", *size, "--tmpfs", "/tmp",
                *work, "--chdir", "/box", "--unshare-all",
                *(["--die-with-parent"] if die_with_parent else []),
                "--new-session", "--hostname", "sandbox", "--", *inner]
    if level == "unshare":
        if uid is not None:  # root: make the namespaces, then drop to the slot's user
            return ["unshare", "--net", "--pid", "--fork", "--kill-child", f"--setgid={gid}", f"--setuid={uid}",
                    "--", *inner]
        return ["unshare", "--map-root-user", "--net", "--pid", "--fork", "--kill-child", "--", *inner]
    return inner


def _process_count(uid: int) -> int:
    n = 0
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            if f"\nUid:\t{uid}\t" in status.read_text():
                n += 1
        except OSError:
            continue
    return n


def run_job(level: str, cfg: SandboxConfig, program: str, job: dict[str, Any], stdin: str = "",
            wall_s: float = 2.0, slot: int = 0) -> RawRun:
    """Run ``program`` under the harness with ``job`` (mode, steps ...) in a fresh directory, then delete it."""
    ns_uid, ns_gid = _slot_user(slot)  # the program's user (root only: a per-slot unprivileged id)
    uid, gid = (None, None) if level == "unshare" else (ns_uid, ns_gid)  # unshare drops the user itself
    lim = asdict(cfg.limits)
    lim["cpu_s"] = wall_s
    if ns_uid is None:  # sharing the caller's user: the process limit counts the caller's processes too
        lim["processes"] += _process_count(os.getuid())
    box = Path(tempfile.mkdtemp(prefix="curator-code-", dir=scratch_root()))
    io_dir = Path(tempfile.mkdtemp(prefix="curator-code-io-", dir=scratch_root()))
    try:
        (box / "solution.py").write_text(program, encoding="utf-8")
        shutil.copyfile(HARNESS, box / "harness.py")
        (io_dir / "stdin").write_text(stdin, encoding="utf-8")
        with open(io_dir / "stdin", "rb") as fin, open(io_dir / "stdout", "w+b") as fout, \
                open(io_dir / "stderr", "w+b") as ferr, open(io_dir / "results", "w+b") as fres:
            full_job = {**job, "program": "solution.py", "limits": lim, "result_fd": fres.fileno(),
                        "nonce": job.get("nonce", "")}
            (box / "job.json").write_text(json.dumps(full_job), encoding="utf-8")
            if ns_uid is not None:
                os.chown(box, ns_uid, ns_gid)
                for f in box.iterdir():
                    os.chown(f, ns_uid, ns_gid)
            os.chmod(box, 0o700)
            cmd = wrap(level, cfg.interpreter(), box, ns_uid, ns_gid, scratch_mb=cfg.limits.scratch_mb)
            start = time.monotonic()
            proc = subprocess.Popen(cmd, stdin=fin, stdout=fout, stderr=ferr, pass_fds=(fres.fileno(),),
                                    cwd=box, env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
                                    start_new_session=True, user=uid, group=gid,
                                    extra_groups=[] if uid is not None else None)
            timed_out = False
            try:
                proc.wait(timeout=wall_s + 0.5)  # the harness's own timer fires first; this is the hard stop
            except subprocess.TimeoutExpired:
                timed_out = True
            _kill_group(proc)
            wall = time.monotonic() - start
            stdout = _read_capped(fout, cfg.limits.file_mb << 20)
            stderr = _read_capped(ferr, 64 << 10, tail=True)
            results = _results(_read_capped(fres, 8 << 20), job.get("nonce", ""))
        return RawRun(proc.returncode, timed_out, stdout, stderr, results, wall)
    finally:
        _remove(box)
        _remove(io_dir)


def _kill_group(proc: subprocess.Popen) -> None:
    """SIGKILL the program's whole session (children that outlived it included), then reap."""
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    proc.wait()


def _read_capped(fh: Any, cap: int, tail: bool = False) -> str:
    size = fh.seek(0, os.SEEK_END)
    fh.seek(max(0, size - cap) if tail else 0)
    return fh.read(cap).decode("utf-8", errors="replace")


def _results(text: str, nonce: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        try:
            rec = json.loads(line)
        except ValueError:
            continue
        if isinstance(rec, dict) and rec.get("n") == nonce:
            out.append(rec)
    return out


def _remove(path: Path) -> None:
    def fix(func: Any, p: str, _exc: Any) -> None:  # a program may have made its files read-only
        try:
            os.chmod(os.path.dirname(p), 0o700)
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass
    shutil.rmtree(path, onerror=fix)


class Server:
    """One worker's sandbox: namespaces made once, then a fresh process and directory per program.

    The server inside (``harness.py serve``) runs no untrusted code: it forks each program,
    enforces its wall time, then kills every other process of the sandbox user and wipes the
    program's directory (and the sandbox's private ``/tmp``). A program that kills the server
    or outruns the reply deadline only fails itself: the sandbox is torn down and restarted.
    """

    def __init__(self, level: str, cfg: SandboxConfig, slot: int = 0) -> None:
        self.level, self.cfg, self.slot = level, cfg, slot
        self.proc: subprocess.Popen | None = None
        self.restarts = 0

    def _start(self) -> None:
        uid, gid = _slot_user(self.slot)
        self.box = Path(tempfile.mkdtemp(prefix="curator-code-", dir=scratch_root()))
        self._cleanup = weakref.finalize(self, _remove, self.box)  # also at exit when never closed
        shutil.copyfile(HARNESS, self.box / "harness.py")
        if uid is not None:
            os.chown(self.box, uid, gid)
            os.chown(self.box / "harness.py", uid, gid)
        os.chmod(self.box, 0o700)
        # sharing the caller's user: the process limit counts the caller's processes too
        self._shared_processes = _process_count(os.getuid()) if uid is None else 0
        to_srv, self._out = os.pipe()
        self._in, from_srv = os.pipe()
        opts = {"inbox": to_srv, "outbox": from_srv, "private_tmp": self.level == "bwrap",
                "kill_all": self.level in ("bwrap", "unshare") or uid is not None}
        # no parent-death signal (see wrap): the server ends by itself when its inbox closes
        cmd = wrap(self.level, self.cfg.interpreter(), self.box, uid, gid, ("serve", json.dumps(opts)),
                   die_with_parent=False, scratch_mb=self.cfg.limits.scratch_mb)
        run_as = (None, None) if self.level == "unshare" else (uid, gid)
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL, pass_fds=(to_srv, from_srv), cwd=self.box,
                                     env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0"},
                                     start_new_session=True, user=run_as[0], group=run_as[1],
                                     extra_groups=[] if run_as[0] is not None else None)
        os.close(to_srv)
        os.close(from_srv)
        self._reader = os.fdopen(self._in, "rb")
        self._writer = os.fdopen(self._out, "wb")

    def run(self, program: str, job: dict[str, Any], stdin: str, wall_s: float) -> RawRun:
        """One program under the server: its exit, output and result lines."""
        if self.proc is None or self.proc.poll() is not None:
            self._start()
        lim = asdict(self.cfg.limits)
        lim["cpu_s"] = wall_s
        lim["processes"] += self._shared_processes
        nonce = job.get("nonce", "")
        msg = {**job, "program_text": program, "stdin": stdin, "limits": lim, "wall_s": wall_s,
               "stdout_cap": self.cfg.limits.file_mb << 20}
        start = time.monotonic()
        try:
            self._writer.write(json.dumps(msg).encode() + b"\n")
            self._writer.flush()
            ready, _, _ = select.select([self._in], [], [], wall_s + 5.0)
            line = self._reader.readline() if ready else b""
        except (BrokenPipeError, OSError):
            line = b""
        if not line:  # the server died with the program, or hangs: tear the sandbox down
            wall = time.monotonic() - start
            self.close()
            self.restarts += 1
            timed_out = wall >= wall_s
            return RawRun(-9 if timed_out else 1, timed_out, "",
                          "" if timed_out else "the program ended its sandbox (server lost)", [], wall)
        reply = json.loads(line)
        return RawRun(reply["returncode"], reply["timed_out"], reply["stdout"], reply["stderr"],
                      _results(reply["results"], nonce), reply["wall_s"])

    def close(self) -> None:
        if self.proc is None:
            return
        for fh in (self._writer, self._reader):
            try:
                fh.close()
            except OSError:
                pass
        try:
            self.proc.wait(timeout=2)  # the server ends when its inbox closes
        except subprocess.TimeoutExpired:
            pass
        _kill_group(self.proc)
        self.proc = None
        self._cleanup()


def detect_isolation(cfg: SandboxConfig) -> str:
    """The strongest level that runs a probe program here, or IsolationError (see ``allow_weak``)."""
    wanted = LEVELS if cfg.isolation == "auto" else (cfg.isolation,)
    if cfg.isolation not in (*LEVELS, "auto"):
        raise ValueError(f"isolation must be one of auto, {', '.join(LEVELS)}; got {cfg.isolation!r}")
    tried = []
    for level in wanted:
        if level == "none":
            if cfg.allow_weak or cfg.isolation == "none":
                return "none"
            continue
        tool = "bwrap" if level == "bwrap" else "unshare"
        if shutil.which(tool) is None:
            tried.append(f"{level}: {tool} not installed")
            continue
        run = run_job(level, cfg, "import socket\ntry:\n    socket.create_connection(('1.1.1.1', 53), 1)\n"
                      "    print('net')\nexcept OSError:\n    print('nonet')\n", {"mode": "stdio"}, wall_s=5)
        if run.returncode == 0 and run.stdout.strip() == "nonet":
            return level
        tried.append(f"{level}: probe exit {run.returncode}, {run.stderr.strip()[-200:] or run.stdout.strip()}")
    raise IsolationError("no sandbox with its own network namespace works here (" + "; ".join(tried) + "). "
                         "Install bubblewrap (apt-get install bubblewrap) or allow user namespaces; to run "
                         "with resource limits only, pass allow_weak=True (the run's record says so)")
