"""Fixtures of the AVR tests: a recording HTTP server, fake modules (every env built once with the real `pio run`
is tests/conftest.py's `built`)."""
from __future__ import annotations

import contextlib
import sys
from pathlib import Path

import pytest

from esp8266sim import SimConfig, Simulator

sys.path.insert(0, str(Path(__file__).resolve().parent))
from simtools import POST_REPLY, ExactServer  # noqa: E402


@pytest.fixture
def server():
    server = ExactServer(lambda request: POST_REPLY)
    yield server
    server.close()


@pytest.fixture
def fakes(server):
    """fakes(baud): the address of a fake ESP-01 at that rate that knows HomeNet and sends example.com to `server`."""
    with contextlib.ExitStack() as stack:
        def start(baud: int = 9600) -> str:
            config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.port)},
                               baud=baud, latency_scale=0.1)
            return stack.enter_context(Simulator(config)).serve_tcp().split("//", 1)[1]
        yield start


@pytest.fixture
def fake(fakes):
    return fakes(9600)
