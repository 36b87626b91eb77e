"""The serial line between host and module: time at the wire rate, and what a wrong baud rate does.

At N baud a byte takes 10/N seconds (start bit, 8 data bits, stop bit), in each direction on its own. A pipe keeps
the time its line is busy until; bytes are handed on when their stop bit would have arrived, in bursts on a timer
of about a millisecond, never by sleeping per byte, so the simulator keeps up with 921600 baud and is never the
bottleneck. With no rate set, bytes cross at once.

When host and module disagree on the rate, each side reads the other's bytes as garbage of about the length a
real UART would make of them. Byte faults (faults.py: drop, corrupt, and their -up twins) act on the line itself,
in the direction they name. On the host's side a USB-serial adapter may hold received bytes until a USB packet is
full or its latency timer runs out (FTDI: 62 data bytes, 16 ms), so a host meets the gaps it meets on hardware.
"""
from __future__ import annotations

import asyncio
import collections
import random
from typing import Callable, Deque, Iterable, List, Optional, Tuple

from .faults import ByteFaults, Fault

__all__ = ["Adapter", "GARBAGE", "Pipe", "Wire"]

TICK = 0.001


class Pipe:
    """One direction of the line."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[bytes], None],
                 baud: Optional[int]) -> None:
        self.loop = loop
        self.deliver = deliver
        self.baud = baud
        self._buf = bytearray()
        self._busy_until = 0.0
        self._timer: Optional[asyncio.TimerHandle] = None
        self._queued = 0                # bytes handed in so far
        self._crossed = 0               # of them, bytes that reached the other end
        self._waiting: Deque[Tuple[int, Callable[[], None]]] = collections.deque()

    def send(self, data: bytes) -> None:
        self._queued += len(data)
        if self.baud is None and not self._buf:
            self._crossed += len(data)
            self.deliver(data)
            return
        if not self._buf:
            self._busy_until = max(self._busy_until, self.loop.time())
        self._buf += data
        if self._timer is None:
            self._pump()

    @property
    def pending(self) -> int:
        """Bytes handed in that have not reached the other end yet."""
        return self._queued - self._crossed

    def when_drained(self, action: Callable[[], None]) -> None:
        """Run `action` once every byte queued so far has crossed (however much is queued after it)."""
        if self._crossed >= self._queued:
            action()
        else:
            self._waiting.append((self._queued, action))

    def _pump(self) -> None:
        self._timer = None
        if self.baud is None:
            data, self._buf = bytes(self._buf), bytearray()
            self._crossed += len(data)
            self.deliver(data)
        else:
            per_byte = 10.0 / self.baud
            now = self.loop.time()
            count = min(len(self._buf), int((now - self._busy_until) / per_byte + 1e-9))
            if count > 0:
                data = bytes(self._buf[:count])
                del self._buf[:count]
                self._busy_until += count * per_byte
                self._crossed += count
                self.deliver(data)
            if self._buf:
                wait = max(TICK, self._busy_until + per_byte - now)
                self._timer = self.loop.call_later(wait, self._pump)
        while self._waiting and self._waiting[0][0] <= self._crossed:
            self._waiting.popleft()[1]()


class Adapter:
    """The receive side of a USB-serial adapter: bytes from the UART reach the host a USB packet at a time, when
    `packet` bytes are waiting or `timer` seconds after the first of them arrived. timer 0: at once."""

    def __init__(self, loop: asyncio.AbstractEventLoop, deliver: Callable[[bytes], None], timer: float,
                 packet: int) -> None:
        self.loop = loop
        self.deliver = deliver
        self.timer = timer
        self.packet = packet
        self._buf = bytearray()
        self._flush_at: Optional[asyncio.TimerHandle] = None

    @property
    def pending(self) -> int:
        """Bytes from the UART the host has not been handed yet."""
        return len(self._buf)

    def put(self, data: bytes) -> None:
        if not self.timer:
            self.deliver(data)
            return
        self._buf += data
        while len(self._buf) >= self.packet:
            packet = bytes(self._buf[:self.packet])
            del self._buf[:self.packet]
            self.deliver(packet)
        if self._buf and self._flush_at is None:
            self._flush_at = self.loop.call_later(self.timer, self._flush)

    def _flush(self) -> None:
        self._flush_at = None
        if self._buf:
            data, self._buf = bytes(self._buf), bytearray()
            self.deliver(data)


class Wire:
    """Both directions, the two ends' rates, the line's byte faults and the host's adapter."""

    def __init__(self, loop: asyncio.AbstractEventLoop, to_module: Callable[[bytes], None],
                 to_host: Callable[[bytes], None], module_baud: int, paced: bool, seed: int = 0,
                 faults: Iterable[Fault] = (), latency_timer: float = 0.0, usb_packet: int = 62,
                 log: Callable[[str, bytes], None] = lambda direction, note: None) -> None:
        self.loop = loop
        self.paced = paced
        self.module_baud = module_baud
        self.host_baud: Optional[int] = None        # None: the host always matches (a TCP client)
        self.host_rate: Optional[Callable[[], Optional[int]]] = None    # asks the host's rate (a pty's termios)
        # told each new module rate as the module decides it, its bytes at the old rate still on their way (the
        # virtual Uno's wire: on_the_way says how many)
        self.rate_listeners: List[Callable[[int], None]] = []
        self._rng = random.Random(seed ^ 0x5EED)
        faults = list(faults)
        self.faults_down = ByteFaults(faults, "down", seed, log)    # module -> host
        self.faults_up = ByteFaults(faults, "up", seed, log)        # host -> module
        self.adapter = Adapter(loop, to_host, latency_timer, usb_packet)
        rate = module_baud if paced else None
        self.down = Pipe(loop, self.adapter.put, rate)      # module -> host
        self.up = Pipe(loop, to_module, rate)               # host -> module

    def _mismatched(self) -> bool:
        if self.host_rate is not None:
            self.host_baud = self.host_rate()
        return self.host_baud is not None and abs(self.host_baud - self.module_baud) > self.module_baud * 0.03

    def _garble(self, data: bytes, sender_baud: int, receiver_baud: int) -> bytes:
        count = max(1, round(len(data) * receiver_baud / sender_baud)) if receiver_baud < sender_baud * 4 else 0
        return bytes(self._rng.choice(GARBAGE) for _ in range(min(count, len(data) * 4)))

    def from_module(self, data: bytes) -> None:
        data = self.faults_down(data)
        if self._mismatched():
            data = self._garble(data, self.module_baud, self.host_baud)
        if data:
            self.down.send(data)

    def from_host(self, data: bytes) -> None:
        data = self.faults_up(data)
        if self._mismatched():
            data = self._garble(data, self.host_baud, self.module_baud)
        if data:
            self.up.send(data)

    def when_sent(self, action: Callable[[], None]) -> None:
        """Run `action` once everything the module has sent so far is out of its UART."""
        self.down.when_drained(action)

    def on_the_way(self) -> int:
        """Bytes the module has sent that the host has not been handed yet (in the UART, or the adapter)."""
        return self.down.pending + self.adapter.pending

    def set_module_baud(self, baud: int) -> None:
        """AT+UART_CUR: the module switches once its answer (sent at the old rate) is out. The listeners hear of it
        now, while that answer is still on its way: a host that follows the rate by itself (the virtual Uno's
        harness, on another pipe than the bytes) is told before the last byte it needs to follow at."""
        def switch() -> None:
            self.module_baud = baud
            if self.paced:
                self.down.baud = self.up.baud = baud
        for listener in self.rate_listeners:
            listener(baud)
        self.down.when_drained(switch)

    def set_host_baud(self, baud: Optional[int]) -> None:
        self.host_baud = baud


# What a UART makes of bytes at the wrong rate: mostly high-bit junk and framing errors, rarely a CR or LF.
GARBAGE = bytes([0x00, 0x80, 0xF8, 0xFE, 0xE0, 0x1C, 0x8C, 0x9E, 0xC3, 0xF0, 0x3F, 0x7E, 0xFF, 0x86, 0x98])
