"""A multiprocessing context of the verify pool's own: a private forkserver with sympy preloaded.

The pool restarts a worker whenever an item runs past its time limit, so workers must start
fast: they fork from a server process that imported math-verify and sympy once. That server
belongs to this context alone. ``multiprocessing.get_context("forkserver")`` would share the
process-wide forkserver, and its preload list would change every other user's workers
(datatrove's, a notebook's). On platforms without forkserver the pool uses ``spawn``.
"""

from __future__ import annotations

import io
import multiprocessing as mp
import os
import sys
from multiprocessing import context, forkserver, popen_forkserver, spawn, util
from typing import Any

#: imported once in the server; every worker forks from it with them loaded (``warm`` also builds
#: math-verify's parser with one grading call)
PRELOAD = ("curator.answers.verify", "math_verify", "sympy", "curator.answers.warm")


_server: forkserver.ForkServer | None = None


def server() -> forkserver.ForkServer:
    """The verify pool's forkserver (one per process, started when the first worker starts)."""
    global _server
    if _server is None:
        _server = forkserver.ForkServer()
        _server.set_forkserver_preload(list(PRELOAD))
    return _server


class _PrivatePopen(popen_forkserver.Popen):
    """``popen_forkserver.Popen`` that asks the verify pool's server, not the global one."""

    def _launch(self, process_obj: Any) -> None:  # as in CPython 3.9-3.13, with ``server()``
        prep_data = spawn.get_preparation_data(process_obj.name)
        buf = io.BytesIO()
        context.set_spawning_popen(self)
        try:
            context.reduction.dump(prep_data, buf)
            context.reduction.dump(process_obj, buf)
        finally:
            context.set_spawning_popen(None)
        self.sentinel, w = server().connect_to_new_process(self._fds)
        parent_w = os.dup(w)
        self.finalizer = util.Finalize(self, util.close_fds, (parent_w, self.sentinel))
        with open(w, "wb", closefd=True) as f:
            f.write(buf.getbuffer())
        self.pid = forkserver.read_signed(self.sentinel)


class VerifyProcess(context.ForkServerProcess):
    """A worker process forked from the verify pool's server."""

    @staticmethod
    def _Popen(process_obj: Any) -> Any:  # noqa: N802 - multiprocessing's name
        return _PrivatePopen(process_obj)


class PrivateForkServerContext(context.ForkServerContext):
    """A forkserver context whose processes come from the verify pool's server (``server()``)."""

    Process = VerifyProcess  # type: ignore[assignment]


_CONTEXT = PrivateForkServerContext()


def verify_context() -> mp.context.BaseContext:
    """The pool's context: its private forkserver on Linux, else ``spawn``."""
    if sys.platform.startswith("linux") and "forkserver" in mp.get_all_start_methods():
        return _CONTEXT
    return mp.get_context("spawn")
