"""The running collector as one typed object: its settings and the parts a request needs (store, writer, token
check, rate limit, the live streams' wake-up and their count). The HTTP side (ingest.py, reads.py) only asks it;
start() builds it on the server's loop at startup, stop() commits what is in flight and lets go of the database.
"""
from __future__ import annotations

import asyncio
import json
import os
from dataclasses import asdict, dataclass

from .guard import RateLimit, TokenCheck
from .live import Wakeup
from .store import Store
from .writer import Writer

__all__ = ["Settings", "Collector", "SETTINGS_ENV"]

SETTINGS_ENV = "ESPAT_COLLECT_SETTINGS"


@dataclass(frozen=True)
class Settings:
    db_url: str
    rate: float = 5.0          # readings a second per device, on average
    burst: int = 60            # ... and in one go (a board emptying its ring)
    body_timeout: float = 10.0  # seconds for a client to send its whole body (slow clients get 408)
    max_streams: int = 100     # open /api/events streams per process; more get 503 (the read side's own limit,
    #                            so that watching browsers can never take the connections readings and health need)

    def to_environment(self) -> None:
        os.environ[SETTINGS_ENV] = json.dumps(asdict(self))

    @classmethod
    def from_environment(cls) -> "Settings":
        return cls(**json.loads(os.environ[SETTINGS_ENV]))


@dataclass
class Collector:
    settings: Settings
    store: Store
    writer: Writer
    tokens: TokenCheck
    rate: RateLimit
    wakeup: Wakeup
    streams: int = 0           # /api/events streams open now

    @classmethod
    async def start(cls, settings: Settings) -> "Collector":
        """Opens and migrates the database, starts the writer thread and loads the tokens (blocking calls in
        threads: the loop serves on meanwhile)."""
        loop = asyncio.get_running_loop()
        store = Store(settings.db_url)
        try:
            await loop.run_in_executor(None, store.migrate)
            wakeup = Wakeup(loop)
            tokens = TokenCheck(store.token_digests)
            await loop.run_in_executor(None, tokens.reload)
        except BaseException:
            store.close()
            raise
        return cls(settings, store, Writer(store, loop, wakeup.notify), tokens,
                   RateLimit(settings.rate, settings.burst), wakeup)

    async def stop(self) -> None:
        """Commits every reading submitted so far, then closes the database."""
        try:
            await asyncio.get_running_loop().run_in_executor(None, self.writer.close)
        finally:
            self.store.close()

    def open_stream(self) -> bool:
        """Takes a place for an event stream; False when max_streams are open already."""
        if self.streams >= self.settings.max_streams:
            return False
        self.streams += 1
        return True

    def close_stream(self) -> None:
        self.streams -= 1
