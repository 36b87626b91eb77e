"""Who may post, and how often: per-device bearer tokens and a per-device rate limit.

Token policy, "open until the first token": a collector with no token in its database takes readings from any
device (a first try on a laptop needs no setup); once `espat collect token add` has made one, every device needs
its own, and a device without one is refused (403) like a wrong token, so a made-up device name cannot slip in
beside the tokened fleet. No Authorization header where one is needed is 401. The table of token digests is
re-read every few seconds, so a token added while the collector runs takes effect without a restart.
"""
from __future__ import annotations

import hmac
import math
import secrets
import threading
import time

from .store import token_digest

__all__ = ["TokenCheck", "RateLimit", "new_token"]

RELOAD_S = 2.0


def new_token() -> str:
    return secrets.token_urlsafe(24)      # 32 characters, 192 random bits


class TokenCheck:
    def __init__(self, load_digests, clock=time.monotonic) -> None:
        """`load_digests()` -> {device: hex sha256}; called at most every RELOAD_S seconds."""
        self._load = load_digests
        self._clock = clock
        self._digests: dict = {}
        self._loaded_at = -math.inf
        self._lock = threading.Lock()

    def stale(self) -> bool:
        return self._clock() - self._loaded_at >= RELOAD_S

    def reload(self) -> None:
        """Re-reads the digests (blocking: the app calls it in a worker thread when stale() says so)."""
        with self._lock:
            if self.stale():
                self._digests = self._load()
                self._loaded_at = self._clock()

    def check(self, device: str, authorization: str | None) -> tuple:
        """(status, reason): status 0 lets the reading in, else 401 or 403."""
        table = self._digests
        if not table:
            return 0, ""
        if not authorization:
            return 401, "no Authorization header: this collector requires device tokens"
        scheme, _, token = authorization.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            return 401, "Authorization must be 'Bearer <token>'"
        expected = table.get(device)
        if expected is None:
            return 403, f"device {device!r} has no token here (espat collect token add {device})"
        if not hmac.compare_digest(token_digest(token.strip()), expected):
            return 403, f"wrong token for device {device!r}"
        return 0, ""


class RateLimit:
    """A token bucket per device: `rate` readings a second on average, bursts of up to `burst` (a board catching up
    on its ring after an outage). take() returns 0 to go ahead, or the seconds to wait (for Retry-After)."""

    MAX_TRACKED = 100_000

    def __init__(self, rate: float, burst: int, clock=time.monotonic) -> None:
        self.rate, self.burst, self._clock = rate, burst, clock
        self._buckets: dict = {}

    def take(self, device: str) -> float:
        now = self._clock()
        level, then = self._buckets.get(device, (self.burst, now))
        level = min(self.burst, level + (now - then) * self.rate)
        if level < 1:
            self._buckets[device] = (level, now)
            return (1 - level) / self.rate
        if len(self._buckets) >= self.MAX_TRACKED and device not in self._buckets:
            self._forget_full(now)
        self._buckets[device] = (level - 1, now)
        return 0.0

    def _forget_full(self, now: float) -> None:
        for device, (level, then) in list(self._buckets.items()):
            if level + (now - then) * self.rate >= self.burst:
                del self._buckets[device]
