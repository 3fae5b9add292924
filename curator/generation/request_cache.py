"""Durable request cache: every response is committed the moment it arrives.

SQLite in WAL mode, one row per generated sample. The key is a hash of the backend's
identity (model, endpoint kind), the messages, the sampling parameters and the sample index,
so a killed run resumes without repeating a finished request, and two runs that ask the same
thing share answers. The stored value is the raw completion: parsing runs after the cache,
so a parser change re-parses without calls. Keys are hashes and identities carry no
credentials: no API key is ever written.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path
from typing import Any

from curator.generation.types import Completion, Sampling

SCHEMA = """
CREATE TABLE IF NOT EXISTS responses (
    key TEXT PRIMARY KEY,
    model TEXT,
    created REAL NOT NULL,
    completion TEXT NOT NULL
)
"""


def request_key(identity: dict[str, Any], messages: list[dict[str, str]], sampling: Sampling, index: int) -> str:
    """The cache key of sample ``index`` of one conversation (sha256 of canonical JSON)."""
    payload = {"backend": identity, "messages": messages, "sampling": sampling.key(), "index": index}
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


class RequestCache:
    """Thread-safe; safe across processes (WAL). ``None`` path = an in-memory cache for one run."""

    def __init__(self, path: str | Path | None) -> None:
        self.path = Path(path) if path else None
        if self.path:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._db = sqlite3.connect(str(self.path) if self.path else ":memory:", check_same_thread=False,
                                   timeout=60, isolation_level=None)
        if self.path:
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL + NORMAL: durable against a killed process
        self._db.execute(SCHEMA)

    def get_many(self, keys: list[str]) -> dict[str, Completion]:
        """The cached completions among ``keys`` (marked ``cached``)."""
        out: dict[str, Completion] = {}
        with self._lock:
            for i in range(0, len(keys), 500):
                chunk = keys[i:i + 500]
                marks = ",".join("?" * len(chunk))
                for key, raw in self._db.execute(f"SELECT key, completion FROM responses WHERE key IN ({marks})",
                                                 chunk):
                    c = Completion.from_json(json.loads(raw))
                    c.cached = True
                    out[key] = c
        return out

    def put(self, key: str, completion: Completion) -> None:
        """Store one successful completion and commit at once (failures are never cached)."""
        if completion.error is not None:
            return
        raw = json.dumps(completion.to_json(), ensure_ascii=False)
        with self._lock:
            self._db.execute("INSERT OR REPLACE INTO responses (key, model, created, completion) VALUES (?, ?, ?, ?)",
                             (key, completion.model, time.time(), raw))

    def __len__(self) -> int:
        with self._lock:
            return int(self._db.execute("SELECT COUNT(*) FROM responses").fetchone()[0])

    def close(self) -> None:
        with self._lock:
            self._db.close()
