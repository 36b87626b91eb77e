"""The -v wire trace: a wrapper around a port (in the spirit of pyserial's spy://), not a flag in the client.

Each line shows when, which way, and the bytes (control bytes escaped, a join's password as ***). Lines from the
module are cut where the protocol core says a message ends, and annotated with what it made of them, so a person
reads `SEND OK` as "handed to TCP" and `+IPD,0,157:...` as "157 bytes for link 0". The trace runs its own Parser:
it never takes bytes from, or changes, what the client reads.
"""
from __future__ import annotations

import re
import sys
import time
from typing import IO, TYPE_CHECKING, List

if TYPE_CHECKING:
    from serial import SerialBase

from .proto import events as ev
from .proto.parser import Parser
from .proto.wiretext import escape_bytes, redact

__all__ = ["TracedPort", "describe"]

_MESSAGE_END = re.compile(rb"\n|> ?|:")
SHOW_PAYLOAD = 600      # payload bytes shown per message; a 200 KB download stays a readable trace


def describe(event: ev.Event) -> str:
    """A few words on what the module meant."""
    link = f"link {event.link_id}" if getattr(event, "link_id", None) is not None else "the link"
    if isinstance(event, ev.Ipd):
        return f"{len(event.data)} bytes of data for {link}"
    if isinstance(event, ev.RecvData):
        return f"{len(event.data)} bytes read from the module's buffer"
    if isinstance(event, ev.IpdNotice):
        return f"{event.length} bytes wait in the module for {link}"
    if isinstance(event, ev.Recv):
        return f"the module counted {event.length} bytes"
    if isinstance(event, ev.Error):
        return "ERROR" + (f" 0x{event.code:08x}" if event.code is not None else "")
    if isinstance(event, ev.JoinFailure):
        return f"join failed: {event.reason}"
    words = {ev.Ok: "OK", ev.Echo: "echo of the command", ev.Prompt: "prompt: the payload goes now",
             ev.SendOk: "handed to TCP", ev.SendFail: "the link broke while sending", ev.Ready: "the module (re)booted",
             ev.Fail: "FAIL", ev.Connect: f"{link} open", ev.Closed: f"{link} closed",
             ev.ConnectFail: f"{link} failed to open", ev.Noise: "noise: not an AT line (wrong rate? boot output?)",
             ev.LineTooLong: "an overlong line, dropped"}
    for kind, text in words.items():
        if isinstance(event, kind):
            return text
    if isinstance(event, ev.Wifi):
        return {"CONNECTED": "joined the access point", "GOT IP": "got an address (DHCP)",
                "DISCONNECT": "Wi-Fi lost"}.get(event.state, f"Wi-Fi {event.state}")
    if isinstance(event, ev.Busy):
        return "busy: the module is still working on something"
    return ""


class TracedPort:
    """Wraps a port; writes every byte each way to `out`."""

    def __init__(self, port: SerialBase, out: IO[str] = sys.stderr) -> None:
        self._port = port
        self._out = out
        self._start = time.monotonic()
        self._parser = Parser(max_payload=1 << 20)
        self._incoming = bytearray()        # bytes read since the last line shown

    def __getattr__(self, name):
        return getattr(self._port, name)

    @property
    def in_waiting(self) -> int:
        return self._port.in_waiting

    def _show(self, arrow: str, data: bytes, notes: List[str] = ()) -> None:
        if len(data) > SHOW_PAYLOAD:
            text = escape_bytes(redact(data[:SHOW_PAYLOAD])) + f"... ({len(data) - SHOW_PAYLOAD} more bytes)"
        else:
            text = escape_bytes(redact(data))
        note = "; ".join(n for n in notes if n)
        self._out.write(f"[{time.monotonic() - self._start:9.3f}] {arrow} {text}" + (f"   # {note}" if note else "")
                        + "\n")
        self._out.flush()

    def write(self, data: bytes) -> int:
        self._show_incoming()
        self._show("->", bytes(data))
        return self._port.write(data)

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        # Fed in pieces that end where a message can end (a line end, the prompt, an +IPD header, the payload's
        # last byte), so each message gets its own trace line; the parser does not mind the cuts.
        start = 0
        while start < len(data):
            missing = self._parser.payload_missing
            if missing:
                end = min(len(data), start + missing)
            else:
                found = _MESSAGE_END.search(data, start)
                end = found.end() if found else len(data)
            self._incoming += data[start:end]
            events = self._parser.receive_data(data[start:end])
            if events:
                self._show_incoming(notes=[describe(e) for e in events])
            start = end
        if not data:
            self._show_incoming()
        return data

    def _show_incoming(self, notes: List[str] = (), everything: bool = False) -> None:
        """Show the bytes the parser is done with (a half-received line waits, so a password in an echoed join
        line is never cut in two and missed by the redaction); `everything` on close."""
        done = len(self._incoming) - (0 if everything else self._parser.pending)
        if not (notes or everything) and (self._parser.payload_missing or not self._incoming[:done].strip(b"\r\n")):
            return          # a payload is shown whole, and a bare CR LF with the message it opens
        if done > 0:
            self._show("<-", bytes(self._incoming[:done]), list(notes))
            del self._incoming[:done]

    def close(self) -> None:
        self._show_incoming(everything=True)
        self._port.close()

    @property
    def baudrate(self) -> int:
        return self._port.baudrate

    @baudrate.setter
    def baudrate(self, value: int) -> None:
        self._out.write(f"[{time.monotonic() - self._start:9.3f}] -- port now at {value} baud\n")
        self._port.baudrate = value
