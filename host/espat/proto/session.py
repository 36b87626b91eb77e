"""One module's AT exchange without I/O: commands out as bytes, the module's bytes in, replies and events out.

    session = Session()
    port.write(session.send(commands.at()))
    while (got := session.next_event()) is NEED_DATA:
        session.receive_data(port.read(64))
    # got is the command's Reply (or ModuleError/JoinError/LinkClosed was raised)

The caller owns the port, the clock and the waiting; the session owns what the bytes mean: which command is in
flight, which link is open, what each line does to them. The rules, in the order they apply:

| what arrives                        | with a command in flight                     | with none              |
|-------------------------------------|----------------------------------------------|------------------------|
| `+IPD` data                         | appended to its link's data (a link closing, closed or not ours: dropped,  |
|                                     | counted in `dropped`; not ours: its id noted for reconcile)                |
| `+IPD,<id>,<len>` notice            | the link's `waiting` set; the module is in passive mode                    |
| `<id>,CLOSED` / `CONNECT FAIL`      | the link marked closed, then as any other line                             |
| `WIFI ...`                          | `wifi_connected` kept; a disconnect closes every link                      |
| `ready`                             | every link closed, mux/passive/owed cleared; then as any other line        |
| noise, a line too long              | counted in `garbled`                                                       |
| framing lost after a payload        | counted in `garbled`; the link (or, unknown, every link) marked damaged    |
| `<id>,CONNECT`                      | nothing more                                                               |
| an echo of the command              | `echoed` noted, skipped                      | handed out             |
| ERROR/busy while a bare line end    | its answer: skipped, counted in              | handed out (2)         |
| (end_line) is owed its answer       | `line_answers` (busy in `busy_seen` too)     |                        |
| OK/ERROR/FAIL while answers are owed| a late answer: skipped, lines so far dropped | handed out (1)         |
| `busy p...`/`busy s...` first       | ends the command: Reply(final=Busy)          | handed out             |
| OK, SEND OK                         | ends the command (OK before a `>`: skipped)  | handed out             |
| `>` prompt                          | ends a prompting command (CIPSEND)           | handed out             |
| ERROR, FAIL, SEND FAIL              | refusal: ModuleError, JoinError, LinkClosed  | handed out             |
| `ready` (after its rule above)      | ModuleError (RST, RESTORE: kept in the reply)| handed out             |
| anything else                       | kept in the reply                            | handed out             |

Owed answers: a command the caller gave up on (`gave_up()`) may still be answered; the module answers in order,
so its final result is the next one to come, and it must not be taken for the next command's. (1) Events left
over when a command is sent are stale and dropped, the owed answers among them paid off. (2) line_answer()
takes it where the caller drains; a command's own answer clears what line ends are still owed (the module answers
in order: a line end that was eaten as payload is owed nothing); a reboot does not (it may be older than the line
end).
After a CIPSEND's prompt and its data (`send_data`), `Recv N bytes` is checked, `SEND OK` ends the send, and
SEND FAIL, ERROR or a reset are errors; other lines are dropped.
"""
from __future__ import annotations

from collections import deque
from typing import Callable, Deque, Dict, List, Optional, Set, Union

from . import commands, events as ev
from ..errors import DataLost, JoinError, LinkClosed, ModuleError
from .framing import SendChunk
from .parser import Parser
from .records import LinkInfo, Reply

__all__ = ["Session", "NEED_DATA"]


class _NeedData:
    """What next_event() returns when the bytes so far complete nothing: feed more with receive_data()."""
    __slots__ = ()

    def __repr__(self) -> str:
        return "NEED_DATA"


NEED_DATA = _NeedData()
_ANSWERS = (ev.Ok, ev.Error, ev.Fail)           # final results a command that was given up on may still send


class Session:
    """The state of one module as its bytes tell it. Not thread-safe; no I/O, no clock."""

    def __init__(self) -> None:
        self.parser = Parser()
        self._queue: Deque[ev.Event] = deque()
        self.links: Dict[int, LinkInfo] = {}
        self.mux = False
        self.passive = False
        self.wifi_connected: Optional[bool] = None
        self.resets = 0                         # `ready` lines seen
        self.garbled = 0                        # lines that were no AT line (noise, lost bytes, wrong rate)
        self.dropped = 0                        # data blocks dropped: their link is closing, closed or not ours
        self.echoed = False                     # the module repeated a command line (ATE1) at some point
        self.foreign: Set[int] = set()          # link ids the module holds that this client did not open
        self.left_open: Set[int] = set()        # links this client opened and could not close
        self.orphan_data: Set[int] = set()      # link ids not ours that data arrived for
        self.owed = 0                           # final results still to come for commands given up on
        self.busy_seen = 0                      # `busy` answers the module gave
        self.late_answers = 0                   # answers that came after their command was given up on
        self.owed_line = 0                      # answers still to come for bare line ends (end_line)
        self.line_answers = 0                   # answers the module gave to bare line ends
        self.unpaired_lines = 0                 # line ends still unanswered when the last command's answer came
        self._command: Optional[commands.Command] = None
        self._seen: List[ev.Event] = []
        self._sending: Optional[SendChunk] = None

    # --- bytes in and out -------------------------------------------------------------------------------------------

    def send(self, cmd: commands.Command) -> bytes:
        """Start `cmd`: what arrived since the last reply is stale and dropped; returns the bytes to write."""
        self._discard_stale()
        self._command, self._seen, self._sending = cmd, [], None
        return cmd.line

    def end_line(self) -> bytes:
        """A bare CR LF, to end whatever line the module has half read (boot noise, a half-typed command). The
        module answers it (`ERROR` when idle, `busy p...` while a command runs): that answer is owed to it, and
        taken where it comes (line_answer), never as a command's answer or a late one."""
        self.owed_line += 1
        return b"\r\n"

    def line_answer(self, event: ev.Event) -> bool:
        """True (and taken) when `event` is the answer a bare line end is owed."""
        if self.owed_line and isinstance(event, (ev.Error, ev.Busy)):
            self.owed_line -= 1
            self.line_answers += 1
            self.busy_seen += isinstance(event, ev.Busy)
            return True
        return False

    def send_data(self, chunk: SendChunk, link_id: int) -> bytes:
        """After the prompt of `chunk`'s CIPSEND: returns its bytes, counted as sent on the link (once the write
        starts, bytes may have left); next_event() then answers with SendOk or an error."""
        link = self.links.get(link_id)
        if link is not None:
            link.sent += len(chunk.data)
        self._sending = chunk
        return chunk.data

    def receive_data(self, data: bytes) -> None:
        """Bytes as the port gave them; unsolicited lines update the state at once."""
        for event in self.parser.receive_data(data):
            rule = _UNSOLICITED.get(type(event))
            if rule is None or not rule(self, event):
                self._queue.append(event)

    def next_event(self) -> Union[ev.Event, Reply, _NeedData]:
        """With a command in flight: its Reply once it ends (refusals raise); during a send: SendOk once it is
        confirmed; otherwise the next event nothing else took. NEED_DATA until there is one."""
        queue = self._queue
        while queue:
            event = queue.popleft()
            if self._command is not None:
                reply = self._answer(event)
                if reply is not None:
                    return reply
            elif self._sending is not None:
                if self._sent(event):
                    return event
            else:
                return event
        return NEED_DATA

    def gave_up(self, owed: bool = True) -> None:
        """The caller stopped waiting for the command in flight (or a send's SEND OK). After a timeout (`owed`)
        the command's answer may still come, so it is owed; after an error or an interruption it is not."""
        if owed and self._command is not None:
            self.owed += 1
        self._command = self._sending = None

    def resync(self) -> None:
        """Bytes were lost inside a payload: the parser counts lines as data, so reading starts afresh."""
        self.parser = Parser()

    def restart(self) -> None:
        """Getting in step with a module in an unknown state: nothing half read or owed counts any more."""
        self.parser = Parser()
        self._queue.clear()
        self.owed = 0
        self._command = self._sending = None

    # --- the link table ---------------------------------------------------------------------------------------------

    def add_link(self, link_id: int, host: str, port: int, kind: str = "TCP") -> LinkInfo:
        link = self.links[link_id] = LinkInfo(link_id, host, port, kind)
        return link

    def opened(self, link_id: int) -> None:
        """The module opened the link: garbled lines from now on make its data suspect."""
        self.links[link_id].garbled_before = self.garbled
        self.foreign.discard(link_id)

    @property
    def clean(self) -> bool:
        """No link this client opened is open, or may be."""
        return not self.left_open and not any(link.open for link in self.links.values())

    def free_id(self) -> Optional[int]:
        """The lowest id no link holds (ours open, foreign, or left open), None when all five are held."""
        busy = {i for i, link in self.links.items() if link.open} | self.foreign | self.left_open
        return next((i for i in range(5) if i not in busy), None)

    def listed(self, open_ids: Set[int]) -> None:
        """The module listed these links as open (AT+CIPSTATUS): a link of ours it did not list is closed (its
        `CLOSED` line was lost)."""
        for link in self.links.values():
            if link.open and link.id not in open_ids:
                link.open = False

    def reconciled(self, held: Set[int]) -> List[int]:
        """The module holds the links `held`: ours not among them are closed, the others are foreign. Returns the
        foreign ids that data came for, which no one will read."""
        self.listed(held)
        self.left_open &= held
        self.foreign = held - {i for i, link in self.links.items() if link.open}
        return sorted(self.foreign & self.orphan_data)

    def take(self, link_id: int) -> bytes:
        """The link's data received so far, handed over (the link keeps none of it)."""
        link = self.links[link_id]
        data = bytes(link.received)
        link.received.clear()
        return data

    def closing(self, link_id: int) -> Optional[LinkInfo]:
        """CIPCLOSE is about to go out: from now on the link's data is dropped as it comes."""
        link = self.links.get(link_id)
        if link is not None:
            link.closing = True
            link.received.clear()
            link.waiting = 0
        return link

    def verdict(self, link_id: int) -> Optional[DataLost]:
        """Whether the link's data so far can be trusted: None, or the DataLost that says why not (its framing
        broke, or lines that were no AT line came while it was open: a lost byte can hide anything)."""
        link = self.links[link_id]
        if link.damaged:
            return damaged(link)
        if self.garbled != link.garbled_before:
            return DataLost(f"{self.garbled - link.garbled_before} garbled lines came with the response on link "
                            f"{link_id}: bytes were lost on the serial line, from noise or a rate too fast for the "
                            "adapter; the body cannot be trusted")
        return None

    # --- the rules --------------------------------------------------------------------------------------------------

    def _discard_stale(self) -> None:
        while self._queue:
            event = self._queue.popleft()
            if not self.line_answer(event) and self.owed and isinstance(event, _ANSWERS):
                self.owed -= 1

    def _answer(self, event: ev.Event) -> Optional[Reply]:
        """One event with a command in flight: the Reply when it ends it, None while it goes on."""
        cmd, seen = self._command, self._seen
        if isinstance(event, ev.Echo):
            self.echoed = True
            return None
        if self.line_answer(event):
            return None
        if self.owed and isinstance(event, _ANSWERS):
            self.owed -= 1              # the late answer of a command given up on: the module answers in order
            self.late_answers += 1
            seen.clear()
            return None
        if isinstance(event, ev.Busy) and not seen:
            self.busy_seen += 1
            return self._end(event)
        if cmd.prompt:
            if isinstance(event, ev.Prompt):
                return self._end(event)
            if isinstance(event, ev.Ok):        # CIPSEND: OK comes before the prompt
                return None
        elif isinstance(event, (ev.Ok, ev.SendOk)):
            return self._end(event)
        if isinstance(event, (ev.Error, ev.Fail, ev.SendFail)):
            self._command = None
            raise _refusal(cmd, seen, event)
        if isinstance(event, ev.Ready) and cmd.name not in ("RST", "RESTORE"):
            self._command = None
            raise ModuleError(cmd.name, "the module reset while answering")
        seen.append(event)
        return None

    def _end(self, final: ev.Event) -> Reply:
        """The command's own answer came. The module answers in order: a bare line end written before it whose
        answer has not come by now was swallowed (a send's payload, passthrough) and is owed nothing. How many
        were is kept in `unpaired_lines`: for a module in an unknown state that is no proof (sync()), as the
        answer may be an earlier command's, one no one here owes, with the line end's and the command's own to
        come."""
        reply = Reply(self._seen, final)
        self.unpaired_lines = self.owed_line
        self._command, self._seen, self.owed_line = None, [], 0
        return reply

    def _sent(self, event: ev.Event) -> bool:
        """One event after a send's data: True when SEND OK confirms it; errors raise."""
        if isinstance(event, ev.Recv):
            chunk = self._sending
            if event.length != len(chunk.data):
                self._sending = None
            chunk.check_recv(event)     # RemoteProtocolError for a count that is not the send's
            return False
        if isinstance(event, ev.SendOk):
            self._sending = None
            return True                 # confirmed, even when the `Recv N bytes` before it was garbled away
        if isinstance(event, (ev.SendFail, ev.Error)):
            self._sending = None
            raise LinkClosed("send failed: the link broke")
        if isinstance(event, ev.Ready):
            self._sending = None
            raise ModuleError("CIPSEND", "the module reset while sending")
        return False

    def _on_data(self, event: ev.Ipd) -> bool:
        link_id = event.link_id if event.link_id is not None else 0
        link = self.links.get(link_id)
        if link is not None and link.open and not link.closing:
            link.received += event.data
            return True
        self.dropped += 1
        if link is None:
            self.orphan_data.add(link_id)       # an earlier process's download, still pouring in
        return True

    def _on_notice(self, event: ev.IpdNotice) -> bool:
        self.passive = True             # only passive mode sends notices: an earlier session may have set it
        link = self.links.get(event.link_id if event.link_id is not None else 0)
        if link is not None:
            link.waiting = event.length
        return True

    def _on_closed(self, event: Union[ev.Closed, ev.ConnectFail]) -> bool:
        link_id = event.link_id if event.link_id is not None else 0
        self.left_open.discard(link_id)
        link = self.links.get(link_id)
        if link is not None:
            link.open = False
        return False                    # CIPCLOSE and CIPSTART want to see it too

    def _on_wifi(self, event: ev.Wifi) -> bool:
        self.wifi_connected = event.state != "DISCONNECT"
        if not self.wifi_connected:
            for link in self.links.values():
                link.open = False
        return True

    def _on_ready(self, event: ev.Ready) -> bool:
        self.resets += 1
        self.mux = self.passive = False
        self.foreign.clear()
        self.owed = 0                   # (a line end's answer stays owed: this ready may be older than the line end)
        for link in self.links.values():
            link.open = False
        return False

    def _on_garbled(self, event: ev.Event) -> bool:
        self.garbled += 1
        return True

    def _on_framing_lost(self, event: ev.FramingLost) -> bool:
        self.garbled += 1
        hit = [self.links.get(event.link_id)] if event.link_id is not None else list(self.links.values())
        for link in hit:
            if link is not None:
                link.damaged = True
        return True

    def _on_connect(self, event: ev.Connect) -> bool:
        return True


# What each unsolicited event does to the state; True: fully handled, it goes no further.
_UNSOLICITED: Dict[type, Callable[[Session, ev.Event], bool]] = {
    ev.Ipd: Session._on_data, ev.IpdNotice: Session._on_notice,
    ev.Closed: Session._on_closed, ev.ConnectFail: Session._on_closed,
    ev.Wifi: Session._on_wifi, ev.Ready: Session._on_ready,
    ev.Noise: Session._on_garbled, ev.LineTooLong: Session._on_garbled, ev.FramingLost: Session._on_framing_lost,
    ev.Connect: Session._on_connect,
}


def damaged(link: LinkInfo) -> DataLost:
    return DataLost(f"data on link {link.id} was damaged on the serial line (what followed a block of it is "
                    "not what the module sends there): bytes were lost or changed, from noise or a rate too "
                    "fast for the adapter")


def _refusal(cmd: commands.Command, seen: List[ev.Event], final: ev.Event) -> Exception:
    if cmd.name == "CWJAP":
        failure = next((e for e in seen if isinstance(e, ev.JoinFailure)), None)
        reason = failure.reason if failure else "the module gave no reason"
        return JoinError(cmd.about, reason, failure.code if failure else None)
    if isinstance(final, ev.SendFail):
        return LinkClosed(f"send failed: the link broke ({cmd.name})")
    words = "; ".join(e.text for e in seen if isinstance(e, ev.Message))
    return ModuleError(cmd.name, words, getattr(final, "code", None))
