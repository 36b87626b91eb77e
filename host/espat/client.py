"""Drive an ESP-01 over any pyserial port: commands with bounds, Wi-Fi, links, typed errors.

    with EspAt("/dev/ttyUSB0") as esp:          # or socket://..., rfc2217://..., sim://...
        esp.sync()
        esp.join("HomeNet", password)
        link = esp.open_link("example.com", 80)
        esp.send(link, request_bytes)
        data = esp.receive(link, timeout=10)

Every wait ends: by the module's answer, or by the command's bound from the dialect table (overridable), with a
typed error. Unsolicited lines (data, CONNECT/CLOSED, WIFI ..., ready) are handled wherever they arrive, so
nothing the module says is flushed away before a command.
"""
from __future__ import annotations

import time
from collections import deque
from dataclasses import dataclass, field
from typing import Deque, Dict, List, Optional, Type

from . import commands, events as ev
from .dialects import AT1, AT2, Dialect
from .errors import EspAtError, RemoteProtocolError
from .framing import frame_send
from .parser import Parser
from .transport import open_port

__all__ = ["EspAt", "ModuleError", "CommandTimeout", "BusyError", "JoinError", "LinkClosed", "DataLost",
           "Reply", "LinkInfo"]


class ModuleError(EspAtError):
    """The module answered ERROR or FAIL; `detail` holds its words before that, `code` the 2.x error code."""

    def __init__(self, command: str, detail: str = "", code: Optional[int] = None) -> None:
        self.command, self.detail, self.code = command, detail, code
        text = f"module refused {command}"
        if detail:
            text += f": {detail}"
        if code is not None:
            text += f" (error code 0x{code:08x})"
        super().__init__(text)


class CommandTimeout(EspAtError):
    """No final answer within the bound."""


class BusyError(EspAtError):
    """The module kept answering `busy` past the retry bound."""


class JoinError(ModuleError):
    """Joining the access point failed; `reason` is the module's (wrong password, AP not found, ...)."""

    def __init__(self, ssid: str, reason: str, code: Optional[int]) -> None:
        EspAtError.__init__(self, f"cannot join {ssid!r}: {reason}")
        self.command, self.detail, self.code, self.reason = "CWJAP", reason, code, reason


class LinkClosed(EspAtError):
    """The link closed (peer, module or Wi-Fi) before the operation finished."""


class DataLost(RemoteProtocolError):
    """Fewer bytes arrived than a length the module announced (`+IPD,<n>:`): the serial line lost some.

    The client gets back in step before raising (a fresh parser), so the next command works; the data is gone.
    """


@dataclass
class Reply:
    """What the module said to one command: the lines before the final result, and that result."""
    events: List[ev.Event]
    final: ev.Event

    def of(self, kind: Type[ev.Event]) -> List[ev.Event]:
        return [e for e in self.events if isinstance(e, kind)]


@dataclass
class LinkInfo:
    id: int
    host: str
    port: int
    kind: str = "TCP"
    open: bool = True
    received: bytearray = field(default_factory=bytearray)
    waiting: int = 0            # passive mode: bytes the module said it holds for us
    read_after_close: bool = False


class EspAt:
    """A module on a port. Not thread-safe: one caller at a time, as on the wire."""

    BUSY_RETRIES = 10
    QUIET = 1.0         # seconds of silence after which a payload still short of its length is lost

    def __init__(self, url: str, baudrate: int = 115200, timeout: Optional[float] = None,
                 dialect: Optional[Dialect] = None, trace=None, port=None) -> None:
        self.url = url
        self.timeout = timeout                  # overrides every command's own bound when set
        self.dialect: Dialect = dialect or AT1
        self._dialect_known = dialect is not None
        self.port = port if port is not None else open_port(url, baudrate)
        if trace is not None:
            from .trace import TracedPort
            self.port = TracedPort(self.port, trace)
        self.parser = Parser()
        self._queue: Deque[ev.Event] = deque()
        self.links: Dict[int, LinkInfo] = {}
        self.mux = False
        self.passive = False
        self.wifi_connected: Optional[bool] = None
        self.resets = 0
        self.garbled = 0                        # lines that were no AT line (noise, lost bytes, wrong rate)
        self.firmware: Dict[str, str] = {}      # AT+GMR's lines, once sync() has read them
        self._last_byte = 0.0                   # when the port last gave bytes (monotonic)
        self.heard = 0                          # bytes read from the port so far
        self.echoed = False                     # the module repeated a command line (ATE1) at some point

    # --- life -------------------------------------------------------------------------------------------------------

    def __enter__(self) -> "EspAt":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.port.close()

    # --- reading ----------------------------------------------------------------------------------------------------

    def _pump(self, deadline: float) -> bool:
        """Read what the port has (waiting at most until `deadline`); False when the time is up."""
        waiting = getattr(self.port, "in_waiting", 0)
        data = self.port.read(max(1, waiting))
        if data:
            self._last_byte = time.monotonic()
            self.heard += len(data)
            for event in self.parser.receive_data(data):
                if not self._unsolicited(event):
                    self._queue.append(event)
            return True
        now = time.monotonic()
        if self.parser.payload_missing and now - self._last_byte >= self.QUIET:
            raise self._data_lost()     # a module never pauses inside a payload
        return now < deadline

    def _unsolicited(self, event: ev.Event) -> bool:
        """Keep the client's picture of the module current; True when the event is fully handled here."""
        if isinstance(event, ev.Ipd):
            link = self.links.get(event.link_id if event.link_id is not None else 0)
            if link is not None:
                link.received += event.data
            return True
        if isinstance(event, ev.IpdNotice):
            self.passive = True         # only passive mode sends notices: an earlier session may have set it
            link = self.links.get(event.link_id if event.link_id is not None else 0)
            if link is not None:
                link.waiting = event.length
            return True
        if isinstance(event, (ev.Closed, ev.ConnectFail)):
            link = self.links.get(event.link_id if event.link_id is not None else 0)
            if link is not None:
                link.open = False
            return False                # CIPCLOSE and CIPSTART want to see it too
        if isinstance(event, ev.Wifi):
            self.wifi_connected = event.state != "DISCONNECT"
            if not self.wifi_connected:
                for link in self.links.values():
                    link.open = False
            return True
        if isinstance(event, ev.Ready):
            self.resets += 1
            self.mux = self.passive = False
            for link in self.links.values():
                link.open = False
            return False
        if isinstance(event, (ev.Noise, ev.LineTooLong)):
            self.garbled += 1
            return True
        return isinstance(event, ev.Connect)

    def next_event(self, timeout: float) -> Optional[ev.Event]:
        """The next event that is not link data, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._queue:
            # data that keeps coming (another link's +IPD) must not stretch the wait past its bound
            if not self._pump(deadline) or (not self._queue and time.monotonic() >= deadline):
                return None
        return self._queue.popleft()

    def _data_lost(self) -> "DataLost":
        missing = self.parser.payload_missing
        self.parser = Parser()          # the lines after the loss were being counted as payload: start afresh
        return DataLost(f"{missing} bytes of data the module announced never arrived: bytes were lost on the "
                        "serial line (noise, or a rate too fast for the adapter)")

    def drain(self, quiet: float = 0.1) -> List[ev.Event]:
        """Read until the module has been silent for `quiet` seconds; returns what came."""
        got = []
        while True:
            event = self.next_event(quiet)
            if event is None:
                return got
            got.append(event)

    # --- commands ---------------------------------------------------------------------------------------------------

    def command(self, cmd: commands.Command, timeout: Optional[float] = None) -> Reply:
        """Send one command and collect its reply; ModuleError, CommandTimeout or BusyError otherwise."""
        bound = timeout if timeout is not None else (self.timeout if self.timeout is not None else cmd.timeout)
        for attempt in range(self.BUSY_RETRIES + 1):
            self._queue.clear()
            self.port.write(cmd.line)
            reply = self._collect(cmd, bound)
            if not isinstance(reply.final, ev.Busy):
                return reply
            time.sleep(min(0.05 * (attempt + 1), 0.5))     # the module is working on something: give it time
        raise BusyError(f"module stayed busy for {cmd.name} ({self.BUSY_RETRIES} retries)")

    def _collect(self, cmd: commands.Command, bound: float) -> Reply:
        deadline = time.monotonic() + bound
        seen: List[ev.Event] = []
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                raise CommandTimeout(f"no answer to {cmd.name} within {bound:g} s")
            if isinstance(event, ev.Echo):
                self.echoed = True
                continue
            if isinstance(event, ev.Busy) and not seen:
                return Reply(seen, event)
            if cmd.prompt:
                if isinstance(event, ev.Prompt):
                    return Reply(seen, event)
                if isinstance(event, ev.Ok):        # CIPSEND: OK comes before the prompt
                    continue
            elif isinstance(event, (ev.Ok, ev.SendOk)):
                return Reply(seen, event)
            if isinstance(event, (ev.Error, ev.Fail, ev.SendFail)):
                self._refused(cmd, seen, event)
            if isinstance(event, ev.Ready) and cmd.name not in ("RST", "RESTORE"):
                raise ModuleError(cmd.name, "the module reset while answering")
            seen.append(event)

    def _refused(self, cmd: commands.Command, seen: List[ev.Event], final: ev.Event) -> None:
        failure = next((e for e in seen if isinstance(e, ev.JoinFailure)), None)
        if cmd.name == "CWJAP":
            ssid = commands.parse_command(cmd.line[:-2]).args[0]
            reason = failure.reason if failure else "the module gave no reason"
            raise JoinError(str(ssid), reason, failure.code if failure else None)
        words = "; ".join(e.text for e in seen if isinstance(e, ev.Message))
        if isinstance(final, ev.SendFail):
            raise LinkClosed(f"send failed: the link broke ({cmd.name})")
        raise ModuleError(cmd.name, words, getattr(final, "code", None))

    def at(self, text: str, timeout: Optional[float] = None) -> Reply:
        """A command typed by a person (`AT+CIPSTATUS`), checked to be one line."""
        return self.command(commands.raw(text), timeout)

    # --- getting in step ---------------------------------------------------------------------------------------------

    def sync(self, attempts: int = 5) -> None:
        """Bring a module in any state to answering AT with echo off: boot noise, a half-typed line, a
        half-finished CIPSEND (filled up), passthrough mode (left with `+++`)."""
        self.parser = Parser()                          # whatever was half read belongs to the old state
        self._queue.clear()
        for attempt in range(attempts):
            if attempt == 2:
                time.sleep(1.1)                         # the `+++` guard of 1.x, then the escape itself
                self.port.write(commands.PASSTHROUGH_ESCAPE)
                time.sleep(1.1)
            if attempt == 3:
                self.port.write(b"\0" * commands.MAX_SEND)   # a CIPSEND waiting for bytes gets them all
                time.sleep(0.3)
            self.port.write(b"\r\n")                    # ends whatever line the module has half read
            self.drain(0.2)
            try:
                self.command(commands.at(), timeout=1.0)
                break
            except (CommandTimeout, ModuleError, BusyError, DataLost):
                continue
        else:
            raise CommandTimeout(f"the module does not answer AT on {self.url} (wrong baud rate? "
                                 "`espat detect` finds it)")
        self.command(commands.echo(False))
        if not self._dialect_known:
            self.detect_dialect()

    def version(self) -> Dict[str, str]:
        reply = self.command(commands.version())
        return {e.key: e.value for e in reply.of(ev.Version)}

    def detect_dialect(self) -> Dialect:
        info = self.version()
        self.firmware = info
        text = info.get("AT version", "")
        self.dialect = AT2 if text.startswith("2.") else AT1
        self._dialect_known = True
        return self.dialect

    # --- Wi-Fi --------------------------------------------------------------------------------------------------------

    def join(self, ssid: str, password: str, persist: bool = False) -> None:
        self.command(commands.set_mode(1, self.dialect))
        self.command(commands.join(ssid, password, self.dialect, persist))
        self.wifi_connected = True

    def leave(self) -> None:
        self.command(commands.leave())
        self.wifi_connected = False

    def scan(self) -> List[ev.ApEntry]:
        return self.command(commands.scan()).of(ev.ApEntry)

    def station(self) -> Optional[ev.ApInfo]:
        found = self.command(commands.query_join(self.dialect)).of(ev.ApInfo)
        return found[0] if found else None

    def addresses(self) -> Dict[str, str]:
        return {e.kind: e.value for e in self.command(commands.addresses()).of(ev.Address)}

    # --- links --------------------------------------------------------------------------------------------------------

    def use_mux(self) -> None:
        if not self.mux:
            self.command(commands.mux(True))
            self.mux = True

    def set_passive(self, passive: bool) -> None:
        self.command(commands.recv_mode(passive))
        self.passive = passive

    def open_link(self, host: str, port: int, kind: str = "TCP", link_id: Optional[int] = None) -> int:
        """Open a link (CIPMUX=1, ids 0-4); returns its id."""
        self.use_mux()
        if link_id is None:
            free = [i for i in range(5) if i not in self.links or not self.links[i].open]
            if not free:
                raise EspAtError("all five links are in use")
            link_id = free[0]
        self.links[link_id] = LinkInfo(link_id, host, port, kind)
        try:
            self.command(commands.start(link_id, kind, host, port))
        except ModuleError:
            self.links.pop(link_id, None)
            raise
        return link_id

    def send(self, link_id: int, data: bytes) -> None:
        """Send any bytes: split at 2048, each piece after the prompt, `Recv N bytes` checked against N."""
        for chunk in frame_send(data, link_id):
            link = self.links.get(link_id)
            if link is None or not link.open:
                raise LinkClosed(f"link {link_id} is closed")
            reply = self.command(chunk.command)
            if not isinstance(reply.final, ev.Prompt):
                raise RemoteProtocolError(f"expected the send prompt, got {reply.final}")
            self.port.write(chunk.data)
            self._finish_send(chunk)

    def _finish_send(self, chunk) -> None:
        deadline = time.monotonic() + chunk.command.timeout
        recv_seen = False
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                raise CommandTimeout(f"no SEND OK within {chunk.command.timeout:g} s")
            if isinstance(event, ev.Recv):
                chunk.check_recv(event)
                recv_seen = True
            elif isinstance(event, ev.SendOk):
                if not recv_seen:
                    raise RemoteProtocolError("SEND OK without `Recv N bytes`")
                return
            elif isinstance(event, (ev.SendFail, ev.Error)):
                raise LinkClosed("send failed: the link broke")
            elif isinstance(event, ev.Ready):
                raise ModuleError("CIPSEND", "the module reset while sending")

    def receive(self, link_id: int, timeout: float, until_closed: bool = False) -> bytes:
        """Bytes that arrived on the link (waiting up to `timeout` for the first, or for the close)."""
        link = self.links[link_id]
        deadline = time.monotonic() + timeout
        probed = time.monotonic()
        while True:
            if link.open and self.mux and time.monotonic() - max(probed, self._last_byte) >= self.QUIET:
                self._probe_links()
                probed = time.monotonic()
            if self.passive and (link.waiting or (not link.open and not link.read_after_close)):
                link.read_after_close = not link.open
                self._read_passive(link)
            if link.received and not until_closed:
                break
            if not link.open and not link.waiting:
                break
            if time.monotonic() >= deadline:
                if until_closed:
                    raise CommandTimeout(f"link {link_id} did not close within {timeout:g} s")
                break
            event = self.next_event(min(0.05, max(0.0, deadline - time.monotonic())))
            if isinstance(event, ev.Ready):
                raise ModuleError("receive", "the module reset")
        data = bytes(link.received)
        link.received.clear()
        return data

    def _probe_links(self) -> None:
        """Ask which links are open (AT+CIPSTATUS): a `CLOSED` line garbled on the serial line would otherwise
        leave a link looking open until the caller's bound ran out."""
        open_ids = {e.link_id for e in self.command(commands.status()).of(ev.LinkStatus)}
        for link in self.links.values():
            if link.open and link.id not in open_ids:
                link.open = False

    def _read_passive(self, link: LinkInfo) -> None:
        """Read what the module holds for the link. Notices can be stale or lost (1.x reports CLOSED while data
        still waits), so AT+CIPRECVLEN? is the measure, as WiFiEspAT does it."""
        while True:
            lengths = self.command(commands.recv_len()).of(ev.RecvLen)
            held = (lengths[0].lengths[link.id] or 0) if lengths and link.id < len(lengths[0].lengths) else 0
            if held <= 0:
                link.waiting = 0
                return
            while held > 0:             # what was counted is there: read it all before asking again
                reply = self.command(commands.recv_data(link.id, min(held, commands.MAX_SEND)))
                data = b"".join(e.data for e in reply.of(ev.RecvData))
                if not data:
                    break
                link.received += data
                held -= len(data)

    def close_link(self, link_id: int) -> None:
        link = self.links.get(link_id)
        if link is not None and link.open:
            try:
                self.command(commands.close(link_id))
            except ModuleError:
                pass                    # UNLINK: it closed on its own in the meantime
            link.open = False

    # --- baud ----------------------------------------------------------------------------------------------------------

    def set_baud(self, rate: int, persist: bool = False) -> None:
        """UART_CUR at the old rate, reopen at the new one, check with AT; UART_DEF only when asked."""
        old = self.port.baudrate
        self.command(commands.uart(rate, self.dialect))
        time.sleep(0.05)                # OK came at the old rate; the module switches only once it is sent
        self.port.baudrate = rate
        self.port.write(b"\r\n")
        self.drain(0.2)
        try:
            self.command(commands.at(), timeout=1.0)
        except (CommandTimeout, ModuleError) as exc:
            self.port.baudrate = old
            raise CommandTimeout(f"the module did not answer at {rate} baud: {exc}") from None
        if persist:
            self.command(commands.uart(rate, self.dialect, persist=True))

