"""One fake ESP-01 on its own event-loop thread, and the ways a host reaches it.

    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", 8080)})) as sim:
        url = sim.serve_tcp()           # "socket://127.0.0.1:PORT", for pyserial's serial_for_url
        path = sim.serve_pty()          # "/dev/pts/N", for anything that opens a serial device
        port = sim.attach()             # an in-process end, what the sim:// URL handler uses

One host at a time, like one serial cable: a second TCP client is turned away while the first is connected. The
module keeps running between hosts; what it says while nobody listens is lost, as on a real board (with the
boot-garbage fault, a host that connects after a boot reads that boot's bytes first: faults.py).

Every front end that can know the host's baud rate shows a mismatch as garbage: sim:// from the port's
`baudrate`, the pty from the speed its client set on the slave (termios); a TCP client has no rate.
"""
from __future__ import annotations

import asyncio
import os
import termios
import threading
import time
import tty
from typing import Callable, List, Optional

from .config import SimConfig
from .faults import FaultPlan
from .module import Module
from .transcript import Transcript
from .wire import Wire

__all__ = ["Simulator", "HostEnd"]

ADAPTER_FIFO = 256              # what a USB-serial adapter keeps while no program has its port open (FT232R: 256)
HELD_RELEASE = 0.5              # seconds after connecting that a host which sends nothing gets the held bytes
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


class Inbox:
    """What reached the host and waits to be read: thread-safe reads with timeouts."""

    def __init__(self) -> None:
        self._buf = bytearray()
        self._cond = threading.Condition()
        self.closed = False

    def deliver(self, data: bytes) -> None:
        with self._cond:
            self._buf += data
            self._cond.notify_all()

    def read(self, size: int, timeout: Optional[float]) -> bytes:
        deadline = None if timeout is None else time.monotonic() + timeout
        with self._cond:
            while len(self._buf) < size and not self.closed:
                left = None if deadline is None else deadline - time.monotonic()
                if left is not None and left <= 0:
                    break
                self._cond.wait(left)
            data = bytes(self._buf[:size])
            del self._buf[:size]
            return data

    @property
    def waiting(self) -> int:
        with self._cond:
            return len(self._buf)

    def clear(self) -> None:
        with self._cond:
            self._buf.clear()

    def close(self) -> None:
        with self._cond:
            self.closed = True
            self._cond.notify_all()


class HostEnd(Inbox):
    """The host's end of the line inside this process: reads, writes, a baud rate."""

    def __init__(self, sim: "Simulator") -> None:
        super().__init__()
        self._sim = sim

    def write(self, data: bytes) -> None:
        self._sim.call(self._sim.from_host, bytes(data))

    def set_baud(self, baud: Optional[int]) -> None:
        self._sim.call(self._sim.wire.set_host_baud, baud)

    def close(self) -> None:
        super().close()
        self._sim.detach(self)


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="esp8266sim", daemon=True)
        self._sink: Optional[Callable[[bytes], None]] = None
        self._closers: List[Callable[[], None]] = []
        self.transcript = Transcript(config.log_path) if config.log_path else None
        self.url: Optional[str] = None
        self.module: Module
        self.wire: Wire
        self._started = False
        self._held = bytearray()        # the boot's bytes no host was there to read (boot-garbage only)
        self._held_pending = False      # a host is connected and has not been given them yet
        self._release: Optional[asyncio.TimerHandle] = None
        self._hold = FaultPlan(config.fault_plan).on_boot()

    # --- life -------------------------------------------------------------------------------------------------------

    def __enter__(self) -> "Simulator":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self, boot: bool = True) -> None:
        if self._started:
            return
        self._started = True
        self._thread.start()
        self.call(self._setup, boot)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def _setup(self, boot: bool) -> None:
        log = self.transcript.write if self.transcript else (lambda direction, data: None)
        self.module = Module(self.config, output=lambda data: self.wire.from_module(data),
                             set_uart_rate=lambda rate: self.wire.set_module_baud(rate), log=log,
                             when_sent=lambda action: self.wire.when_sent(action))
        self.wire = Wire(self.loop, to_module=self.module.feed, to_host=self._to_host,
                         module_baud=self.module.uart_rate, paced=self.config.baud is not None,
                         seed=self.config.seed, faults=self.config.wire_faults,
                         latency_timer=self.config.latency_timer, usb_packet=self.config.usb_packet, log=log)
        self.module.start_timed_faults()
        self._boot_on_connect = not boot
        if boot:
            self.module.boot()

    def call(self, fn: Callable, *args):
        """Run `fn(*args)` on the simulator's loop and return its result (from any other thread)."""
        if threading.current_thread() is self._thread:
            return fn(*args)

        async def run():
            return fn(*args)
        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=30)

    def close(self) -> None:
        if not self._started or not self.loop.is_running():
            return
        for closer in self._closers:
            try:
                self.call(closer)
            except Exception:               # closing must go on past a half-open front end
                pass

        async def shutdown() -> None:
            tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)     # each task ends before the loop stops
        try:
            asyncio.run_coroutine_threadsafe(shutdown(), self.loop).result(timeout=10)
        except Exception:           # a task that will not end must not keep the loop from stopping
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        if self.transcript:
            self.transcript.close()

    # --- the host side ----------------------------------------------------------------------------------------------

    def _to_host(self, data: bytes) -> None:
        if self._sink is not None and not self._held_pending:
            self._sink(data)
        elif self._sink is not None:
            self._held += data                  # behind what was held for this host
        elif self._hold:
            self._held += data[:ADAPTER_FIFO - len(self._held)]

    def connect_host(self, sink: Optional[Callable[[bytes], None]]) -> None:
        """A host is on the line now (None: it left). On the loop only.

        What was held for it comes with its first byte, or HELD_RELEASE seconds after it connected: pyserial empties
        a port's input as it opens it, so bytes handed over at once would be thrown away before anyone read them."""
        self._sink = sink
        if self._release is not None:
            self._release.cancel()
            self._release = None
        self._held_pending = sink is not None and bool(self._held)
        if self._held_pending:
            self._release = self.loop.call_later(HELD_RELEASE, self._release_held)
        if sink is not None and self._boot_on_connect:
            self._boot_on_connect = False       # powered on with the first host, who so reads `ready`
            self.module.boot()

    def _release_held(self) -> None:
        if self._release is not None:
            self._release.cancel()
            self._release = None
        self._held_pending = False
        held, self._held = bytes(self._held), bytearray()
        if self._sink is not None and held:
            self._sink(held)

    def from_host(self, data: bytes) -> None:
        """Bytes a front end got from its host, for the wire. On the loop only."""
        if self._held_pending:
            self._release_held()
        self.wire.from_host(data)

    def add_closer(self, closer: Callable[[], None]) -> None:
        """Run `closer` on the loop when the simulator closes (a front end's listening socket)."""
        self._closers.append(closer)

    def attach(self, baud: Optional[int] = None) -> HostEnd:
        """An in-process host end (sim://) whose UART runs at `baud` (None: always the module's rate).

        A simulator not started yet boots once the end is attached, so the host sees `ready`."""
        end = HostEnd(self)
        self.start(boot=False)
        self.call(self.wire.set_host_baud, baud)
        self.call(self.connect_host, end.deliver)
        return end

    def detach(self, end: HostEnd) -> None:
        if self.loop.is_running():
            self.call(self.connect_host, None)

    def serve_tcp(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Listen for one serial client at a time; returns its `socket://` URL."""
        self.start()
        return self.call_async(self._serve_tcp(host, port))

    def call_async(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    async def _serve_tcp(self, host: str, port: int) -> str:
        current: List[asyncio.StreamWriter] = []

        async def client(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            if current:
                writer.close()              # the cable is taken
                return
            current.append(writer)
            self.connect_host(writer.write)
            try:
                while True:
                    data = await reader.read(4096)
                    if not data:
                        break
                    self.from_host(data)
            except (OSError, ConnectionError):
                pass
            except asyncio.CancelledError:  # shutting down: asyncio would print it as a traceback
                pass
            finally:
                self.connect_host(None)
                current.remove(writer)
                writer.close()

        server = await asyncio.start_server(client, host, port)

        def close() -> None:
            server.close()
            for writer in current:
                writer.close()
        self._closers.append(close)
        bound = server.sockets[0].getsockname()
        self.url = f"socket://{bound[0]}:{bound[1]}"
        return self.url

    def serve_pty(self) -> str:
        """A pseudo-terminal in raw mode; returns the path a serial client opens."""
        self.start()
        master, slave = os.openpty()
        tty.setraw(slave)
        attrs = termios.tcgetattr(slave)
        speed = {rate: code for code, rate in _SPEEDS.items()}.get(self.config.baud or 115200)
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
                self.from_host(data)

        def write(data: bytes) -> None:
            try:
                os.write(master, data)
            except OSError:
                pass

        def setup() -> None:
            self.wire.host_rate = host_rate
            self.connect_host(write)
            self.loop.add_reader(master, readable)

        def teardown() -> None:
            self.loop.remove_reader(master)
            os.close(master)
            os.close(slave)

        self.call(setup)
        self._closers.append(teardown)
        self.url = path
        return path
