"""Fixtures of the simulator tests."""
from __future__ import annotations

from typing import List

import pytest
import serial

from simtools import ExactServer, Wire, open_sim


@pytest.fixture
def exact_server():
    servers = []

    def make(reply: Callable[[bytes], bytes]) -> ExactServer:
        server = ExactServer(reply)
        servers.append(server)
        return server
    yield make
    for server in servers:
        server.close()


@pytest.fixture
def sim_port():
    ports: List[serial.SerialBase] = []

    def make(query: str, baudrate: int = 115200) -> Wire:
        port = open_sim(query, baudrate)
        ports.append(port)
        return Wire(port)
    yield make
    for port in ports:
        port.close()
