"""Requests-per-minute and tokens-per-minute limits as two token buckets (asyncio)."""

from __future__ import annotations

import asyncio
import time


class RateLimiter:
    """Waits until both buckets hold enough; ``None`` limits are unlimited.

    Buckets refill continuously at limit/60 per second and hold at most one minute's worth,
    so a burst never exceeds what the provider allows in a minute.
    """

    def __init__(self, rpm: float | None = None, tpm: float | None = None) -> None:
        self.rpm, self.tpm = rpm, tpm
        self._req = float(rpm or 0)
        self._tok = float(tpm or 0)
        self._t = time.monotonic()
        self._lock = asyncio.Lock()

    def _refill(self) -> None:
        now = time.monotonic()
        dt, self._t = now - self._t, now
        if self.rpm:
            self._req = min(self.rpm, self._req + dt * self.rpm / 60)
        if self.tpm:
            self._tok = min(self.tpm, self._tok + dt * self.tpm / 60)

    async def acquire(self, tokens: int) -> None:
        if not self.rpm and not self.tpm:
            return
        async with self._lock:
            tokens = min(tokens, int(self.tpm)) if self.tpm else tokens  # a huge request waits for a full bucket
            while True:
                self._refill()
                need_req = 0.0 if not self.rpm else max(0.0, 1 - self._req) * 60 / self.rpm
                need_tok = 0.0 if not self.tpm else max(0.0, tokens - self._tok) * 60 / self.tpm
                wait = max(need_req, need_tok)
                if wait <= 0:
                    if self.rpm:
                        self._req -= 1
                    if self.tpm:
                        self._tok -= tokens
                    return
                await asyncio.sleep(wait)
