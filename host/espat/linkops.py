"""Links through a module: open (on a free id, taking back ids earlier processes left), send, receive, close.

A part of EspAt (client.py), kept apart so that each file holds one idea: these methods wait through the client's
commands, reads and deadlines, and keep the link table in its Session up to date.
"""
from __future__ import annotations

import time
from typing import Optional

from .proto import commands, events as ev
from .errors import EspAtError, LinkClosed, ModuleError, RemoteProtocolError
from .proto.framing import SendChunk, frame_send
from .proto.records import LinkInfo
from .proto.session import damaged

__all__ = ["LinkOperations"]


class LinkOperations:
    """The link methods of EspAt (which provides `command`, `session`, `port` and the deadlines)."""

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
        self.session.add_link(chosen, host, port, kind)
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
        self.session.opened(chosen)
        return chosen

    def reconcile(self) -> None:
        """Learn from the module which links are open (AT+CIPMUX?, AT+CIPSTATUS): a link an earlier process left
        open (killed, or a connect that timed out) keeps its id, and new links take free ones."""
        reply = self.command(commands.query_mux())
        self.mux = any(e.name == "CIPMUX" and e.value.strip() == "1" for e in reply.of(ev.Info))
        held = {e.link_id for e in self.command(commands.status()).of(ev.LinkStatus)}
        for orphan in self.session.reconciled(held):
            # Its data shares the wire with ours and no one will read it: close it (the port is ours alone).
            if self._close_id(orphan, commands.close(orphan).timeout):
                self.foreign.discard(orphan)
        self.session.orphan_data.clear()
        self._reconciled = True

    def _free_id(self) -> int:
        free = self.session.free_id()
        if free is not None:
            return free
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
            try:
                reply = self.command(chunk.command)
            except ModuleError as exc:
                if "link is not valid" not in exc.detail:
                    raise
                link.open = False       # closed before its CLOSED line came (or that line was lost)
                raise LinkClosed(f"link {link_id} is closed (the module says it is not valid)") from None
            if not isinstance(reply.final, ev.Prompt):
                raise RemoteProtocolError(f"expected the send prompt, got {reply.final}")
            self.port.write(self.session.send_data(chunk, link_id))   # counted as sent before the write
            self._finish_send(chunk)

    def _finish_send(self, chunk: SendChunk) -> None:
        """Wait for the session to see SEND OK (or an error) after a send's data."""
        deadline = self._until(chunk.command.timeout)
        try:
            if self._wait(deadline) is None:
                raise self._timeout(f"no SEND OK within {chunk.command.timeout:g} s")
        except BaseException:
            self.session.gave_up(owed=False)
            raise

    def receive(self, link_id: int, timeout: float, until_closed: bool = False) -> bytes:
        """Bytes that arrived on the link (waiting up to `timeout` for the first, or for the close)."""
        link = self.links[link_id]
        deadline = self._until(timeout)
        probed = time.monotonic()
        while True:
            if link.damaged:
                raise damaged(link)
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
            raise damaged(link)
        return self.session.take(link_id)

    def _probe_links(self) -> None:
        """Ask which links are open (AT+CIPSTATUS): a `CLOSED` line garbled on the serial line would otherwise
        leave a link looking open until the caller's bound ran out."""
        self.session.listed({e.link_id for e in self.command(commands.status()).of(ev.LinkStatus)})

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
        link = self.session.closing(link_id)     # from now on its data is dropped as it comes
        if link is not None and link.open:
            # While the module still owes an answer (a connect past its bound) it is busy: a CIPCLOSE now would be
            # dropped with `busy`, and an answer that never comes cannot be told from a late one. Leave it noted.
            if not self.session.owed and self._close_id(link_id, timeout):
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
