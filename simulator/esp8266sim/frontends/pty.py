"""A pseudo-terminal in raw mode that any serial program opens. The host's rate is the speed its client set on the
slave (termios), so a client at another rate than the module's reads garbage, as on a real line.
"""
from __future__ import annotations

import os
import termios
import tty
from typing import Optional

from .hostline import HostLine

__all__ = ["serve_pty"]

_SPEEDS = {getattr(termios, f"B{rate}"): rate for rate in (
    300, 600, 1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200, 230400, 460800, 500000, 576000, 921600,
    1000000, 1152000, 1500000, 2000000, 2500000, 3000000, 3500000, 4000000) if hasattr(termios, f"B{rate}")}


def _custom_speed(fd: int) -> Optional[int]:
    """A rate set without a Bnnn code (pyserial sets 74880 that way, BOTHER): Linux's termios2 holds it."""
    try:
        import fcntl
        import struct
        raw = fcntl.ioctl(fd, 0x802C542A, bytes(44))    # TCGETS2: four flags, c_line, c_cc[19], ispeed, ospeed
        return struct.unpack_from("I", raw, 40)[0] or None
    except (OSError, ImportError):
        return None


def serve_pty(line: HostLine) -> str:
    """Open one on the simulator's loop; returns the path a serial client opens."""
    master, slave = os.openpty()
    tty.setraw(slave)
    attrs = termios.tcgetattr(slave)
    speed = {rate: code for code, rate in _SPEEDS.items()}.get(line.config.baud or 115200)
    if speed is not None:       # a client that sets no speed matches the module
        attrs[4] = attrs[5] = speed
        termios.tcsetattr(slave, termios.TCSANOW, attrs)
    path = os.ttyname(slave)

    def host_rate() -> Optional[int]:
        try:
            return _SPEEDS.get(termios.tcgetattr(slave)[5]) or _custom_speed(slave)
        except termios.error:
            return None

    def readable() -> None:
        try:
            data = os.read(master, 4096)
        except OSError:             # nobody has the device open at the moment
            return
        if data:
            line.from_host(data)

    def write(data: bytes) -> None:
        try:
            os.write(master, data)
        except OSError:
            pass

    def setup() -> None:
        line.wire.host_rate = host_rate
        line.connect_host(write)
        line.loop.add_reader(master, readable)

    def teardown() -> None:
        line.loop.remove_reader(master)
        os.close(master)
        os.close(slave)

    line.call(setup)
    line.add_closer(teardown)
    return path
