"""Drive the fake module directly, without sockets or threads: lines in, the module's bytes out.

Latency is zero, so every answer is ready once the event loop has no work left; `ask` runs the loop until the
module is idle (bounded), never by sleeping a guessed time.
"""
from __future__ import annotations

import asyncio
from typing import Dict, Optional

import pytest

from esp8266sim.config import SimConfig
from esp8266sim.module import Module
from esp8266sim.frontends.transcript import Transcript

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
READY = b"\r\nready\r\n"
JOINED = b"WIFI CONNECTED\r\nWIFI GOT IP\r\n"


@pytest.fixture(params=["1", "2"])
def bench(request):
    """A module of each dialect, booted, echo off, not joined."""
    b = Bench(request.param)
    yield b
    b.close()


class Bench:
    def __init__(self, dialect: str = "1", networks: Optional[Dict[str, str]] = None, echo: bool = False,
                 hosts: Optional[dict] = None, log_path: Optional[str] = None) -> None:
        self.loop = asyncio.new_event_loop()
        self.out = bytearray()
        config = SimConfig(networks=networks if networks is not None else {"HomeNet": "s3cr3t99"},
                           hosts=hosts or {}, dialect=dialect, latency_scale=0)
        self.transcript = Transcript(log_path) if log_path else None
        self.module = self.loop.run_until_complete(self._make(config))
        self.settle()
        assert self.take() == b"\r\nready\r\n"
        if not echo:
            assert self.ask(b"ATE0") == b"ATE0\r\r\n\r\nOK\r\n"

    async def _make(self, config: SimConfig) -> Module:
        module = Module(config, output=self.out.extend,
                        **({"log": self.transcript.write} if self.transcript else {}))
        module.boot()
        return module

    def settle(self, bound: float = 5.0) -> None:
        async def idle() -> None:
            deadline = self.loop.time() + bound
            while self.loop.time() < deadline:
                for _ in range(20):
                    await asyncio.sleep(0)
                module = self.module
                if not module.busy and not module.booting and not module.data.sending and not module._tasks:
                    return
                await asyncio.sleep(0.001)
            raise AssertionError("the module stayed busy")
        self.loop.run_until_complete(idle())

    def feed(self, data: bytes) -> None:
        """Bytes on the module's RX pin, fed from inside its event loop."""
        async def put() -> None:
            self.module.feed(data)
        self.loop.run_until_complete(put())

    def take(self) -> bytes:
        data = bytes(self.out)
        self.out.clear()
        return data

    def ask(self, line: bytes) -> bytes:
        """One command line (CR LF added); everything the module answered."""
        self.feed(line + b"\r\n")
        self.settle()
        return self.take()

    def reset(self) -> bytes:
        """AT+RST, through to `ready`; echo is back on after it, so it is turned off again. What came after
        `ready` (an auto-join) is kept in `after_ready`."""
        answer, ready, self.after_ready = self.ask(b"AT+RST").partition(b"\r\nready\r\n")
        assert ready, answer
        assert self.ask(b"ATE0") == b"ATE0\r\r\n\r\nOK\r\n"
        return answer

    def close(self) -> None:
        async def stop() -> None:
            self.module.net.reset()
            for task in list(self.module._tasks):
                task.cancel()
            await asyncio.sleep(0)
        self.loop.run_until_complete(stop())
        self.loop.close()
        if self.transcript:
            self.transcript.close()
