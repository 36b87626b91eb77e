"""What the module says, as small immutable values.

The parser turns the module's bytes into these; nothing else in espat looks at raw reply bytes.
Each event is a frozen dataclass with slots, checked when built, so a bad one cannot exist.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional, Tuple

__all__ = [
    "Event", "FinalResult", "Ok", "Error", "Fail", "SendOk", "SendFail", "SendCanceled", "Busy", "Prompt",
    "Recv", "Ipd", "IpdNotice", "RecvData", "Connect", "Closed", "ConnectFail", "Wifi", "Ready", "Echo",
    "Message", "Info", "JoinFailure", "ApInfo", "ApEntry", "Address", "LinkStatus", "Status", "RecvLen",
    "Version", "Noise", "LineTooLong", "FramingLost",
]


def _check_link(link_id: Optional[int]) -> None:
    if link_id is not None and not 0 <= link_id <= 4:
        raise ValueError(f"link id {link_id} is outside 0-4")


@dataclass(frozen=True, slots=True)
class Event:
    """Base of every event."""


# --- final results: they end the command in flight -------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class FinalResult(Event):
    """A line that ends the command in flight."""


@dataclass(frozen=True, slots=True)
class Ok(FinalResult):
    """`OK`."""


@dataclass(frozen=True, slots=True)
class Error(FinalResult):
    """`ERROR`; `code` is the 2.x `ERR CODE:0x...` value that came just before it, if any."""
    code: Optional[int] = None


@dataclass(frozen=True, slots=True)
class Fail(FinalResult):
    """`FAIL` (1.x ends a failed join with it)."""


@dataclass(frozen=True, slots=True)
class SendOk(FinalResult):
    """`SEND OK`: the payload was handed to the module's TCP stack."""


@dataclass(frozen=True, slots=True)
class SendFail(FinalResult):
    """`SEND FAIL`: the link broke while sending."""


@dataclass(frozen=True, slots=True)
class SendCanceled(FinalResult):
    """`SEND Canceled`: `+++` during data entry."""


# --- progress and status lines ---------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Busy(Event):
    """`busy p...` (a command is still running) or `busy s...` (1.x: a send is still running)."""
    kind: str

    def __post_init__(self) -> None:
        if self.kind not in ("p", "s"):
            raise ValueError(f"busy kind must be 'p' or 's', not {self.kind!r}")


@dataclass(frozen=True, slots=True)
class Prompt(Event):
    """The `>` of CIPSEND: the module now takes exactly the announced number of raw bytes."""


@dataclass(frozen=True, slots=True)
class Recv(Event):
    """`Recv N bytes`: how many payload bytes the module counted."""
    length: int


@dataclass(frozen=True, slots=True)
class Ipd(Event):
    """Data that arrived on a link (`+IPD,...:<data>`, active receive mode).

    `link_id` is None when CIPMUX=0; `remote_ip`/`remote_port` are set only with CIPDINFO=1.
    """
    link_id: Optional[int]
    data: bytes
    remote_ip: Optional[str] = None
    remote_port: Optional[int] = None

    def __post_init__(self) -> None:
        _check_link(self.link_id)


@dataclass(frozen=True, slots=True)
class IpdNotice(Event):
    """Passive receive mode: `length` bytes wait in the module for link `link_id` (`+IPD,<id>,<len>`)."""
    link_id: Optional[int]
    length: int

    def __post_init__(self) -> None:
        _check_link(self.link_id)


@dataclass(frozen=True, slots=True)
class RecvData(Event):
    """The bytes an AT+CIPRECVDATA read returned."""
    data: bytes
    remote_ip: Optional[str] = None
    remote_port: Optional[int] = None


@dataclass(frozen=True, slots=True)
class Connect(Event):
    """`<id>,CONNECT` (or `CONNECT` with CIPMUX=0): a link opened."""
    link_id: Optional[int]

    def __post_init__(self) -> None:
        _check_link(self.link_id)


@dataclass(frozen=True, slots=True)
class Closed(Event):
    """`<id>,CLOSED` (or `CLOSED`): a link closed, by either side."""
    link_id: Optional[int]

    def __post_init__(self) -> None:
        _check_link(self.link_id)


@dataclass(frozen=True, slots=True)
class ConnectFail(Event):
    """`<id>,CONNECT FAIL`: an open failed."""
    link_id: Optional[int]

    def __post_init__(self) -> None:
        _check_link(self.link_id)


@dataclass(frozen=True, slots=True)
class Wifi(Event):
    """`WIFI CONNECTED`, `WIFI GOT IP` or `WIFI DISCONNECT`; `state` is the text after `WIFI `."""
    state: str


@dataclass(frozen=True, slots=True)
class Ready(Event):
    """`ready`: the module (re)booted; echo is on again and CIPMUX/CIPMODE/CIPRECVMODE are back to 0."""


@dataclass(frozen=True, slots=True)
class Echo(Event):
    """The module repeating a command line back (ATE1)."""
    line: bytes


@dataclass(frozen=True, slots=True)
class Message(Event):
    """A plain status line that is not a final result: `DNS Fail`, `link is not valid`, `No AP`, `UNLINK`, ..."""
    text: str


# --- typed information lines -----------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Info(Event):
    """Any `+NAME:value` line without a more specific type (`+CWMODE_CUR:1`, `+UART_CUR:9600,8,1,0,0`, ...)."""
    name: str
    value: str


@dataclass(frozen=True, slots=True)
class JoinFailure(Event):
    """`+CWJAP:<code>` before FAIL/ERROR: 1 timeout, 2 wrong password, 3 AP not found, 4 connect failed."""
    code: int

    REASONS = {1: "connection timeout", 2: "wrong password", 3: "access point not found", 4: "connection failed"}

    @property
    def reason(self) -> str:
        return self.REASONS.get(self.code, f"join failed (code {self.code})")


@dataclass(frozen=True, slots=True)
class ApInfo(Event):
    """The AP the station is joined to (`+CWJAP_CUR:"ssid","bssid",channel,rssi` and 2.x's longer form)."""
    ssid: str
    bssid: str
    channel: int
    rssi: int


@dataclass(frozen=True, slots=True)
class ApEntry(Event):
    """One `+CWLAP:(...)` line; fields the module left out are None."""
    ecn: Optional[int]
    ssid: Optional[str]
    rssi: Optional[int]
    mac: Optional[str] = None
    channel: Optional[int] = None


@dataclass(frozen=True, slots=True)
class Address(Event):
    """One `+CIFSR:<kind>,"<value>"` line (kind STAIP, STAMAC, APIP, APMAC) or `+CIPSTA:<kind>:"<value>"`."""
    kind: str
    value: str


@dataclass(frozen=True, slots=True)
class Status(Event):
    """`STATUS:<n>` of AT+CIPSTATUS."""
    code: int


@dataclass(frozen=True, slots=True)
class LinkStatus(Event):
    """One `+CIPSTATUS:<id>,"<type>","<ip>",<rport>,<lport>,<tetype>` line."""
    link_id: int
    kind: str
    remote_ip: str
    remote_port: int
    local_port: int
    server: bool

    def __post_init__(self) -> None:
        _check_link(self.link_id)


@dataclass(frozen=True, slots=True)
class RecvLen(Event):
    """`+CIPRECVLEN:a,b,c,d,e`: bytes waiting per link; None where the module says -1 (link not open, 2.x)."""
    lengths: Tuple[Optional[int], ...]


@dataclass(frozen=True, slots=True)
class Version(Event):
    """One AT+GMR line: `key` is `AT version`, `SDK version`, `compile time` or `Bin version`."""
    key: str
    value: str

    @property
    def major(self) -> Optional[int]:
        """The AT firmware's major version, from an `AT version` line."""
        if self.key != "AT version":
            return None
        head = self.value.split("(", 1)[0].strip()
        try:
            return int(head.split(".", 1)[0])
        except ValueError:
            return None


# --- trouble on the wire ---------------------------------------------------------------------------------------

@dataclass(frozen=True, slots=True)
class Noise(Event):
    """Bytes that are no AT line: boot output at 74880 baud, a wrong baud rate, line noise, an unknown line."""
    data: bytes


@dataclass(frozen=True, slots=True)
class LineTooLong(Event):
    """A line ran past the parser's bound; `length` bytes were dropped up to its end."""
    length: int


@dataclass(frozen=True, slots=True)
class FramingLost(Event):
    """What came after a payload (or an `+IPD` header itself) is not what the module sends there: bytes were lost
    or changed in transit, so the data delivered last for `link_id` cannot be trusted (None: the link is not
    known, as when the header was the damaged part). The parser has skipped to where lines start again."""
    link_id: Optional[int]

    def __post_init__(self) -> None:
        _check_link(self.link_id)
