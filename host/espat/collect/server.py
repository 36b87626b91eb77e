"""Running the collector: uvicorn, with a guard against slow clients, on a socket bound before anything starts
(so a busy port is a clear error, and port 0 works for tests), in the foreground or in a thread.

uvicorn has no time limit on a request's headers: a client that opens a connection and sends a byte now and then
(slow-loris) holds it for ever. GuardedHttpTools gives a new connection, and each request from its first byte,
HEADER_TIMEOUT seconds to send its headers, then answers 408 and closes; the body has its own limit in the app.
"""
from __future__ import annotations

import logging
import os
import signal
import socket
import threading
from contextlib import contextmanager
from dataclasses import dataclass

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from .app import Settings, create_app
from .live import stop_streams
from .parent import PARENT_ENV

__all__ = ["HEADER_TIMEOUT", "GuardedHttpTools", "bind", "serve", "serve_in_thread", "Running"]

HEADER_TIMEOUT = 10.0
log = logging.getLogger("espat.collect")


class GuardedHttpTools(HttpToolsProtocol):
    header_timeout = HEADER_TIMEOUT

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._header_timer = None
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._headers_too_slow)

    def _cancel_header_timer(self) -> None:
        timer = getattr(self, "_header_timer", None)
        if timer is not None:
            timer.cancel()
            self._header_timer = None

    def on_message_begin(self) -> None:
        # the first byte of a request on a kept-alive connection; while it sits idle before that, uvicorn's own
        # keep-alive timeout applies
        if self._header_timer is None:
            self._arm_header_timer()
        super().on_message_begin()

    def on_headers_complete(self) -> None:
        self._cancel_header_timer()
        super().on_headers_complete()

    def connection_lost(self, exc) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _headers_too_slow(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        client = self.client[0] if self.client else "-"
        log.warning("refused 408 %s device=-: request headers not received within %g s", client,
                    self.header_timeout)
        self.transport.write(b"HTTP/1.1 408 Request Timeout\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        self.transport.close()


class CollectServer(uvicorn.Server):
    """Stops on SIGINT/SIGTERM like uvicorn (finish what is in flight, then the app's shutdown, which commits the
    last readings), ends the live streams at once, and remembers the signal instead of raising it again."""

    stop_signal = 0

    def handle_exit(self, sig, frame) -> None:
        self.stop_signal = sig
        stop_streams()
        if self.should_exit and sig == signal.SIGINT:
            self.force_exit = True
        else:
            self.should_exit = True


class PortBusy(OSError):
    pass


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise PortBusy(f"cannot listen on {host}:{port}: {exc.strerror}") from None
    sock.listen(1024)
    sock.set_inheritable(True)
    return sock


# The command's log, in its own process and in each worker process (uvicorn applies it in both).
LOGGING = {
    "version": 1, "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(message)s"}},
    "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stderr"}},
    "root": {"handlers": ["stderr"], "level": "INFO"},
}


def _config(app, header_timeout: float = HEADER_TIMEOUT, log_config: dict | None = None, **kw) -> uvicorn.Config:
    http = GuardedHttpTools if header_timeout == HEADER_TIMEOUT else \
        type("GuardedHttpTools", (GuardedHttpTools,), {"header_timeout": header_timeout})
    # proxy_headers off: the collector is reached directly (a reverse proxy in front would be configured for it)
    return uvicorn.Config(app, http=http, access_log=False, log_config=log_config, lifespan="on", proxy_headers=False,
                          timeout_graceful_shutdown=3, limit_concurrency=2000, **kw)


def serve(settings: Settings, sock: socket.socket, workers: int = 1) -> int:
    """Runs until SIGINT/SIGTERM; returns the signal that stopped it (0 if none)."""
    if workers > 1:
        from uvicorn.supervisors import Multiprocess

        class Supervisor(Multiprocess):
            stop_signal = 0

            def handle_signals(self) -> None:
                for sig in self.signal_queue:
                    if sig in (signal.SIGINT, signal.SIGTERM):
                        self.stop_signal = sig
                super().handle_signals()

        settings.to_environment()
        os.environ[PARENT_ENV] = str(os.getpid())     # the workers end with this process, however it ends
        supervisor = Supervisor(_config("espat.collect.app:app_from_environment", factory=True, workers=workers,
                                        log_config=LOGGING), sockets=[sock])
        supervisor.run()
        return supervisor.stop_signal
    server = CollectServer(_config(create_app(settings), log_config=LOGGING))
    server.run(sockets=[sock])
    return server.stop_signal


@dataclass
class Running:
    url: str
    port: int
    app: object
    server: CollectServer
    thread: threading.Thread

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(30)


@contextmanager
def serve_in_thread(settings: Settings, host: str = "127.0.0.1", port: int = 0,
                    header_timeout: float = HEADER_TIMEOUT):
    """A collector in this process (for `espat demo` and tests): yields Running once it answers."""
    sock = bind(host, port)
    app = create_app(settings)
    server = CollectServer(_config(app, header_timeout, loop="asyncio"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="espat-collect", daemon=True)
    thread.start()
    try:
        while not server.started:
            if not thread.is_alive():
                raise RuntimeError("the collector did not start (see its log)")
            thread.join(0.02)
        bound = sock.getsockname()[1]
        yield Running(f"http://{host}:{bound}", bound, app, server, thread)
    finally:
        server.should_exit = True
        thread.join(30)
        sock.close()
