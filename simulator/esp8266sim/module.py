"""The fake ESP-01: reads AT command lines and answers them byte for byte as AT 1.7.4 (or 2.x) does.

It runs on the simulator's asyncio loop and talks to the host only through `feed()` (bytes that crossed the wire
to the module) and the `output` callable (bytes for the wire back). This file is the line discipline: echo, the
busy gate, reset, and dispatch through the command registry (commands/); settings live in state.py, links in
netstack.py, a send's payload and passthrough in datamode.py, every dialect's bytes in profiles.py. Those parts
see the module through the small interface in moduleapi.py, never this class; what a chapter does at a moment that
is no command (the TCP/IP chapter resuming a saved passthrough link) it registers as a hook (commands/registry.py).

Rules kept, each as the firmware does (notes section in brackets):
- echo is on after boot: a line comes back with `\\r\\r\\n` before its answer [1.1];
- a line that arrives while a long command (join, connect, reset) runs gets `busy p...` and is dropped [1.2];
- an unknown command, or a form a command does not take, is `ERROR` (2.x: `ERR CODE` first with AT+SYSLOG=1).
"""
from __future__ import annotations

import asyncio
import random
from typing import Callable, Optional


from . import commands  # noqa: F401  (fills the registry)
from .atline import LineError, read_line
from .commands.registry import AUTO_JOINED, E_BUSY, E_NO_AT, E_UNKNOWN, Call, Refusal, resolve, run
from .error_codes import err_code_line
from .config import SimConfig
from .datamode import DataMode
from .faults import CommandFaults, FaultPlan
from .netstack import NetStack
from .profiles import BUSY, ERROR, READY, profile
from .state import State

__all__ = ["Module"]


def _head(line: bytes) -> int:
    """Where 1.x's reader finds the AT head in a line: the first "AT" or "at" (a two-byte window compared with
    both, as the disassembled 1.7 at_recvTask and 0.9.x's at_port.c do); -1 when there is none."""
    found = [at for at in (line.find(b"AT"), line.find(b"at")) if at >= 0]
    return min(found) if found else -1


class Module:
    def __init__(self, config: SimConfig, output: Callable[[bytes], None],
                 set_uart_rate: Callable[[int], None] = lambda rate: None,
                 log: Callable[[str, bytes], None] = lambda direction, data: None,
                 when_sent: Callable[[Callable[[], None]], None] = lambda action: action()) -> None:
        self.config = config
        self.profile = profile(config.dialect)
        self._raw_output = output
        self._when_sent = when_sent
        self._set_uart_rate = set_uart_rate
        self._log = log
        self.rng = random.Random(config.seed)
        self.faults = FaultPlan(config.fault_plan)
        self.state = State(factory={"uart": (config.baud or 115200, 8, 1, 0, 0),
                                    "sleep": 2 if self.profile.major == 1 else 1})
        self.net = NetStack(self)
        self.data = DataMode(self, self.net)
        self._hold_until = 0.0
        self._busy_left = 0
        self._tasks: set = set()
        self._line = bytearray()
        self.joined: Optional[str] = None
        self.ram: dict = {}                 # what commands keep that is not a setting (GPIO, clock); lost on reset
        self.stations: dict = {}            # SoftAP clients: MAC -> address
        self.booting = False
        self.asleep = False                 # deep sleep for ever (AT+GSLP=0): deaf until the next power-on
        self.busy = False
        self.tcp_wedged = False             # AT answers, no link opens until the module restarts (tcp-wedged)

    @property
    def uart_rate(self) -> int:
        return self.state["uart"][0]

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def spawn(self, coro) -> asyncio.Task:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    # --- output -----------------------------------------------------------------------------------------------------

    def emit(self, data: bytes, then: Optional[Callable[[], None]] = None,
             handed: Optional[Callable[[], None]] = None) -> None:
        """Send bytes to the host, after any `slow` hold (byte faults act on the wire, wire.py); `then` runs once
        they are out of the UART (`when_sent`), `handed` as soon as they are in it (held or not)."""
        held = self._hold_until and self._hold_until - self.loop.time()    # the loop's time: virtual or wall
        if held > 0:
            self.loop.call_later(held, self._emit_now, data, then, handed)
        else:
            self._emit_now(data, then, handed)

    def _emit_now(self, data: bytes, then: Optional[Callable[[], None]] = None,
                  handed: Optional[Callable[[], None]] = None) -> None:
        self._log("<-", data)
        self._raw_output(data)
        if handed is not None:
            handed()
        if then is not None:
            self._when_sent(then)

    def refuse(self, refusal: Refusal) -> None:
        """ERROR with 1.x's reason line before it, or 2.x's ERR CODE when AT+SYSLOG=1."""
        detail = (refusal.detail.encode() + b"\r\n") if refusal.detail and self.profile.detail_lines else b""
        if self.profile.error_codes and self.state["syslog"]:
            detail += err_code_line(refusal.code)
        self.emit(detail + (refusal.final or ERROR))

    def _busy(self, line: bytes) -> None:
        """`busy p...` for a line that came while a command runs, after 1.x's echo of it (as typed, without the line
        end an echo otherwise gets); 2.x echoes nothing, and with AT+SYSLOG=1 gives its code first (E_BUSY, the
        previous command is still processing)."""
        echo = line + b"\r" if self.state["echo"] and self.profile.echo_busy_line else b""
        code = err_code_line(E_BUSY) if self.profile.error_codes and self.state["syslog"] \
            else b""
        self.emit(echo + code + BUSY)

    def log_input(self, data: bytes) -> None:
        self._log("->", data)

    # --- boot -------------------------------------------------------------------------------------------------------

    def boot(self, delay: float = 0.0) -> None:
        """Power-on or reset: noise if that fault is set, then `ready`; input is ignored until then."""
        self.asleep = False
        self.booting = True
        self.loop.call_later(delay, self._ready)

    def _ready(self) -> None:
        if self.asleep:                 # held in reset (or put to sleep) before the boot it was part of ended
            return
        if self.faults.on_boot():
            noise = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(40, 160)))
            self.emit(noise)
        self.booting = False
        self.emit(READY)
        if self.state["autoconn"]:
            self.auto_join()

    def auto_join(self) -> None:
        """Join the AP saved in flash, in the background, if the station is on (power-up, 2.x CWMODE)."""
        join = self.state["join"]
        if join is not None and self.state["mode"] in (1, 3) and self.joined is None:
            self.spawn(self._auto_join(*join))

    async def _auto_join(self, ssid: str, password: str) -> None:
        await asyncio.sleep(self.config.latency("join"))
        if self.config.networks.get(ssid) == password and self.joined is None:
            self.joined = ssid
            self.emit(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")
            for hook in AUTO_JOINED:          # the TCP/IP chapter resumes a saved passthrough link
                await hook(self)

    def reset(self, factory: bool = False, delay: Optional[float] = None, wake: bool = True) -> None:
        """AT+RST (and RESTORE with `factory`): links and tasks end, RAM is rebuilt from flash, then boot.
        Without `wake` the module stays deaf (deep sleep for ever) until the next power-on: `boot()`."""
        for task in list(self._tasks):
            if task is not asyncio.current_task():
                task.cancel()
        self.net.reset()
        self.data.reset()
        rate_before = self.uart_rate
        if factory:
            self.state.restore()
        self.state.boot()
        self.joined = None
        self.tcp_wedged = False
        self.ram = {}
        self.stations = {}
        self.busy = False
        self._line.clear()
        if self.uart_rate != rate_before:
            self._set_uart_rate(self.uart_rate)
        self.asleep = not wake
        if wake:
            self.boot(self.config.latency("boot") if delay is None else delay)

    def set_uart_rate(self, rate: int) -> None:
        self._set_uart_rate(rate)

    # --- input ------------------------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the host, as they arrived on the module's RX pin."""
        if self.booting or self.asleep:
            return
        i = 0
        while i < len(data):
            if self.data.active:
                taken = self.data.feed(data[i:])
                i += taken
                continue
            end = data.find(b"\n", i)
            if end < 0:
                self._line += data[i:]
                if len(self._line) > 1024:      # the firmware's line buffer is long gone: start over
                    self._line.clear()
                return
            self._line += data[i:end]
            i = end + 1
            line = bytes(self._line).rstrip(b"\r")
            self._line.clear()
            self._on_line(line)

    def _on_line(self, line: bytes) -> None:
        self._log("->", line + b"\r\n")
        if self.busy or self._busy_left > 0:
            if self._busy_left > 0 and line:
                self._busy_left -= 1
            self._busy(line)            # a bare line end too: busy answers every LF
            return
        if not line:
            self._headless(line, self.faults.on_bare_line())
            return
        fired = self.faults.on_command()
        if fired.busy:
            self._busy_left = fired.busy - 1
            self._busy(line)
            return
        head = _head(line) if self.profile.skip_to_at else 0     # 2.x checks the head of the whole line
        if head < 0:
            self._headless(line, fired)
            return
        if self.state["echo"]:
            self.emit(line[:head].replace(b"\0", b"") + line[head:] + b"\r\r\n")
        self._take(fired)
        if self.profile.skip_to_at:
            line = b"AT" + line[head + 2:]      # what came before the head is skipped; "at" is a head too
        try:
            parsed = read_line(line)
        except LineError as exc:
            self.refuse(Refusal(code=exc.code))
            return
        found = resolve(parsed.name, self.profile.major)
        if found is None:
            self.refuse(Refusal(code=E_UNKNOWN))
            return
        cmd, saved = found
        try:
            run(cmd, Call(self, parsed.name, parsed.form, parsed.args, saved), self.spawn)
        except Refusal as refusal:
            self.refuse(refusal)

    def _headless(self, line: bytes, fired: CommandFaults) -> None:
        """A line end with no AT head before it (a bare CR LF; 1.x: any line without "AT" or "at"): the reader, still
        searching for the head, echoes the bytes it dropped (all but LF and NUL, so the CR) and answers the LF ERROR
        at once (2.x: a missing AT, its ERR CODE with AT+SYSLOG=1). A bare line is no command: the fault plan does not
        count it (on_bare_line), but a module slow to answer is slow here too."""
        if self.state["echo"]:
            self.emit(line.replace(b"\0", b"") + b"\r")
        self._take(fired)
        self.refuse(Refusal(code=E_NO_AT))

    def _take(self, fired: CommandFaults) -> None:
        """What the faults do to a line the module takes: the access point may go, the answers may come late."""
        if fired.wifi_lost:
            self.lose_wifi()
        if fired.hold is not None:
            self._hold_until = self.loop.time() + fired.hold

    # --- Wi-Fi events ------------------------------------------------------------------------------------------------

    def lose_wifi(self) -> None:
        """The access point went away: every link closes, the host is told."""
        if self.joined is None:
            return
        self.joined = None
        self.emit(b"WIFI DISCONNECT\r\n")
        self.net.drop_all()

    def station_joined(self, mac: str) -> str:
        """A station joined the SoftAP (mode 2 or 3) and took the next DHCP address; returns it. The host sees
        `+STA_CONNECTED:"<mac>"` and `+DIST_STA_IP:"<mac>","<ip>"` [notes 1.3]."""
        if self.state["mode"] not in (2, 3):
            raise ValueError("the SoftAP is off (CWMODE 1)")
        first = self.state["dhcps"][2]
        prefix, start = first.rsplit(".", 1)
        ip = f"{prefix}.{int(start) + len(self.stations)}"
        self.stations[mac] = ip
        self.emit(b'+STA_CONNECTED:"%s"\r\n+DIST_STA_IP:"%s","%s"\r\n' % (mac.encode(), mac.encode(), ip.encode()))
        return ip

    def station_left(self, mac: str) -> None:
        if self.stations.pop(mac, None) is not None:
            self.emit(b'+STA_DISCONNECTED:"%s"\r\n' % mac.encode())

    def start_timed_faults(self) -> None:
        for at, action in self.faults.timers(self.lose_wifi, self.wedge_tcp):
            self.loop.call_later(at, action)

    def wedge_tcp(self) -> None:
        """The TCP stack stops opening links (AT still answers; CIPSTART times out) until the module restarts."""
        self.tcp_wedged = True
