"""One process per serial line: a second opener gets PortBusy naming the holder, and a killed holder frees it."""
from __future__ import annotations

import os
import signal
import subprocess
import sys

import pytest

from espat.errors import PortBusy, PortError
from espat.transport import open_port


@pytest.fixture
def pty_path():
    master, slave = os.openpty()
    path = os.ttyname(slave)
    yield path
    os.close(slave)
    os.close(master)


HOLDER = """
import sys
from espat.transport import open_port
port = open_port(sys.argv[1])
print("open", flush=True)
sys.stdin.readline()
"""


def test_a_second_process_gets_port_busy_with_the_holders_pid(pty_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, pty_path], stdin=subprocess.PIPE,
                              stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "open"
        with pytest.raises(PortBusy, match=rf"port busy \(pid {holder.pid}\)") as busy:
            open_port(pty_path)
        assert busy.value.pid == holder.pid
        assert isinstance(busy.value, PortError)            # the command line's exit status 2
    finally:
        holder.send_signal(signal.SIGKILL)
        holder.wait(10)
    port = open_port(pty_path)                              # the kernel dropped a killed holder's locks
    port.close()


def test_the_same_port_twice_in_one_process_is_busy_until_closed(pty_path):
    first = open_port(pty_path)
    try:
        with pytest.raises(PortBusy, match=rf"pid {os.getpid()}"):
            open_port(pty_path)
    finally:
        first.close()
    open_port(pty_path).close()
