"""`espat collect` inside a virtual-time loop: its ASGI app behind uvicorn's protocol (the collector's own
GuardedHttpTools) on a loopback socket of the loop, its Store on SQLite, its token check and rate limit on the
loop's clock. Only the collector's thread hand-offs are replaced: a commit runs in the loop's thread at once (the
collector's Writer commit path, without its thread), so the server never stalls virtual time and the run is the
same for a seed. The field's server faults act here: `down` (nothing listens: connections are refused), `delay`
(seconds before the app answers), `rate` (the rate limit's readings a second), `rotate_token()`.
"""
from __future__ import annotations

import asyncio
import logging
import socket
import threading
from dataclasses import dataclass

import uvicorn
from uvicorn.server import ServerState

from espat.collect.app import Settings, create_app
from espat.collect.guard import RateLimit, TokenCheck
from espat.collect.live import Wakeup
from espat.collect.server import GuardedHttpTools, bind
from espat.collect.store import Store
from espat.collect.writer import Writer

__all__ = ["Answer", "FieldCollector"]


class InlineWriter(Writer):
    """The collector's Writer committing each reading as it is submitted, in the caller's (the loop's) thread."""

    def __init__(self, store: Store, loop: asyncio.AbstractEventLoop, on_stored=None) -> None:  # noqa: no thread
        self.store, self.loop, self.on_stored = store, loop, on_stored
        self._closed = False
        self._lock = threading.Lock()
        self.commits = 0

    def submit(self, reading) -> asyncio.Future:
        future = self.loop.create_future()
        self._commit([(reading, future)])
        return future

    def close(self) -> None:
        self._closed = True


@dataclass(frozen=True)
class Answer:
    """A POST the collector answered: when (virtual seconds), with what status, and the body it got."""
    at: float
    status: int
    body: bytes


class FieldCollector:
    """Call `start()` on the loop (as a task), then point the fake's host map at `address`."""

    def __init__(self, loop: asyncio.AbstractEventLoop, db_path, device: str, token: str,
                 rate: float = 5.0, burst: int = 60) -> None:
        self.loop = loop
        self.device = device
        self.token = token
        self.db_url = f"sqlite:///{db_path}"
        self.store = Store(self.db_url)
        self.store.migrate()
        self.store.set_token(device, token)
        self.app = create_app(Settings(db_url=self.db_url, rate=rate, burst=burst))
        self.state = self.app.state.collector
        self.wakeup = Wakeup(loop)
        self.state.update(store=self.store, wakeup=self.wakeup,
                          writer=InlineWriter(self.store, loop, self.wakeup.notify),
                          tokens=TokenCheck(self.store.token_digests, clock=loop.time),
                          rate=RateLimit(rate, burst, clock=loop.time))
        self.state["tokens"].reload()
        self.delay = 0.0
        self.requests = 0
        self.answers: list = []
        self._listener = bind("127.0.0.1", 0)
        self.port = self._listener.getsockname()[1]
        self.address = ("127.0.0.1", self.port)
        # A port held but not listening: what a connection to a server that is down meets (refused at once).
        self._dead = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._dead.bind(("127.0.0.1", 0))
        self.dead_address = ("127.0.0.1", self._dead.getsockname()[1])
        self._server = None
        logging.getLogger("espat.collect").setLevel(logging.ERROR)   # a week of refusals is not news here

    async def start(self) -> None:
        config = uvicorn.Config(self._asgi, http=GuardedHttpTools, interface="asgi3", lifespan="off", access_log=False,
                                log_config=None, proxy_headers=False)
        config.load()
        server_state = ServerState()
        self._server = await self.loop.create_server(
            lambda: config.http_protocol_class(config=config, server_state=server_state, app_state={},
                                               _loop=self.loop), sock=self._listener)

    async def _asgi(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        self.requests += 1
        if self.delay:
            await asyncio.sleep(self.delay)
        body = bytearray()
        status = []

        async def receive_kept():
            message = await receive()
            body.extend(message.get("body", b""))
            return message

        async def send_kept(message):
            if message["type"] == "http.response.start":
                status.append(message["status"])
            await send(message)
        await self.app(scope, receive_kept, send_kept)
        if scope["method"] == "POST":
            self.answers.append(Answer(self.loop.time(), status[0] if status else 0, bytes(body)))

    def set_rate(self, rate: float, burst: int) -> None:
        self.state["rate"] = RateLimit(rate, burst, clock=self.loop.time)

    def set_token(self, token: str) -> None:
        self.store.set_token(self.device, token)

    def rows(self) -> list:
        return self.store.query(self.device, limit=10_000_000)

    def close(self) -> None:
        if self._server is not None:
            self._server.close()
        self._listener.close()
        self._dead.close()
        self.store.close()
