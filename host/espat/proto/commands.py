"""AT commands as exact bytes.

Every builder checks its arguments and returns a Command: the line with its CR LF, the bound a client should
wait for the final result, and the part of the line that must never be logged (a password).
Quoted arguments are escaped the way the firmware reads them: `\\` `"` `,` each get a backslash. CR, LF and NUL
cannot be expressed at all, so they are refused rather than sent.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Optional

from .dialects import AT1, TIMEOUTS, Dialect
from ..errors import LocalProtocolError
from .wiretext import redact

__all__ = [
    "Command", "escape", "MAX_SEND", "PASSTHROUGH_ESCAPE",
    "at", "echo", "reset", "restore", "version", "set_mode", "query_mode", "join", "query_join", "leave",
    "scan", "scan_options", "addresses", "station_ip", "mux", "query_mux", "start", "send", "send_passthrough",
    "close", "status", "server", "server_max_connections", "server_timeout", "recv_mode", "recv_data", "recv_len",
    "dinfo", "passthrough", "uart", "sysstore", "syslog", "ping", "raw",
]

MAX_SEND = 2048                 # the most bytes one AT+CIPSEND takes on an ESP8266 (both dialects)
PASSTHROUGH_ESCAPE = b"+++"     # leaves CIPMODE=1 data mode; needs silence before and after it
MAX_SSID = 32
MAX_PASSWORD = 64
MAX_HOST = 64
MAX_LINE = 256                  # AT 2.x refuses longer command lines; 1.x takes no more in practice


@dataclass(frozen=True, slots=True)
class Command:
    """One command line ready for the wire."""
    name: str
    line: bytes
    timeout: float
    secret: bytes = b""
    prompt: bool = False
    about: str = ""             # what a refusal names: the SSID of a join

    def redacted(self) -> bytes:
        """The line as it may appear in a log: the secret replaced by `***` (also in a join typed by hand)."""
        return self.line.replace(self.secret, b'"***"') if self.secret else redact(self.line)


def _timeout(name: str) -> float:
    return TIMEOUTS.get(name, TIMEOUTS["default"])


def _build(name: str, body: str, prompt: bool = False, secret: bytes = b"", about: str = "") -> Command:
    line = ("AT" + body + "\r\n").encode("utf-8")
    if len(line) > MAX_LINE:
        raise LocalProtocolError(f"AT command is {len(line)} bytes; the module takes at most {MAX_LINE}")
    return Command(name=name, line=line, timeout=_timeout(name), secret=secret, prompt=prompt, about=about)


def escape(text: str, what: str = "argument", limit: Optional[int] = None) -> str:
    """`text` as a quoted AT argument (quotes included); LocalProtocolError if it cannot be sent."""
    if not isinstance(text, str):
        raise LocalProtocolError(f"{what} must be text, not {type(text).__name__}")
    for bad, label in (("\r", "CR"), ("\n", "LF"), ("\0", "NUL")):
        if bad in text:
            raise LocalProtocolError(f"{what} contains {label}, which an AT command cannot carry")
    if limit is not None and len(text.encode("utf-8")) > limit:
        raise LocalProtocolError(f"{what} is {len(text.encode('utf-8'))} bytes; the module takes at most {limit}")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace(",", "\\,") + '"'


def _int(value: object, what: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise LocalProtocolError(f"{what} must be a whole number, not {value!r}")
    if not low <= value <= high:
        raise LocalProtocolError(f"{what} {value} is outside {low}-{high}")
    return value


def _link(link_id: Optional[int]) -> str:
    """`"<id>,"` for CIPMUX=1, `""` for CIPMUX=0 (link_id None)."""
    return "" if link_id is None else f"{_int(link_id, 'link id', 0, 4)},"


# --- basic ---------------------------------------------------------------------------------------------------------

def at() -> Command:
    return _build("AT", "")


def echo(on: bool) -> Command:
    return _build("ATE", "E1" if on else "E0")


def reset() -> Command:
    return _build("RST", "+RST")


def restore() -> Command:
    return _build("RESTORE", "+RESTORE")


def version() -> Command:
    return _build("GMR", "+GMR")


def raw(text: str) -> Command:
    """A line typed by a person: sent as it is, but still one line."""
    if any(c in text for c in "\r\n\0"):
        raise LocalProtocolError("an AT command is one line: no CR, LF or NUL inside it")
    body = text[2:] if text[:2].upper() == "AT" else None
    if body is None:
        raise LocalProtocolError(f"{text!r} is not an AT command (it must start with AT)")
    name = re.split(r"[=?]", body.lstrip("+"), maxsplit=1)[0].strip().upper() or "AT"
    return _build(name, body)


def sysstore(on: bool, dialect: Dialect) -> Command:
    if dialect.major < 2:
        raise LocalProtocolError("AT+SYSSTORE exists only in AT 2.x; 1.x uses _CUR/_DEF commands")
    return _build("SYSSTORE", f"+SYSSTORE={int(bool(on))}")


def syslog(on: bool, dialect: Dialect) -> Command:
    if dialect.major < 2:
        raise LocalProtocolError("AT+SYSLOG exists only in AT 2.x")
    return _build("SYSLOG", f"+SYSLOG={int(bool(on))}")


# --- Wi-Fi ---------------------------------------------------------------------------------------------------------

def set_mode(mode: int, dialect: Dialect = AT1, persist: bool = False) -> Command:
    _int(mode, "Wi-Fi mode", min(dialect.modes), max(dialect.modes))
    return _build("CWMODE", f"+{dialect.command_name('CWMODE', persist)}={mode}")


def query_mode(dialect: Dialect = AT1) -> Command:
    return _build("CWMODE", f"+{dialect.command_name('CWMODE')}?")


def join(ssid: str, password: str, dialect: Dialect = AT1, persist: bool = False) -> Command:
    quoted_ssid = escape(ssid, "SSID", MAX_SSID)
    if not ssid:
        raise LocalProtocolError("SSID is empty")
    quoted_password = escape(password, "password", MAX_PASSWORD)
    return _build("CWJAP", f"+{dialect.command_name('CWJAP', persist)}={quoted_ssid},{quoted_password}",
                  secret=quoted_password.encode("utf-8"), about=ssid)


def query_join(dialect: Dialect = AT1) -> Command:
    return _build("CWJAP", f"+{dialect.command_name('CWJAP')}?")


def leave() -> Command:
    return _build("CWQAP", "+CWQAP")


def scan() -> Command:
    return _build("CWLAP", "+CWLAP")


def scan_options(sort_by_rssi: bool = True, mask: int = 0x1F) -> Command:
    _int(mask, "CWLAPOPT mask", 0, 0x7FF)
    return _build("CWLAPOPT", f"+CWLAPOPT={int(bool(sort_by_rssi))},{mask}")


def addresses() -> Command:
    return _build("CIFSR", "+CIFSR")


def station_ip(dialect: Dialect = AT1) -> Command:
    return _build("CIPSTA", f"+{dialect.command_name('CIPSTA')}?")


# --- links -------------------------------------------------------------------------------------------------------

def mux(on: bool) -> Command:
    return _build("CIPMUX", f"+CIPMUX={int(bool(on))}")


def query_mux() -> Command:
    return _build("CIPMUX", "+CIPMUX?")


def start(link_id: Optional[int], kind: str, host: str, port: int, keepalive: Optional[int] = None,
          local_port: Optional[int] = None, udp_mode: Optional[int] = None) -> Command:
    """AT+CIPSTART: open a TCP, UDP or SSL link (`link_id` None with CIPMUX=0)."""
    kind = kind.upper() if isinstance(kind, str) else kind
    if kind not in ("TCP", "UDP", "SSL"):
        raise LocalProtocolError(f"link type must be TCP, UDP or SSL, not {kind!r}")
    if not host:
        raise LocalProtocolError("host is empty")
    body = f'+CIPSTART={_link(link_id)}"{kind}",{escape(host, "host", MAX_HOST)},{_int(port, "port", 1, 65535)}'
    if kind == "UDP":
        if keepalive is not None:
            raise LocalProtocolError("UDP links take no keepalive")
        if local_port is not None:
            body += f",{_int(local_port, 'local port', 1, 65535)}"
            if udp_mode is not None:
                body += f",{_int(udp_mode, 'UDP mode', 0, 2)}"
        elif udp_mode is not None:
            raise LocalProtocolError("a UDP mode needs a local port")
    else:
        if local_port is not None or udp_mode is not None:
            raise LocalProtocolError("a local port and UDP mode apply to UDP links only")
        if keepalive is not None:
            body += f",{_int(keepalive, 'keepalive', 0, 7200)}"
    return _build("CIPSTART", body)


def send(link_id: Optional[int], length: int) -> Command:
    """AT+CIPSEND=[<id>,]<len>: announces exactly `length` bytes, 1-2048."""
    return _build("CIPSEND", f"+CIPSEND={_link(link_id)}{_int(length, 'CIPSEND length', 1, MAX_SEND)}",
                  prompt=True)


def send_passthrough() -> Command:
    """AT+CIPSEND with no argument: enter CIPMODE=1 data mode."""
    return _build("CIPSEND", "+CIPSEND", prompt=True)


def close(link_id: Optional[int]) -> Command:
    """AT+CIPCLOSE; link id 5 closes every link."""
    if link_id is None:
        return _build("CIPCLOSE", "+CIPCLOSE")
    return _build("CIPCLOSE", f"+CIPCLOSE={_int(link_id, 'link id', 0, 5)}")


def status() -> Command:
    return _build("CIPSTATUS", "+CIPSTATUS")


def server(on: bool, port: int = 333) -> Command:
    if on:
        return _build("CIPSERVER", f"+CIPSERVER=1,{_int(port, 'port', 1, 65535)}")
    return _build("CIPSERVER", "+CIPSERVER=0")


def server_max_connections(count: int) -> Command:
    return _build("CIPSERVERMAXCONN", f"+CIPSERVERMAXCONN={_int(count, 'connection count', 1, 5)}")


def server_timeout(seconds: int) -> Command:
    return _build("CIPSTO", f"+CIPSTO={_int(seconds, 'server timeout', 0, 7200)}")


def recv_mode(passive: bool) -> Command:
    return _build("CIPRECVMODE", f"+CIPRECVMODE={int(bool(passive))}")


def recv_data(link_id: Optional[int], length: int) -> Command:
    return _build("CIPRECVDATA", f"+CIPRECVDATA={_link(link_id)}{_int(length, 'read length', 1, MAX_SEND)}")


def recv_len() -> Command:
    return _build("CIPRECVLEN", "+CIPRECVLEN?")


def dinfo(on: bool) -> Command:
    return _build("CIPDINFO", f"+CIPDINFO={int(bool(on))}")


def passthrough(on: bool) -> Command:
    return _build("CIPMODE", f"+CIPMODE={int(bool(on))}")


def ping(host: str) -> Command:
    return _build("PING", f"+PING={escape(host, 'host', MAX_HOST)}")


# --- UART ----------------------------------------------------------------------------------------------------------

BAUD_RANGE = (80, 4_500_000)


def uart(baud: int, dialect: Dialect = AT1, persist: bool = False, data_bits: int = 8, stop_bits: int = 1,
         parity: int = 0, flow: int = 0) -> Command:
    """AT+UART_CUR (or _DEF with persist): the module answers OK at the old rate, then switches."""
    _int(baud, "baud rate", *BAUD_RANGE)
    _int(data_bits, "data bits", 5, 8)
    _int(stop_bits, "stop bits", 1, 3)
    _int(parity, "parity", 0, 2)
    _int(flow, "flow control", 0, 3)
    return _build("UART", f"+{dialect.command_name('UART', persist)}={baud},{data_bits},{stop_bits},{parity},{flow}")
