"""The fake ESP-01: reads AT command lines and answers them byte for byte as AT 1.7.4 (or 2.x) does.

It runs on the simulator's asyncio loop and talks to the host only through `feed()` (bytes that crossed the wire
to the module) and the `output` callable (bytes for the wire back). Remote ends are real loopback sockets, reached
through the config's host map. Every answer's bytes come from the protocol notes (shared/reference) and the
dialect table in espat.dialects, so a difference between 1.x and 2.x is data, not a branch here.

Rules kept, each as the firmware does (notes section in brackets):
- echo is on after boot: a line comes back with `\\r\\r\\n` before its answer [1.1];
- a line that arrives while a long command (join, connect, reset) runs gets `busy p...` and is dropped [1.2];
- link ids need CIPMUX=1; CIPMUX cannot change while a link or the server is open [3.1];
- CIPSEND takes exactly the announced bytes after the prompt, then `Recv N bytes` and `SEND OK`; bytes that
  arrive while the send is still going out get the dialect's busy line and are dropped [4.1, 4.3];
- received data is `+IPD` (active) or a notice plus AT+CIPRECVDATA reads (passive) [5];
- `N,CLOSED` follows the last byte of the link's data directly [5.1].
"""
from __future__ import annotations

import asyncio
import random
import re
import time
from typing import Callable, Dict, List, Optional

from espat.commands import MAX_SEND, ParsedCommand, parse_command
from espat.wiretext import redact

from .config import SimConfig
from .faults import Fault
from .links import PASSIVE_WINDOW, Link, LinkError, Server

__all__ = ["Module"]

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
READY = b"\r\nready\r\n"
STATION_IP, GATEWAY, NETMASK = "192.168.1.23", "192.168.1.1", "255.255.255.0"
STATION_MAC = "5c:cf:7f:a1:b2:c3"
PASSTHROUGH_GUARD = 0.02        # silence before and after `+++`, and the packet gap in passthrough mode


class Module:
    def __init__(self, config: SimConfig, output: Callable[[bytes], None],
                 set_uart_rate: Callable[[int], None] = lambda rate: None,
                 log: Callable[[str, bytes], None] = lambda direction, data: None) -> None:
        self.config = config
        self.dialect = config.profile
        self._raw_output = output
        self._set_uart_rate = set_uart_rate
        self._log = log
        self.rng = random.Random(config.seed)
        self.started = time.monotonic()
        self.faults: List[Fault] = list(config.fault_plan)
        self.uart_def = config.baud or 115200
        self.saved_join: Optional[tuple] = None     # (ssid, password) kept in flash
        self.saved_mode = 1
        self.commands_seen = 0
        self.sends_seen = 0
        self._hold_until = 0.0
        self._busy_left = 0
        self._tasks: set = set()
        self._boot_state()

    # --- state ------------------------------------------------------------------------------------------------------

    def _boot_state(self) -> None:
        self.echo = True
        self.mode = self.saved_mode
        self.joined: Optional[str] = None
        self.mux = False
        self.passive = False
        self.dinfo = False
        self.passthrough_mode = False
        self.server: Optional[Server] = None
        self.server_timeout = 180
        self.server_max = 5
        self.links: Dict[int, Link] = {}
        self.had_link = False
        self._draining: Dict[int, Link] = {}    # 1.x: closed links whose passive data is still unread
        self.uart_rate = self.uart_def
        self.sysstore = True
        self.syslog = False
        self.lap_mask = 0x7FF
        self.booting = False
        self.busy = False
        self._line = bytearray()
        self._payload: Optional[bytearray] = None
        self._payload_len = 0
        self._payload_link: Optional[Link] = None
        self._sending = False
        self._passthrough_link: Optional[Link] = None
        self._pt_buf = bytearray()
        self._pt_last = 0.0
        self._pt_timer: Optional[asyncio.TimerHandle] = None
        self._plus_timer: Optional[asyncio.TimerHandle] = None

    @property
    def loop(self) -> asyncio.AbstractEventLoop:
        return asyncio.get_running_loop()

    def _spawn(self, coro) -> None:
        task = self.loop.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # --- output -----------------------------------------------------------------------------------------------------

    def emit(self, data: bytes) -> None:
        """Send bytes to the host, after any `slow` hold and through the byte-level faults."""
        now = time.monotonic()
        if self._hold_until > now:
            self.loop.call_later(self._hold_until - now, self._emit_now, data)
        else:
            self._emit_now(data)

    def _emit_now(self, data: bytes) -> None:
        self._log("<-", data)
        for fault in self.faults:
            if fault.kind == "drop":
                data = bytes(b for b in data if self.rng.random() >= fault.value)
            elif fault.kind == "corrupt":
                data = bytes(b ^ (1 << self.rng.randrange(8)) if self.rng.random() < fault.value else b
                             for b in data)
        if data:
            self._raw_output(data)

    def _error(self, text: str = "", code: int = 0x010A0000) -> None:
        """An ERROR with its 1.x detail line; 2.x prints the code instead when AT+SYSLOG=1."""
        detail = (text.encode() + b"\r\n") if text and self.dialect.major == 1 else b""
        if self.dialect.major >= 2 and self.syslog:
            detail += b"ERR CODE:0x%08x\r\n" % code
        self.emit(detail + ERROR)

    # --- boot -------------------------------------------------------------------------------------------------------

    def boot(self, delay: float = 0.0) -> None:
        """Power-on or reset: noise if that fault is set, then `ready`; input is ignored until then."""
        self.booting = True
        self.loop.call_later(delay, self._ready)

    def _ready(self) -> None:
        if any(f.kind == "boot-garbage" for f in self.faults):
            noise = bytes(self.rng.randrange(256) for _ in range(self.rng.randrange(40, 160)))
            self.emit(noise)
        self.booting = False
        self.emit(READY)
        if self.saved_join is not None and self.mode in (1, 3):
            self.busy = False
            self._spawn(self._auto_join(*self.saved_join))

    async def _auto_join(self, ssid: str, password: str) -> None:
        await asyncio.sleep(self.config.latency("join"))
        if self.config.networks.get(ssid) == password and self.joined is None:
            self.joined = ssid
            self.emit(b"WIFI CONNECTED\r\nWIFI GOT IP\r\n")

    def _reset(self, factory: bool = False) -> None:
        for task in list(self._tasks):
            task.cancel()
        for link in list(self.links.values()):
            link.abort()
        if self.server is not None:
            self.server.close()
        if factory:
            self.uart_def, self.saved_join, self.saved_mode = 115200, None, 1
        rate_before = self.uart_rate
        self._boot_state()
        if self.uart_rate != rate_before:
            self._set_uart_rate(self.uart_rate)
        self.boot(self.config.latency("boot"))

    # --- input ------------------------------------------------------------------------------------------------------

    def feed(self, data: bytes) -> None:
        """Bytes from the host, as they arrived on the module's RX pin."""
        if self.booting:
            return
        i = 0
        while i < len(data):
            if self._payload is not None:
                take = min(self._payload_len - len(self._payload), len(data) - i)
                self._payload += data[i:i + take]
                i += take
                self._payload_progress()
                continue
            if self._sending:
                self._log("->", data[i:])
                self.emit(self.dialect.busy_sending)
                return
            if self._passthrough_link is not None:
                self._passthrough_data(data[i:])
                return
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
        self._log("->", redact(line) + b"\r\n")
        if not line:
            return
        if self.echo:
            self.emit(line + b"\r\r\n")
        if self.busy or self._busy_left > 0:
            if self._busy_left > 0:
                self._busy_left -= 1
            self.emit(b"\r\nbusy p...\r\n")
            return
        self.commands_seen += 1
        for fault in self.faults:
            if fault.fires("cmd", self.commands_seen):
                if fault.kind == "busy":
                    self._busy_left = int(fault.value) - 1
                    self.emit(b"\r\nbusy p...\r\n")
                    return
                if fault.kind == "wifi-lost":
                    self.lose_wifi()
                if fault.kind == "slow":
                    self._hold_until = time.monotonic() + fault.value
            elif fault.kind == "slow" and fault.trigger is None:
                self._hold_until = time.monotonic() + fault.value
        try:
            cmd = parse_command(line)
        except ValueError:
            self._error(code=0x01030000)
            return
        handler = self._handler(cmd.name)
        if handler is None:
            self._error(code=0x01090000)
            return
        try:
            handler(cmd)
        except _Refusal as refusal:
            self._error(str(refusal))
        except (ValueError, TypeError, IndexError):
            self._error(code=0x01070000)

    def _handler(self, name: str) -> Optional[Callable[[ParsedCommand], None]]:
        base, persist = name, None
        for suffix, saved in (("_CUR", False), ("_DEF", True)):
            if name.endswith(suffix):
                base, persist = name[:-len(suffix)], saved
        if persist is not None and base not in self.dialect.suffixed:
            return None
        if persist is None and base in self.dialect.suffixed and base == "UART" and self.dialect.major >= 2:
            persist = True          # 2.x: bare AT+UART is an alias of UART_DEF
        method = getattr(self, "_cmd_" + base.replace("&", "_"), None)
        if method is None or base in _DIALECT_ONLY.get(self.dialect.major, ()):
            return None
        if persist is None:
            persist = self.sysstore if self.dialect.major >= 2 else base in self.dialect.suffixed
        return lambda cmd: method(cmd, persist)

    # --- basic ------------------------------------------------------------------------------------------------------

    def _cmd_(self, cmd, persist) -> None:
        self.emit(OK)

    def _cmd_E0(self, cmd, persist) -> None:
        self.echo = False
        self.emit(OK)

    def _cmd_E1(self, cmd, persist) -> None:
        self.echo = True
        self.emit(OK)

    def _cmd_RST(self, cmd, persist) -> None:
        _require(cmd, "exec")
        self.emit(OK)
        self._reset()

    def _cmd_RESTORE(self, cmd, persist) -> None:
        _require(cmd, "exec")
        self.emit(OK)
        self._reset(factory=True)

    def _cmd_GMR(self, cmd, persist) -> None:
        _require(cmd, "exec")
        self.emit(self.dialect.gmr)

    def _switch(self, cmd: ParsedCommand, attr: str) -> None:
        """A 0/1 setting: `AT+X?` answers `+X:<n>`, `AT+X=<n>` sets it."""
        if cmd.op == "query":
            self.emit(b"+%s:%d\r\n" % (cmd.name.encode(), getattr(self, attr)) + OK)
            return
        (value,) = _ints(cmd, 1)
        _check(value in (0, 1))
        setattr(self, attr, bool(value))
        self.emit(OK)

    def _cmd_SYSSTORE(self, cmd, persist) -> None:
        self._switch(cmd, "sysstore")

    def _cmd_SYSLOG(self, cmd, persist) -> None:
        self._switch(cmd, "syslog")

    def _cmd_UART(self, cmd, persist) -> None:
        name = cmd.name                     # a query answers with the name it was asked by
        if cmd.op == "query":
            rate = self.uart_rate if not persist else self.uart_def
            self.emit(b"+%s:%d,8,1,0,0\r\n" % (name.encode(), rate) + OK)
            return
        baud, data_bits, stop_bits, parity, flow = _ints(cmd, 5)
        _check(80 <= baud <= 4_500_000 and 5 <= data_bits <= 8 and 1 <= stop_bits <= 3 and 0 <= parity <= 2
               and 0 <= flow <= 3)
        self.emit(OK)                       # at the old rate; the wire switches once these bytes are out
        if persist:
            self.uart_def = baud
        self.uart_rate = baud
        self._set_uart_rate(baud)

    # --- Wi-Fi ------------------------------------------------------------------------------------------------------

    def _cmd_CWMODE(self, cmd, persist) -> None:
        if cmd.op == "query":
            self.emit(b"+%s:%d\r\n" % (cmd.name.encode(), self.mode) + OK)
            return
        (mode,) = _ints(cmd, 1)
        _check(mode in self.dialect.modes)
        self.mode = mode
        if persist:
            self.saved_mode = mode
        self.emit(OK)

    def _cmd_CWJAP(self, cmd, persist) -> None:
        if cmd.op == "query":
            if self.joined is None:
                self.emit(b"No AP\r\n" + OK)
                return
            name = cmd.name.encode()
            ssid = self.joined.replace("\\", "\\\\").replace('"', '\\"').replace(",", "\\,").encode()
            extra = self.dialect.cwjap_query_extra.encode()
            self.emit(b'+%s:"%s","%s",6,-58%s\r\n' % (name, ssid, _bssid(self.joined).encode(), extra) + OK)
            return
        _require(cmd, "set")
        if len(cmd.args) < 2 or not all(isinstance(a, str) for a in cmd.args[:2]):
            raise ValueError("CWJAP takes a quoted SSID and password")
        if self.mode not in (1, 3):
            self._error()
            return
        ssid, password = cmd.args[0], cmd.args[1]
        if persist:
            self.saved_join = (ssid, password)
        self.busy = True
        self._spawn(self._join(ssid, password))

    async def _join(self, ssid: str, password: str) -> None:
        try:
            if self.joined is not None:
                self._drop_links()
                self.joined = None
                self.emit(b"WIFI DISCONNECT\r\n")
            await asyncio.sleep(self.config.latency("join"))
            known = self.config.networks.get(ssid)
            if known is None:
                self.emit(b"+CWJAP:3\r\n" + self.dialect.join_fail_final)
            elif known != password:
                self.emit(b"+CWJAP:2\r\n" + self.dialect.join_fail_final)
            else:
                self.joined = ssid
                self.emit(b"WIFI CONNECTED\r\n")
                self.emit(b"WIFI GOT IP\r\n" + OK)
        finally:
            self.busy = False

    def _cmd_CWQAP(self, cmd, persist) -> None:
        _require(cmd, "exec")
        self.emit(OK)
        if self.joined is not None:
            self._drop_links()
            self.joined = None
            self.emit(b"WIFI DISCONNECT\r\n")

    def lose_wifi(self) -> None:
        """The access point went away: every link closes, the host is told."""
        if self.joined is None:
            return
        self.joined = None
        self.emit(b"WIFI DISCONNECT\r\n")
        self._drop_links()

    def _drop_links(self) -> None:
        for link in sorted(self.links.values(), key=lambda lk: lk.id):
            link.abort()
            self._closed(link)

    def _cmd_CWLAPOPT(self, cmd, persist) -> None:
        sort, mask = _ints(cmd, 2)[:2]
        _check(sort in (0, 1) and 0 <= mask <= 0x7FF)
        self.lap_mask = mask
        self.emit(OK)

    def _cmd_CWLAP(self, cmd, persist) -> None:
        _require(cmd, "exec")
        lines = b""
        for index, ssid in enumerate(sorted(self.config.networks)):
            rssi = -50 - 7 * index
            ecn = 3 if self.config.networks[ssid] else 0
            quoted = ssid.replace("\\", "\\\\").replace('"', '\\"').replace(",", "\\,")
            fields = [str(ecn), f'"{quoted}"', str(rssi), f'"{_bssid(ssid)}"', str(1 + 5 * index % 13), "-12",
                      "0", "4", "4", "7", "0"]
            chosen = [f for bit, f in enumerate(fields) if self.lap_mask & (1 << bit)]
            lines += b"+CWLAP:(" + ",".join(chosen).encode() + b")\r\n"
        self.busy = True

        async def scan() -> None:
            try:
                await asyncio.sleep(self.config.latency("join") / 2)
                self.emit(lines + OK)
            finally:
                self.busy = False
        self._spawn(scan())

    def _cmd_CIFSR(self, cmd, persist) -> None:
        _require(cmd, "exec")
        ip = STATION_IP if self.joined else "0.0.0.0"
        self.emit(b'+CIFSR:STAIP,"%s"\r\n+CIFSR:STAMAC,"%s"\r\n' % (ip.encode(), STATION_MAC.encode()) + OK)

    def _cmd_CIPSTA(self, cmd, persist) -> None:
        _require(cmd, "query")
        name = cmd.name.encode()
        values = (STATION_IP, GATEWAY, NETMASK) if self.joined else ("0.0.0.0",) * 3
        out = b"".join(b'+%s:%s:"%s"\r\n' % (name, key, value.encode())
                       for key, value in zip((b"ip", b"gateway", b"netmask"), values))
        self.emit(out + OK)

    # --- links ------------------------------------------------------------------------------------------------------

    def _cmd_CIPMUX(self, cmd, persist) -> None:
        if cmd.op == "query":
            self.emit(b"+CIPMUX:%d\r\n" % self.mux + OK)
            return
        (value,) = _ints(cmd, 1)
        _check(value in (0, 1))
        if bool(value) != self.mux and (self.links or self.server is not None):
            self._error("link is builded")
            return
        if value == 1 and self.passthrough_mode:
            self._error("IPMODE=1")
            return
        self.mux = bool(value)
        self.emit(OK)

    def _link_id(self, args: tuple, numbers_after: int) -> tuple:
        """Split a leading link id off the arguments as CIPMUX says; raises _Refusal with the firmware's words.

        `numbers_after` is how many numbers the command takes after the id: with CIPMUX=0, one number more
        than that at the front is a link id the firmware refuses (`MUX=0`)."""
        if self.mux:
            if not args or not isinstance(args[0], int) or (numbers_after and len(args) < 2) \
                    or (not numbers_after and len(args) > 1 and not isinstance(args[1], str)):
                raise _Refusal("MUX=1")
            if not 0 <= args[0] <= 4:
                raise _Refusal("ID ERROR")
            return args[0], args[1:]
        leading = 0
        while leading < len(args) and isinstance(args[leading], int):
            leading += 1
        if args and isinstance(args[0], int) and (leading > numbers_after or numbers_after == 0):
            raise _Refusal("MUX=0")
        return 0, args

    def _cmd_CIPSTART(self, cmd, persist) -> None:
        _require(cmd, "set")
        link_id, rest = self._link_id(cmd.args, 0)
        if len(rest) < 3 or not isinstance(rest[0], str) or not isinstance(rest[1], str) \
                or not isinstance(rest[2], int):
            raise ValueError("bad CIPSTART arguments")
        kind, host, port = rest[0].upper(), rest[1], rest[2]
        if kind not in ("TCP", "UDP", "SSL"):
            self._error("Link type ERROR")
            return
        if not 1 <= port <= 65535:
            self._error("IP ERROR")
            return
        if link_id in self.links:
            self._error("ALREADY CONNECTED")
            return
        if self.joined is None:
            self._error("no ip")
            return
        local_port = rest[3] if kind == "UDP" and len(rest) > 3 else None
        self.busy = True
        self._spawn(self._open(link_id, kind, host, port, local_port))

    async def _open(self, link_id: int, kind: str, host: str, port: int, local_port: Optional[int]) -> None:
        try:
            if not _is_ip(host):
                await asyncio.sleep(self.config.latency("dns"))
                if not self.config.knows_name(host):
                    self._error("DNS Fail", 0x010A0000)
                    return
            target = self.config.resolve(host, port)
            await asyncio.sleep(self.config.latency("connect"))
            if target is None:
                await asyncio.sleep(min(10.0, 100 * self.config.latency("connect")))  # SYNs go unanswered
                self._connect_failed(link_id)
                return
            link = Link(link_id, kind, host, port, self, rtt=self.config.latency("rtt"))
            try:
                await link.open(target, local_port)
            except LinkError:
                self._connect_failed(link_id)
                return
            self.links[link_id] = link
            self.had_link = True
            self._draining.pop(link_id, None)
            self.emit((b"%d,CONNECT\r\n" % link_id if self.mux else b"CONNECT\r\n") + OK)
            link.start_reading()
        finally:
            self.busy = False

    def _connect_failed(self, link_id: int) -> None:
        self.emit(ERROR + (b"%d,CLOSED\r\n" % link_id if self.mux else b"CLOSED\r\n"))

    def _cmd_CIPSEND(self, cmd, persist) -> None:
        if cmd.op == "exec":
            if not self.passthrough_mode or self.mux or 0 not in self.links:
                self._error()
                return
            self._passthrough_link = self.links[0]
            self._pt_last = time.monotonic()
            self.emit(b"\r\nOK\r\n\r\n>")
            return
        _require(cmd, "set")
        link_id, rest = self._link_id(cmd.args, 1)
        if not rest or not isinstance(rest[0], int):
            raise ValueError("CIPSEND needs a length")
        length = rest[0]
        link = self.links.get(link_id)
        if link is None:
            self._error("link is not valid")
            return
        if length > MAX_SEND:
            self._error("too long")
            return
        if length < 1:
            self._error()
            return
        self.sends_seen += 1
        self._payload = bytearray()
        self._payload_len = length
        self._payload_link = link
        self.emit(self.dialect.send_prompt)

    def _payload_progress(self) -> None:
        payload = self._payload
        assert payload is not None
        for fault in self.faults:
            if fault.kind == "reset" and fault.fires("send", self.sends_seen) \
                    and len(payload) >= max(1, self._payload_len // 2):
                self._payload = None
                self.faults.remove(fault)
                self._log("->", bytes(payload))
                self._reset()
                return
        if len(payload) < self._payload_len:
            return
        data = bytes(payload)
        link = self._payload_link
        self._payload = None
        self._payload_link = None
        self._log("->", data)
        self.emit(b"\r\nRecv %d bytes\r\n" % len(data))
        self._sending = True
        self._spawn(self._transmit(link, data, self.sends_seen))

    async def _transmit(self, link: Link, data: bytes, number: int) -> None:
        try:
            fail = any(f.kind == "send-fail" and f.fires("send", number) for f in self.faults)
            await asyncio.sleep(self.config.latency("send"))
            if fail or link.closed or not await link.send(data):
                self.emit(self.dialect.send_fail)
                if self.links.get(link.id) is link:
                    link.abort()
                    self._closed(link)
                return
            # handed to the TCP stack: the peer cannot have answered yet, so SEND OK comes before its reply
            self.emit(b"\r\nSEND OK\r\n")
            for fault in self.faults:
                if fault.fires("send", number):
                    if fault.kind == "remote-close":
                        link.abort()
                        self._closed(link)
                    elif fault.kind == "wifi-lost":
                        self.lose_wifi()
        finally:
            self._sending = False

    def _cmd_CIPCLOSE(self, cmd, persist) -> None:
        if self.mux:
            if cmd.op != "set":
                self._error("MUX=1")
                return
            (link_id,) = _ints(cmd, 1)
            _check(0 <= link_id <= 5)
            targets = list(self.links.values()) if link_id == 5 else [self.links[link_id]] \
                if link_id in self.links else []
            if not targets and link_id != 5:
                self._error("UNLINK")
                return
        else:
            if cmd.op != "exec":
                self._error("MUX=0")
                return
            targets = [self.links[0]] if 0 in self.links else []
            if not targets:
                self._error("UNLINK")
                return
        out = b""
        for link in sorted(targets, key=lambda lk: lk.id):
            link.abort()
            self.links.pop(link.id, None)
            out += b"%d,CLOSED\r\n" % link.id if self.mux else b"CLOSED\r\n"
        self.emit(out + OK)

    def _cmd_CIPSTATUS(self, cmd, persist) -> None:
        _require(cmd, "exec")
        if self.joined is None:
            status = 5
        elif self.links:
            status = 3
        else:
            status = 4 if self.had_link else 2
        out = b"STATUS:%d\r\n" % status
        for link in sorted(self.links.values(), key=lambda lk: lk.id):
            out += b'+CIPSTATUS:%d,"%s","%s",%d,%d,%d\r\n' % (
                link.id, link.kind.encode(), link.remote_ip.encode(), link.remote_port, link.local_port,
                int(link.incoming))
        self.emit(out + OK)

    def _cmd_CIPSERVER(self, cmd, persist) -> None:
        _require(cmd, "set")
        args = _ints(cmd, 1, 2)
        if not self.mux:
            self._error("MUX=0")
            return
        if args[0] == 0:
            if self.server is not None:
                self.server.close()
                self.server = None
            self.emit(OK)
            return
        _check(args[0] == 1)
        port = args[1] if len(args) > 1 else 333
        _check(1 <= port <= 65535)
        if self.server is not None:
            self.emit(b"no change\r\n" + OK)
            return
        self.busy = True

        async def listen() -> None:
            try:
                server = Server(self, port, rtt=self.config.latency("rtt"))
                try:
                    await server.start()
                except OSError:
                    self._error()
                    return
                self.server = server
                self.emit(OK)
            finally:
                self.busy = False
        self._spawn(listen())

    def accept(self, link_factory) -> Optional[Link]:
        """An incoming connection on the server: the lowest free id, or None when all are taken."""
        incoming = sum(1 for lk in self.links.values() if lk.incoming)
        free = [i for i in range(5) if i not in self.links]
        if not free or incoming >= self.server_max:
            return None
        link = link_factory(free[0])
        self.links[link.id] = link
        self.emit(b"%d,CONNECT\r\n" % link.id)
        return link

    def _cmd_CIPSERVERMAXCONN(self, cmd, persist) -> None:
        if cmd.op == "query":
            self.emit(b"+CIPSERVERMAXCONN:%d\r\n" % self.server_max + OK)
            return
        (count,) = _ints(cmd, 1)
        _check(1 <= count <= 5)
        self.server_max = count
        self.emit(OK)

    def _cmd_CIPSTO(self, cmd, persist) -> None:
        if cmd.op == "query":
            self.emit(b"+CIPSTO:%d\r\n" % self.server_timeout + OK)
            return
        (seconds,) = _ints(cmd, 1)
        _check(0 <= seconds <= 7200)
        if not self.mux:
            self._error()
            return
        self.server_timeout = seconds
        self.emit(OK)

    def _cmd_CIPRECVMODE(self, cmd, persist) -> None:
        self._switch(cmd, "passive")

    def _cmd_CIPRECVDATA(self, cmd, persist) -> None:
        _require(cmd, "set")
        link_id, rest = self._link_id(cmd.args, 1)
        if len(rest) != 1 or not isinstance(rest[0], int) or not 1 <= rest[0] <= MAX_SEND:
            raise ValueError("CIPRECVDATA needs a length 1-2048")
        link = self.links.get(link_id) or self._draining.get(link_id)
        if link is None or not link.buffer:
            self._error()
            return
        data = link.take(rest[0])
        head = self.dialect.recvdata_head.format(len=len(data)).encode()
        if self.dialect.major >= 2 and self.dinfo:
            head = head + b'"%s",%d,' % (link.remote_ip.encode(), link.remote_port)
        self.emit(head + data + OK)
        link.drained()

    def _cmd_CIPRECVLEN(self, cmd, persist) -> None:
        _require(cmd, "query")
        values = []
        for i in range(5):
            link = self.links.get(i) or self._draining.get(i)
            values.append(str(len(link.buffer)) if link is not None else str(self.dialect.recvlen_idle))
        self.emit(b"+CIPRECVLEN:" + ",".join(values).encode() + b"\r\n" + OK)

    def _cmd_CIPDINFO(self, cmd, persist) -> None:
        self._switch(cmd, "dinfo")

    def _cmd_CIPMODE(self, cmd, persist) -> None:
        if cmd.op == "query":
            self.emit(b"+CIPMODE:%d\r\n" % self.passthrough_mode + OK)
            return
        (value,) = _ints(cmd, 1)
        _check(value in (0, 1))
        if value and (self.mux or self.server is not None):
            self._error("MUX=1" if self.mux else "")
            return
        self.passthrough_mode = bool(value)
        self.emit(OK)

    def _cmd_CIPSSLSIZE(self, cmd, persist) -> None:
        (size,) = _ints(cmd, 1)
        _check(2048 <= size <= 4096)
        self.emit(OK)

    # --- data from the links ----------------------------------------------------------------------------------------

    def received(self, link: Link, data: bytes) -> None:
        """A link's socket delivered `data`."""
        if self._passthrough_link is link or (self.passthrough_mode and not self.mux and link.id == 0
                                              and self._passthrough_link is not None):
            self.emit(data)
            return
        if self.passive and link.kind == "TCP":
            first = not link.buffer
            link.buffer += data
            if self.dialect.major == 1 or first:
                total = len(link.buffer)
                self.emit(b"\r\n+IPD,%d,%d\r\n" % (link.id, total) if self.mux else b"\r\n+IPD,%d\r\n" % total)
            if len(link.buffer) >= PASSIVE_WINDOW:
                link.pause()
            return
        for start in range(0, len(data), 1460):
            piece = data[start:start + 1460]
            head = b"\r\n+IPD,"
            if self.mux:
                head += b"%d," % link.id
            head += b"%d" % len(piece)
            if self.dinfo:
                ip = link.remote_ip.encode()
                head += (b',"%s",%d' if self.dialect.quoted_dinfo_ip else b",%s,%d") % (ip, link.remote_port)
            self.emit(head + b":" + piece)

    def remote_closed(self, link: Link) -> None:
        """The peer closed, or CIPSTO ran out."""
        if self.links.get(link.id) is not link:
            return
        if self.passive and link.buffer and self.dialect.major >= 2:
            link.close_when_drained = True      # 2.x holds CLOSED back until the data was read
            return
        self._closed(link)

    def _closed(self, link: Link) -> None:
        if self.links.get(link.id) is link:
            del self.links[link.id]
        if self._passthrough_link is link:
            self._passthrough_link = None
        if link.buffer:
            self._draining[link.id] = link
        self.emit(b"%d,CLOSED\r\n" % link.id if self.mux else b"CLOSED\r\n")

    def link_drained(self, link: Link) -> None:
        if link.buffer:
            return
        if self._draining.get(link.id) is link:
            del self._draining[link.id]
        if link.close_when_drained and self.links.get(link.id) is link:
            link.close_when_drained = False
            self._closed(link)

    # --- passthrough ------------------------------------------------------------------------------------------------

    def _passthrough_data(self, data: bytes) -> None:
        now = time.monotonic()
        quiet_before = now - self._pt_last >= PASSTHROUGH_GUARD
        self._pt_last = now
        if self._plus_timer is not None:            # more bytes: the `+++` was data after all
            self._plus_timer.cancel()
            self._plus_timer = None
            self._pt_buf += b"+++"
        if data == b"+++" and quiet_before and not self._pt_buf:
            self._plus_timer = self.loop.call_later(PASSTHROUGH_GUARD, self._leave_passthrough)
            return
        self._pt_buf += data
        self._log("->", data)
        if self._pt_timer is not None:
            self._pt_timer.cancel()
        if len(self._pt_buf) >= 2048:
            self._flush_passthrough()
        else:
            self._pt_timer = self.loop.call_later(PASSTHROUGH_GUARD, self._flush_passthrough)

    def _flush_passthrough(self) -> None:
        self._pt_timer = None
        link, data = self._passthrough_link, bytes(self._pt_buf)
        self._pt_buf.clear()
        if link is not None and data and not link.closed:
            self._spawn(link.send(data))

    def _leave_passthrough(self) -> None:
        self._plus_timer = None
        self._flush_passthrough()
        self._passthrough_link = None

    # --- time-triggered faults --------------------------------------------------------------------------------------

    def start_timed_faults(self) -> None:
        for fault in self.faults:
            if fault.trigger == "t" and fault.kind == "wifi-lost":
                self.loop.call_later(fault.at, self.lose_wifi)


_DIALECT_ONLY = {1: ("SYSSTORE", "SYSLOG"), 2: ("CIPSSLSIZE",)}


class _Refusal(Exception):
    """The firmware's one-line reason before ERROR."""


def _require(cmd: ParsedCommand, op: str) -> None:
    if cmd.op != op:
        raise ValueError(f"{cmd.name} does not take {cmd.op}")


def _check(condition: bool) -> None:
    if not condition:
        raise ValueError("argument out of range")


def _ints(cmd: ParsedCommand, low: int, high: Optional[int] = None) -> tuple:
    """The arguments of a set command, all numbers, `low` to `high` of them."""
    _require(cmd, "set")
    high = low if high is None else high
    if not low <= len(cmd.args) <= high or not all(isinstance(a, int) for a in cmd.args):
        raise ValueError(f"{cmd.name} takes {low}-{high} numbers")
    return cmd.args


def _is_ip(host: str) -> bool:
    return re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host) is not None


def _bssid(ssid: str) -> str:
    digest = sum(ssid.encode()) & 0xFFFF
    return "24:0a:c4:%02x:%02x:%02x" % (digest >> 8, digest & 0xFF, len(ssid) & 0xFF)
