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
from contextlib import contextmanager
from typing import IO, TYPE_CHECKING, Deque, Dict, Iterator, List, Optional, Set

from . import commands, events as ev
from .dialects import AT1, AT2, Dialect
from .errors import (BusyError, CommandTimeout, DataLost, EspAtError, JoinError, LinkClosed, ModuleError,
                     RemoteProtocolError)
from .framing import frame_send
from .parser import Parser
from .records import LinkInfo, Reply
from .transport import open_port

if TYPE_CHECKING:
    from serial import SerialBase

__all__ = ["EspAt", "ModuleError", "CommandTimeout", "BusyError", "JoinError", "LinkClosed", "DataLost",
           "Reply", "LinkInfo"]


class EspAt:
    """A module on a port. Not thread-safe: one caller at a time, as on the wire."""

    BUSY_RETRIES = 10
    FLUSH_MAX = 30.0    # seconds a command's answer may wait behind data still coming for a closed link
    QUIET = 1.0         # seconds of silence after which a payload still short of its length is looked into
    SLOW_BOUND = 5.0    # seconds sync() waits for AT once the module has answered, late
    # sync()'s waits on the wire. The defaults are real AT firmware's: 1.x leaves passthrough only on a `+++` with a
    # second of silence before and after it. A test against the fake, whose guard is 20 ms, may shrink them on its
    # client (never below the fake's own): the same steps, in less time.
    ESCAPE_GUARD = 1.1  # seconds of silence before and after `+++`
    FILL_PAUSE = 0.3    # seconds for a CIPSEND filled up with zeros to answer before the line end that follows

    def __init__(self, url: str, baudrate: int = 115200, timeout: Optional[float] = None,
                 dialect: Optional[Dialect] = None, trace: Optional[IO[str]] = None,
                 port: Optional[SerialBase] = None) -> None:
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
        self.last_byte_at = 0.0                 # when the port last gave bytes (monotonic)
        self.heard = 0                          # bytes read from the port so far
        self.echoed = False                     # the module repeated a command line (ATE1) at some point
        self.foreign: Set[int] = set()          # link ids the module holds that this client did not open
        self.left_open: Set[int] = set()        # links this client opened and could not close
        self._orphan_data: Set[int] = set()     # link ids not ours that data arrived for
        self._dropped_at = 0.0                  # when data last came for a link that is closed or not ours
        self._reconciled = False
        self._op_end: Optional[float] = None    # the whole operation's deadline (monotonic), see operation()
        self._owed = 0                          # final results still to come for commands that timed out
        self._owed_line = 0                     # answers still to come for bare line ends (end_line)
        self.line_answers = 0                   # answers the module gave to bare line ends
        self.busy_seen = 0                      # `busy` answers the module gave (each one retried)
        self.late_answers = 0                   # answers that came after their command's bound
        self._op_seconds = 0.0

    # --- life -------------------------------------------------------------------------------------------------------

    def __enter__(self) -> "EspAt":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.port.close()

    @contextmanager
    def operation(self, seconds: Optional[float]) -> Iterator[None]:
        """Bound everything inside by one deadline: every command, send and read ends by then with
        CommandTimeout, however the time is spent (a server that trickles a byte a second never ends a read's own
        bound). Cleanup (closing links) still runs after it has passed, with its own short bound."""
        saved = self._op_end, self._op_seconds
        if seconds is not None:
            end = time.monotonic() + seconds
            self._op_end = end if self._op_end is None else min(end, self._op_end)
            self._op_seconds = seconds
        try:
            yield
        finally:
            self._op_end, self._op_seconds = saved

    @contextmanager
    def _unbounded(self) -> Iterator[None]:
        saved, self._op_end = self._op_end, None
        try:
            yield
        finally:
            self._op_end = saved

    def _until(self, seconds: float) -> float:
        """The deadline `seconds` from now, never past the operation's."""
        end = time.monotonic() + seconds
        return end if self._op_end is None else min(end, self._op_end)

    @property
    def operation_over(self) -> bool:
        """The whole operation's deadline (see operation()) has passed."""
        return self._op_end is not None and time.monotonic() >= self._op_end

    def _timeout(self, text: str) -> CommandTimeout:
        if self.operation_over:
            return CommandTimeout(f"gave up after {self._op_seconds:g} s, the operation's bound ({text})")
        return CommandTimeout(text)

    # --- reading ----------------------------------------------------------------------------------------------------

    def _pump(self, deadline: float) -> bool:
        """Read what the port has (waiting at most until `deadline`); False when the time is up."""
        data = self._read()
        if data:
            for event in self.parser.receive_data(data):
                if not self._unsolicited(event):
                    self._queue.append(event)
            return True
        now = time.monotonic()
        if self.parser.payload_missing and now - self.last_byte_at >= self.QUIET:
            self._stalled()             # a module never pauses inside a payload: lost bytes, or a module stopped
        return now < deadline

    def _stalled(self) -> None:
        """Silence inside a payload. Either bytes of it were lost (the module went on and has nothing more to say)
        or the module stopped (froze, reset, lost power). AT tells them apart: a module that answers it lost the
        bytes (DataLost); one that stays silent within AT's bound is not answering (CommandTimeout)."""
        missing, heard = self.parser.payload_missing, self.heard
        self.port.write(commands.at().line)
        deadline = self._until(commands.at().timeout)
        while self.heard == heard and time.monotonic() < deadline:
            self._read()                # the answer falls into the broken payload: it is not parsed
        if self.heard == heard:
            self._owed += 1             # the AT's answer, should the module wake
            self.parser = Parser()
            raise self._timeout(f"the module stopped in the middle of a block of data ({missing} bytes short) "
                                "and does not answer AT: it froze, reset or lost power")
        while self._read():             # the rest of the AT's answer, dropped too
            pass
        raise self._data_lost(missing)

    def _read(self) -> bytes:
        """What the port has (waiting at most its read timeout), counted."""
        data = self.port.read(max(1, getattr(self.port, "in_waiting", 0)))
        if data:
            self.last_byte_at = time.monotonic()
            self.heard += len(data)
        return data

    def _unsolicited(self, event: ev.Event) -> bool:
        """Keep the client's picture of the module current; True when the event is fully handled here."""
        if isinstance(event, ev.Ipd):
            link_id = event.link_id if event.link_id is not None else 0
            link = self.links.get(link_id)
            if link is not None and link.open and not link.closing:
                link.received += event.data
                return True
            self._dropped_at = time.monotonic()
            if link is None:
                self._orphan_data.add(link_id)      # an earlier process's download, still pouring in
            return True
        if isinstance(event, ev.IpdNotice):
            self.passive = True         # only passive mode sends notices: an earlier session may have set it
            link = self.links.get(event.link_id if event.link_id is not None else 0)
            if link is not None:
                link.waiting = event.length
            return True
        if isinstance(event, (ev.Closed, ev.ConnectFail)):
            self.left_open.discard(event.link_id if event.link_id is not None else 0)
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
            self.foreign.clear()
            self._owed = 0              # (a line end's answer stays owed: this ready may be older than the line end)
            for link in self.links.values():
                link.open = False
            return False
        if isinstance(event, (ev.Noise, ev.LineTooLong)):
            self.garbled += 1
            return True
        if isinstance(event, ev.FramingLost):
            self.garbled += 1
            hit = [self.links.get(event.link_id)] if event.link_id is not None else list(self.links.values())
            for link in hit:
                if link is not None:
                    link.damaged = True
            return True
        return isinstance(event, ev.Connect)

    def next_event(self, timeout: float) -> Optional[ev.Event]:
        """The next event that is not link data, or None after `timeout` seconds."""
        deadline = time.monotonic() + timeout
        while not self._queue:
            # A link pouring data keeps the port busy without an event: the deadline still ends the wait, so a
            # reader sees its data (and a progress bar moves) while the rest is still coming.
            if not self._pump(deadline) or (not self._queue and time.monotonic() >= deadline):
                return None
        return self._queue.popleft()

    @property
    def cleanup_bound(self) -> float:
        """Seconds a command sent while cleaning up after an interruption may take: short, so Ctrl-C is prompt."""
        return min(1.0, self.timeout) if self.timeout else 1.0

    @property
    def clean(self) -> bool:
        """No link this client opened is open, or may be: what to tell a user after an interruption."""
        return not self.left_open and not any(link.open for link in self.links.values())

    def _data_lost(self, missing: int) -> "DataLost":
        self.parser = Parser()          # the lines after the loss were being counted as payload: start afresh
        return DataLost(f"{missing} bytes of data the module announced never arrived: bytes were lost on the "
                        "serial line (noise, or a rate too fast for the adapter)")

    def _damaged(self, link: LinkInfo) -> DataLost:
        return DataLost(f"data on link {link.id} was damaged on the serial line (what followed a block of it is "
                        "not what the module sends there): bytes were lost or changed, from noise or a rate too "
                        "fast for the adapter")

    def confirm(self, link_id: int, quiet: float = 0.3) -> None:
        """Make sure the link's data so far was whole: wait until the bytes after its last block have arrived
        and were checked (the module sends them at once), or the line was quiet for `quiet` seconds (so nothing
        was taken from them); DataLost if the link's framing was broken."""
        link = self.links[link_id]
        start = time.monotonic()
        while self.parser.unconfirmed and not link.damaged:
            now = time.monotonic()
            if now - max(start, self.last_byte_at) >= quiet or now - start >= 10 * quiet:
                break
            self._pump(now + quiet)
        if link.damaged:
            raise self._damaged(link)

    def drain(self, quiet: float = 0.1, limit: Optional[float] = None) -> List[ev.Event]:
        """Read until the module has been silent for `quiet` seconds, or `limit` seconds have passed (a link
        pouring data never falls silent); returns what came."""
        got = []
        end = None if limit is None else time.monotonic() + limit
        while end is None or time.monotonic() < end:
            event = self.next_event(quiet if end is None else min(quiet, max(0.0, end - time.monotonic())))
            if event is None:
                break
            if not self._line_answer(event):
                got.append(event)
        return got

    def end_line(self) -> None:
        """Write a bare CR LF: it ends whatever line the module has half read (boot noise, a half-typed command). The
        module answers it, `ERROR` when idle (no AT head before the LF), `busy p...` while a command runs: that answer
        is owed, and is taken where it comes (drain, a command's wait), never as a command's or a late one."""
        self.port.write(b"\r\n")
        self._owed_line += 1

    def await_line(self, limit: float) -> None:
        """Read (and drop, as drain does) until no bare line end's answer is owed, or `limit` seconds passed (a line
        end taken as a send's payload is never answered)."""
        end = time.monotonic() + limit
        while self._owed_line and time.monotonic() < end:
            event = self.next_event(max(0.0, end - time.monotonic()))
            if event is not None:
                self._line_answer(event)

    def _line_answer(self, event: ev.Event) -> bool:
        """True (and taken) when `event` is the answer a bare line end is owed (end_line)."""
        if self._owed_line and isinstance(event, (ev.Error, ev.Busy)):
            self._owed_line -= 1
            self.line_answers += 1
            self.busy_seen += isinstance(event, ev.Busy)
            return True
        return False

    # --- commands ---------------------------------------------------------------------------------------------------

    def command(self, cmd: commands.Command, timeout: Optional[float] = None) -> Reply:
        """Send one command and collect its reply; ModuleError, CommandTimeout or BusyError otherwise."""
        bound = timeout if timeout is not None else (self.timeout if self.timeout is not None else cmd.timeout)
        # Busy means the module is still on an earlier command (a connect takes up to 10 s): ask again within the
        # command's own bound, at least BUSY_RETRIES times.
        busy_until = self._until(bound)
        attempt = 0
        while True:
            self._discard_stale()
            self.port.write(cmd.line)
            try:
                reply = self._collect(cmd, bound)
            except CommandTimeout:
                self._owed += 1         # its answer may still come: it must not be taken for the next one's
                raise
            if not isinstance(reply.final, ev.Busy):
                return reply
            self.busy_seen += 1
            attempt += 1
            pause = min(0.05 * attempt, 0.5)
            if self._op_end is not None and time.monotonic() + pause >= self._op_end:
                raise self._timeout(f"the module stayed busy for {cmd.name}")
            if attempt > self.BUSY_RETRIES and time.monotonic() + pause >= busy_until:
                raise BusyError(f"module stayed busy for {cmd.name} ({attempt} tries in {bound:g} s)")
            time.sleep(pause)

    def _collect(self, cmd: commands.Command, bound: float) -> Reply:
        started = time.monotonic()
        deadline = self._until(bound)
        seen: List[ev.Event] = []
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                if self._flushing(started):
                    deadline = self._until(0.5)
                    continue
                raise self._timeout(f"no answer to {cmd.name} within {bound:g} s")
            if isinstance(event, ev.Echo):
                self.echoed = True
                continue
            if self._line_answer(event):
                continue
            if self._owed and isinstance(event, (ev.Ok, ev.Error, ev.Fail)):
                self._owed -= 1         # the late answer of a command that timed out: the module answers in order
                self.late_answers += 1
                seen.clear()
                continue
            if isinstance(event, ev.Busy) and not seen:
                return self._answered(seen, event)
            if cmd.prompt:
                if isinstance(event, ev.Prompt):
                    return self._answered(seen, event)
                if isinstance(event, ev.Ok):        # CIPSEND: OK comes before the prompt
                    continue
            elif isinstance(event, (ev.Ok, ev.SendOk)):
                return self._answered(seen, event)
            if isinstance(event, (ev.Error, ev.Fail, ev.SendFail)):
                self._refused(cmd, seen, event)
            if isinstance(event, ev.Ready) and cmd.name not in ("RST", "RESTORE"):
                raise ModuleError(cmd.name, "the module reset while answering")
            seen.append(event)

    def _answered(self, seen: List[ev.Event], final: ev.Event) -> Reply:
        """The command's own answer came. The module answers in order: a bare line end written before the command
        whose answer has not come by now was swallowed (a send's payload, passthrough) and is owed nothing."""
        self._owed_line = 0
        return Reply(seen, final)

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

    def _discard_stale(self) -> None:
        """Drop what arrived between commands; a final result among it is the late answer some command owed."""
        while self._queue:
            event = self._queue.popleft()
            if not self._line_answer(event) and self._owed and isinstance(event, (ev.Ok, ev.Error, ev.Fail)):
                self._owed -= 1

    def _flushing(self, started: float) -> bool:
        """The module is still sending data for a link that was closed (or no one's): the answer is queued behind
        it and comes in order, so waiting on is right, within FLUSH_MAX and the operation's deadline."""
        now = time.monotonic()
        return (now - self._dropped_at < 0.5 and now - started < self.FLUSH_MAX
                and (self._op_end is None or now < self._op_end))

    def at(self, text: str, timeout: Optional[float] = None) -> Reply:
        """A command typed by a person (`AT+CIPSTATUS`), checked to be one line."""
        return self.command(commands.raw(text), timeout)

    # --- getting in step ---------------------------------------------------------------------------------------------

    def sync(self, attempts: int = 5) -> None:
        """Bring a module in any state to answering AT with echo off: boot noise, a half-typed line, a
        half-finished CIPSEND (filled up), passthrough mode (left with `+++`)."""
        self.parser = Parser()                          # whatever was half read belongs to the old state
        self._queue.clear()
        self._reconciled = False
        self._owed = 0
        bound, late, heard = 1.0, self.late_answers, self.line_answers
        for attempt in range(attempts):
            answering = self.late_answers > late or self.line_answers > heard
            if attempt == 2 and not answering:          # (a module that answers is in no other mode)
                time.sleep(self.ESCAPE_GUARD)           # the `+++` guard of 1.x, then the escape itself
                self.port.write(commands.PASSTHROUGH_ESCAPE)
                time.sleep(self.ESCAPE_GUARD)
            if attempt == 3 and not answering:
                self.port.write(b"\0" * commands.MAX_SEND)   # a CIPSEND waiting for bytes gets them all
                time.sleep(self.FILL_PAUSE)
            busy = self.busy_seen
            self.end_line()                             # ends whatever line the module has half read
            answers = [e for e in self.drain(0.2, limit=1.0) if isinstance(e, (ev.Ok, ev.Error, ev.Busy))]
            self.late_answers += len(answers)
            if self.late_answers > late or self.busy_seen > busy:
                bound = self.SLOW_BOUND                 # it answers, only late (or busy): a slow module, not a wrong rate
            self._owed = 0                              # late answers came in the drain, or never will
            try:
                self.command(commands.at(), timeout=bound)
                break
            except (CommandTimeout, ModuleError, BusyError, DataLost):
                continue
        else:
            from .hints import no_answer
            raise CommandTimeout(no_answer(self.url, self.late_answers > late or bound == self.SLOW_BOUND,
                                           bool(self.garbled or self.heard), bound))
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
        """Open a link (CIPMUX=1, ids 0-4) on an id the module does not hold; returns its id.

        Once CIPSTART is on the wire the link is this client's to close: if the answer does not come (a connect
        past its bound, Ctrl-C), it is closed before the error goes on, so it cannot come up later and make the
        next open fail with ALREADY CONNECTED."""
        if not self._reconciled:
            self.reconcile()
        if not self.mux and self.foreign:       # a CIPMUX=0 link left open would refuse CIPMUX=1
            self._close_id(0, commands.close(None).timeout)
            self.foreign.clear()
        self.use_mux()
        chosen = link_id if link_id is not None else self._free_id()
        self.links[chosen] = LinkInfo(chosen, host, port, kind)
        try:
            self.command(commands.start(chosen, kind, host, port))
        except ModuleError as exc:
            self.links.pop(chosen, None)        # ERROR: the module did not open it
            if link_id is None and "ALREADY CONNECTED" in exc.detail:
                self.foreign.add(chosen)        # opened behind this client's back since it last looked
                return self.open_link(host, port, kind)
            raise
        except BaseException:
            self.close_link(chosen, timeout=self.cleanup_bound)
            if chosen not in self.left_open:
                self.links.pop(chosen, None)
            raise
        self.foreign.discard(chosen)
        return chosen

    def reconcile(self) -> None:
        """Learn from the module which links are open (AT+CIPMUX?, AT+CIPSTATUS): a link an earlier process left
        open (killed, or a connect that timed out) keeps its id, and new links take free ones."""
        reply = self.command(commands.query_mux())
        self.mux = any(e.name == "CIPMUX" and e.value.strip() == "1" for e in reply.of(ev.Info))
        held = {e.link_id for e in self.command(commands.status()).of(ev.LinkStatus)}
        for link in self.links.values():
            if link.open and link.id not in held:
                link.open = False
        self.left_open &= held
        ours = {i for i, link in self.links.items() if link.open}
        self.foreign = held - ours
        for orphan in sorted(self.foreign & self._orphan_data):
            # Its data shares the wire with ours and no one will read it: close it (the port is ours alone).
            if self._close_id(orphan, commands.close(orphan).timeout):
                self.foreign.discard(orphan)
        self._orphan_data.clear()
        self._reconciled = True

    def _free_id(self) -> int:
        busy = {i for i, link in self.links.items() if link.open} | self.foreign | self.left_open
        free = [i for i in range(5) if i not in busy]
        if free:
            return free[0]
        if self.foreign:
            # Every id is held, some by links no one here opened: with the port locked to this process they
            # belong to processes that are gone. Take one back.
            orphan = min(self.foreign)
            self._close_id(orphan, timeout=commands.close(orphan).timeout)
            self.foreign.discard(orphan)
            return orphan
        raise EspAtError("all five links are in use")

    def send(self, link_id: int, data: bytes) -> None:
        """Send any bytes: split at 2048, each piece after the prompt, `Recv N bytes` checked against N."""
        for chunk in frame_send(data, link_id):
            link = self.links.get(link_id)
            if link is None or not link.open:
                raise LinkClosed(f"link {link_id} is closed")
            reply = self.command(chunk.command)
            if not isinstance(reply.final, ev.Prompt):
                raise RemoteProtocolError(f"expected the send prompt, got {reply.final}")
            link.sent += len(chunk.data)      # counted before the write: once it starts, bytes may have left
            self.port.write(chunk.data)
            self._finish_send(chunk)

    def _finish_send(self, chunk) -> None:
        deadline = self._until(chunk.command.timeout)
        while True:
            event = self.next_event(max(0.0, deadline - time.monotonic()))
            if event is None:
                raise self._timeout(f"no SEND OK within {chunk.command.timeout:g} s")
            if isinstance(event, ev.Recv):
                chunk.check_recv(event)
            elif isinstance(event, ev.SendOk):
                return                  # confirmed, even when the `Recv N bytes` before it was garbled away
            elif isinstance(event, (ev.SendFail, ev.Error)):
                raise LinkClosed("send failed: the link broke")
            elif isinstance(event, ev.Ready):
                raise ModuleError("CIPSEND", "the module reset while sending")

    def receive(self, link_id: int, timeout: float, until_closed: bool = False) -> bytes:
        """Bytes that arrived on the link (waiting up to `timeout` for the first, or for the close)."""
        link = self.links[link_id]
        deadline = self._until(timeout)
        probed = time.monotonic()
        while True:
            if link.damaged:
                raise self._damaged(link)
            if link.open and self.mux and time.monotonic() - max(probed, self.last_byte_at) >= self.QUIET:
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
                if until_closed or (self._op_end is not None and deadline >= self._op_end):
                    raise self._timeout(f"link {link_id} did not close within {timeout:g} s" if until_closed
                                        else f"no data on link {link_id} within {timeout:g} s")
                break
            event = self.next_event(min(0.05, max(0.0, deadline - time.monotonic())))
            if isinstance(event, ev.Ready):
                raise ModuleError("receive", "the module reset")
        if link.damaged:
            raise self._damaged(link)
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

    def close_link(self, link_id: int, timeout: Optional[float] = None) -> None:
        """Close a link this client opened, on any path: its data still arriving is dropped as it comes, and
        a failure to close (no answer in `timeout`, the port gone) never raises, so it cannot hide the error that
        made the caller clean up; the id is noted in `left_open` instead. The operation's deadline does not apply."""
        link = self.links.get(link_id)
        if link is None:
            return
        link.closing = True             # from now on its data is dropped as it comes
        link.received.clear()
        link.waiting = 0
        if link.open:
            # While the module still owes an answer (a connect past its bound) it is busy: a CIPCLOSE now would be
            # dropped with `busy`, and an answer that never comes cannot be told from a late one. Leave it noted.
            if not self._owed and self._close_id(link_id, timeout):
                self.left_open.discard(link_id)
                link.open = False
            else:
                self.left_open.add(link_id)     # still open as far as anyone knows; its CLOSED clears it

    def _close_id(self, link_id: int, timeout: Optional[float]) -> bool:
        """AT+CIPCLOSE=<id>; True when the module has no such link afterwards."""
        cmd = commands.close(link_id if self.mux else None)
        try:
            with self._unbounded(), self.operation(timeout or cmd.timeout):     # busy retries end in time too
                self.command(cmd, timeout)
            return True
        except ModuleError:
            return True                 # UNLINK: it had closed on its own in the meantime
        except Exception:               # no answer, busy, the port gone: the caller's error matters more
            return False

    # --- baud ----------------------------------------------------------------------------------------------------------

    def set_baud(self, rate: int, persist: bool = False) -> None:
        """UART_CUR at the old rate, reopen at the new one, check with AT; UART_DEF only when asked."""
        from .ratechange import change_rate
        change_rate(self, rate, persist)
