"""One fake ESP-01 on its own event-loop thread, and the ways a host reaches it (each one in frontends/).

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
import threading
from typing import Callable, List, Optional

from .config import SimConfig
from .faults import FaultPlan
from .frontends.inprocess import HostEnd
from .frontends.pty import serve_pty
from .frontends.tcp import serve_tcp
from .frontends.transcript import Transcript
from .leftover_tasks import end_leftover_tasks
from .module import Module
from .wire import Wire

__all__ = ["Simulator", "HostEnd"]

ADAPTER_FIFO = 256              # what a USB-serial adapter keeps while no program has its port open (FT232R: 256)
HELD_RELEASE = 0.5              # seconds after connecting that a host which sends nothing gets the held bytes


class Simulator:
    def __init__(self, config: SimConfig) -> None:
        self.config = config
        self.transcript = Transcript(config.log_path) if config.log_path else None   # first: it may refuse the path
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._run, name="esp8266sim", daemon=True)
        self._sink: Optional[Callable[[bytes], None]] = None
        self.host_sent = 0              # bytes handed to the host connected now, since it connected
        self._closers: List[Callable[[], None]] = []
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
        # A task a callback started as the loop stopped (a line that arrived during close()) never ran a step: it is
        # ended here, on its loop; a pass can run a timer that starts another (the paced wire's last byte ends a line).
        end_leftover_tasks(self.loop, lambda: self.loop.run_until_complete(asyncio.sleep(0)))
        self.loop.close()       # its epoll and wake-up sockets, not left to the garbage collector

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
        if not self._started:
            if not self.loop.is_closed():
                self.loop.close()
                if self.transcript:
                    self.transcript.close()
            return
        if not self.loop.is_running():
            return
        for closer in self._closers:
            try:
                self.call(closer)
            except Exception:               # closing must go on past a half-open front end
                pass

        async def shutdown() -> None:
            # Each task ends before the loop stops, those that ending ones start included (a long command's end
            # lets the next line run): one left pending is destroyed later, in whatever test runs then.
            for _ in range(10):
                tasks = [task for task in asyncio.all_tasks() if task is not asyncio.current_task()]
                if not tasks:
                    return
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
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
            self._give(data)
        elif self._sink is not None:
            self._held += data                  # behind what was held for this host
        elif self._hold:
            self._held += data[:ADAPTER_FIFO - len(self._held)]

    def connect_host(self, sink: Optional[Callable[[bytes], None]]) -> None:
        """A host is on the line now (None: it left). On the loop only.

        What was held for it comes with its first byte, or HELD_RELEASE seconds after it connected: pyserial empties
        a port's input as it opens it, so bytes handed over at once would be thrown away before anyone read them."""
        self._sink = sink
        self.host_sent = 0
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
            self._give(held)

    def _give(self, data: bytes) -> None:
        """To the host connected now, counted (a virtual Uno's harness is told where a new rate starts by it)."""
        sink = self._sink
        if sink is not None:
            self.host_sent += len(data)
            sink(data)

    def host_sent_when_through(self) -> int:
        """What `host_sent` will be once every byte the module has sent so far has reached the host connected now
        (those the wire and the adapter still hold, and those held for it since a boot). On the loop only."""
        held = len(self._held) if self._sink is not None else 0
        return self.host_sent + held + self.wire.on_the_way()

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
        self.url = self.call_async(serve_tcp(self, host, port))
        return self.url

    def call_async(self, coro):
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout=30)

    def serve_pty(self) -> str:
        """A pseudo-terminal in raw mode; returns the path a serial client opens."""
        self.start()
        self.url = serve_pty(self)
        return self.url
