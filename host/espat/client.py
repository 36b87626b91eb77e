"""Drive an ESP-01 over any pyserial port: commands with bounds, Wi-Fi, links, typed errors.

    with EspAt("/dev/ttyUSB0") as esp:          # or socket://..., rfc2217://..., sim://...
        esp.sync()
        esp.join("HomeNet", password)
        link = esp.open_link("example.com", 80)
        esp.send(link, request_bytes)
        data = esp.receive(link, timeout=10)

Every wait ends: by the module's answer, or by the command's bound from the dialect table (overridable), with a
typed error. What the module's bytes mean (replies, unsolicited lines, links, late answers) is the Session's
(proto/session.py); this file owns the port, the deadlines and the pauses.
"""
from __future__ import annotations

import time
from contextlib import contextmanager
from operator import attrgetter
from typing import IO, TYPE_CHECKING, Dict, Iterator, List, Optional, Union

from .proto import commands, events as ev
from .proto.dialects import AT1, AT2, Dialect
from .errors import BusyError, CommandTimeout, DataLost, JoinError, LinkClosed, ModuleError
from .linkops import LinkOperations
from .proto.records import LinkInfo, Reply
from .proto.session import NEED_DATA, Session, damaged
from .transport import open_port

if TYPE_CHECKING:
    from serial import SerialBase

__all__ = ["EspAt", "ModuleError", "CommandTimeout", "BusyError", "JoinError", "LinkClosed", "DataLost",
           "Reply", "LinkInfo"]


def _of_session(name: str) -> property:
    """An attribute the session keeps, read and written through the client (`esp.links`, `esp.garbled`); read in
    the receive loops, so the getter is attrgetter's (no Python frame)."""
    return property(attrgetter(f"session.{name}"), lambda self, value: setattr(self.session, name, value),
                    doc=f"The session's `{name}` (proto/session.py).")


class EspAt(LinkOperations):
    """A module on a port. Not thread-safe: one caller at a time, as on the wire. Its links: linkops.py."""

    links = _of_session("links")
    mux = _of_session("mux")
    passive = _of_session("passive")
    wifi_connected = _of_session("wifi_connected")
    resets = _of_session("resets")
    garbled = _of_session("garbled")
    echoed = _of_session("echoed")
    foreign = _of_session("foreign")
    left_open = _of_session("left_open")
    busy_seen = _of_session("busy_seen")
    late_answers = _of_session("late_answers")
    line_answers = _of_session("line_answers")

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
        self.session = Session()                # what the module's bytes mean; the links
        self.firmware: Dict[str, str] = {}      # AT+GMR's lines, once sync() has read them
        self.last_byte_at = 0.0                 # when the port last gave bytes (monotonic)
        self.heard = 0                          # bytes read from the port so far
        self._dropped_at = 0.0                  # when data last came for a link that is closed or not ours
        self._reconciled = False
        self._op_end: Optional[float] = None    # the whole operation's deadline (monotonic), see operation()
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
            dropped = self.session.dropped
            self.session.receive_data(data)
            if self.session.dropped != dropped:
                self._dropped_at = time.monotonic()
            return True
        now = time.monotonic()
        if self.session.parser.payload_missing and now - self.last_byte_at >= self.QUIET:
            self._stalled()             # a module never pauses inside a payload: lost bytes, or a module stopped
        return now < deadline

    def _stalled(self) -> None:
        """Silence inside a payload. Either bytes of it were lost (the module went on and has nothing more to say)
        or the module stopped (froze, reset, lost power). AT tells them apart: a module that answers it lost the
        bytes (DataLost); one that stays silent within AT's bound is not answering (CommandTimeout)."""
        missing, heard = self.session.parser.payload_missing, self.heard
        self.port.write(commands.at().line)
        deadline = self._until(commands.at().timeout)
        while self.heard == heard and time.monotonic() < deadline:
            self._read()                # the answer falls into the broken payload: it is not parsed
        if self.heard == heard:
            self.session.owed += 1      # the AT's answer, should the module wake
            self.session.resync()
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

    def next_event(self, timeout: float) -> Optional[ev.Event]:
        """The next event that is not link data, or None after `timeout` seconds."""
        return self._wait(time.monotonic() + timeout)

    def _wait(self, deadline: float) -> Union[ev.Event, Reply, None]:
        """What the session has next (see Session.next_event), reading the port for it until `deadline`."""
        got = self.session.next_event()
        while got is NEED_DATA:
            # A link pouring data keeps the port busy without an event: the deadline still ends the wait, so a
            # reader sees its data (and a progress bar moves) while the rest is still coming.
            if not self._pump(deadline):
                return None
            got = self.session.next_event()
            if got is NEED_DATA and time.monotonic() >= deadline:
                return None
        return got

    @property
    def cleanup_bound(self) -> float:
        """Seconds a command sent while cleaning up after an interruption may take: short, so Ctrl-C is prompt."""
        return min(1.0, self.timeout) if self.timeout else 1.0

    @property
    def clean(self) -> bool:
        """No link this client opened is open, or may be: what to tell a user after an interruption."""
        return self.session.clean

    def _data_lost(self, missing: int) -> "DataLost":
        self.session.resync()           # the lines after the loss were being counted as payload: start afresh
        return DataLost(f"{missing} bytes of data the module announced never arrived: bytes were lost on the "
                        "serial line (noise, or a rate too fast for the adapter)")

    def confirm(self, link_id: int, quiet: float = 0.3) -> None:
        """Make sure the link's data so far was whole: wait until the bytes after its last block have arrived
        and were checked (the module sends them at once), or the line was quiet for `quiet` seconds (so nothing
        was taken from them); DataLost if the link's framing was broken."""
        link = self.links[link_id]
        start = time.monotonic()
        while self.session.parser.unconfirmed and not link.damaged:
            now = time.monotonic()
            if now - max(start, self.last_byte_at) >= quiet or now - start >= 10 * quiet:
                break
            self._pump(now + quiet)
        if link.damaged:
            raise damaged(link)

    def drain(self, quiet: float = 0.1, limit: Optional[float] = None) -> List[ev.Event]:
        """Read until the module has been silent for `quiet` seconds, or `limit` seconds have passed (a link
        pouring data never falls silent); returns what came."""
        got = []
        end = None if limit is None else time.monotonic() + limit
        while end is None or time.monotonic() < end:
            event = self.next_event(quiet if end is None else min(quiet, max(0.0, end - time.monotonic())))
            if event is None:
                break
            if not self.session.line_answer(event):
                got.append(event)
        return got

    def end_line(self) -> None:
        """Write a bare CR LF: it ends whatever line the module has half read (boot noise, a half-typed command). The
        module answers it, `ERROR` when idle (no AT head before the LF), `busy p...` while a command runs: that answer
        is owed, and is taken where it comes (drain, a command's wait), never as a command's or a late one."""
        self.port.write(self.session.end_line())

    def await_line(self, limit: float) -> None:
        """Read (and drop, as drain does) until no bare line end's answer is owed, or `limit` seconds passed (a line
        end taken as a send's payload is never answered)."""
        end = time.monotonic() + limit
        while self.session.owed_line and time.monotonic() < end:
            event = self.next_event(max(0.0, end - time.monotonic()))
            if event is not None:
                self.session.line_answer(event)

    # --- commands ---------------------------------------------------------------------------------------------------

    def command(self, cmd: commands.Command, timeout: Optional[float] = None) -> Reply:
        """Send one command and collect its reply; ModuleError, CommandTimeout or BusyError otherwise."""
        bound = timeout if timeout is not None else (self.timeout if self.timeout is not None else cmd.timeout)
        # Busy means the module is still on an earlier command (a connect takes up to 10 s): ask again within the
        # command's own bound, at least BUSY_RETRIES times.
        busy_until = self._until(bound)
        attempt = 0
        while True:
            try:
                self.port.write(self.session.send(cmd))
                reply = self._collect(cmd, bound)
            except CommandTimeout:
                self.session.gave_up()  # its answer may still come: it must not be taken for the next one's
                raise
            except BaseException:
                self.session.gave_up(owed=False)
                raise
            if not isinstance(reply.final, ev.Busy):
                return reply
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
        while True:
            reply = self._wait(deadline)
            if reply is not None:
                return reply            # with a command in flight the session hands out its Reply only
            if self._flushing(started):
                deadline = self._until(0.5)
                continue
            raise self._timeout(f"no answer to {cmd.name} within {bound:g} s")

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
        self.session.restart()                          # whatever was half read belongs to the old state
        self._reconciled = False
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
            self.session.owed = 0                       # late answers came in the drain, or never will
            try:
                self.command(commands.at(), timeout=bound)
            except (CommandTimeout, ModuleError, BusyError, DataLost):
                continue
            if not self.session.unpaired_lines:
                break
            # An OK ahead of the answer to the line end written before AT: the module answers in order, so it is
            # AT's only if the line end was swallowed. It may as well be the late answer to an earlier process's
            # command (given up on, owed by no one here), with the line end's and AT's own still to come, and the
            # next command would take those. In step only once an AT is answered after its line end.
            self.late_answers += 1
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

    # --- baud ----------------------------------------------------------------------------------------------------------

    def set_baud(self, rate: int, persist: bool = False) -> None:
        """UART_CUR at the old rate, reopen at the new one, check with AT; UART_DEF only when asked."""
        old = self.port.baudrate
        self.command(commands.uart(rate, self.dialect))
        time.sleep(0.05)                # OK came at the old rate; the module switches only once it is sent
        self.port.baudrate = rate
        self.end_line()                 # its ERROR is owed: never taken for AT's answer, however late
        self.drain(0.2)
        try:
            self.command(commands.at(), timeout=1.0)
        except (CommandTimeout, ModuleError) as exc:
            self.port.baudrate = old
            raise CommandTimeout(f"the module did not answer at {rate} baud: {exc}") from None
        if persist:
            self.command(commands.uart(rate, self.dialect, persist=True))
