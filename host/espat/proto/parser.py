"""The module's bytes to events, incrementally, whatever the chunking.

    parser = Parser()
    for event in parser.receive_data(chunk):
        ...

Rules (shared/reference/esp-at-protocol.md, sections 1, 4, 5 and 11):
- The stream is lines ending in LF (CR before it is dropped, `\\r\\r\\n` after an echo too); empty lines are
  skipped.
- Three things are not lines: the CIPSEND prompt `>` (1.x adds a space, 2.x does not; no CR LF), the payload of
  an active `+IPD,...:` and the payload of a `+CIPRECVDATA` reply. Both payloads are framed by their length and
  read raw: they may hold CR LF, `OK` or `+IPD` and are never scanned. What follows a payload starts a new line
  (`4,CLOSED` is glued straight onto the last payload byte).
- The length is the only framing, so a byte lost inside a payload makes the parser take the next frame's first
  byte as data and the totals still match. What may follow a payload is therefore checked: CR LF, or a whole line
  the module sends unprompted (`4,CLOSED`, `WIFI DISCONNECT`, ...). Anything else (`\n+IPD`, `,CLOSED`, binary)
  is `FramingLost` for that link, and the parser skips to the next LF or `+IPD,`. An `+IPD,` header that does
  not parse is `FramingLost` too: it only ever comes from damage.
- Unsolicited lines (`+IPD`, `N,CONNECT`, `N,CLOSED`, `WIFI ...`, `ready`) can arrive anywhere between the lines
  of a reply; the parser has no notion of "the command in flight" and reports each line as it comes.
- Nothing the module sends raises: bytes that are no AT line become `Noise`, a line past `max_line` becomes
  `LineTooLong` and is dropped up to its end, so memory stays bounded by `max_line` and `max_payload`.
"""
from __future__ import annotations

import re
from typing import List, Optional, Tuple

from . import events as ev

__all__ = ["Parser"]

_EXACT = {
    b"OK": ev.Ok(),
    b"FAIL": ev.Fail(),
    b"SEND OK": ev.SendOk(),
    b"SEND FAIL": ev.SendFail(),
    b"SEND Canceled": ev.SendCanceled(),
    b"busy p...": ev.Busy("p"),
    b"busy s...": ev.Busy("s"),
    b"ready": ev.Ready(),
    b"CONNECT": ev.Connect(None),
    b"CLOSED": ev.Closed(None),
    b"CONNECT FAIL": ev.ConnectFail(None),
    b"WIFI CONNECTED": ev.Wifi("CONNECTED"),
    b"WIFI GOT IP": ev.Wifi("GOT IP"),
    b"WIFI DISCONNECT": ev.Wifi("DISCONNECT"),
}
_LINK_EVENT = {b"CONNECT": ev.Connect, b"CLOSED": ev.Closed, b"CONNECT FAIL": ev.ConnectFail}

_IPD_HEAD = re.compile(rb'\+IPD,(\d{1,5})(?:,(\d{1,5}))?(?:,"?([0-9.]{7,15})"?,(\d{1,5}))?([:\r\n])')
_RECVDATA1 = re.compile(rb"\+CIPRECVDATA,(\d{1,5}):")
_RECVDATA2 = re.compile(rb"\+CIPRECVDATA:(\d{1,5}),")
_RECVDATA2_INFO = re.compile(rb'\+CIPRECVDATA:(\d{1,5}),"([0-9.]{7,15})",(\d{1,5}),')
_HEAD_MAX = 48                      # the longest payload header, with room to spare
_LINK_LINE = re.compile(rb"([0-4]),(CONNECT|CLOSED|CONNECT FAIL)")
_RECV_LINE = re.compile(rb"Recv (\d{1,5}) bytes")
_ERR_CODE = re.compile(rb"ERR CODE:0x([0-9a-fA-F]{8})")
_INFO_LINE = re.compile(rb"\+([A-Za-z_][A-Za-z0-9_]*):(.*)")
_VERSION_LINE = re.compile(rb"(AT version|SDK version|compile time|Bin version)[^:]*:(.*)")
_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"')
_PRINTABLE = re.compile(rb"[\x20-\x7e\t]*")
# Lines that carry an SSID, which may be any UTF-8 (an access point named "Café" is listed and joined like any other)
_SSID_LINE = re.compile(rb"\+(?:CWLAP|CWJAP(?:_CUR|_DEF)?|CWSAP(?:_CUR|_DEF)?):")

_IPD = b"+IPD,"
_Frame = Tuple[int, Optional[int], Optional[str], Optional[int]]   # length, link id, remote ip, port
_PROMPT = 0x3E  # ">"
_FOLLOW_MAX = 64                    # the longest line that may be glued onto a payload, with room to spare
_RESYNC = (b"\n", _IPD)              # where lines are known to start again after damage


class _PayloadReader:
    """The reader of one kind of length-framed block, read raw: its header (`prefix`, `match`), what the header's
    numbers mean (`frame`) and the event the bytes make (`event`). One object per kind, shared by every parser;
    the block being read is the parser's (`_reader`, `_frame`, `_need`)."""
    prefix = b""
    damage_shows = False        # a header of this kind that does not parse can only come from damage

    def match(self, head: bytes, remote_info: bool) -> "Optional[re.Match[bytes]]":
        raise NotImplementedError

    def frame(self, m: "re.Match[bytes]") -> Optional[_Frame]:
        """(length, link_id, ip, port) of the block the header announces; None for a header no module sends,
        _NOT_DATA for a line that only looks like a header."""
        raise NotImplementedError

    def event(self, data: bytes, link_id: Optional[int], ip: Optional[str], port: Optional[int]) -> ev.Event:
        raise NotImplementedError


class _IpdReader(_PayloadReader):
    """`+IPD,[<id>,]<len>[,<ip>,<port>]:<data>`, active receive mode. The same head ending in CR LF instead of `:`
    is the passive notice, an ordinary line."""
    prefix = b"+IPD,"
    damage_shows = True

    def match(self, head: bytes, remote_info: bool) -> "Optional[re.Match[bytes]]":
        return _IPD_HEAD.match(head)

    def frame(self, m: "re.Match[bytes]") -> Optional[_Frame]:
        a, b, ip, port, end = m.groups()
        if end != b":":
            return _NOT_DATA            # passive notice `+IPD,<id>,<len>`
        link_id, length = (None, int(a)) if b is None else (int(a), int(b))
        if (link_id is not None and link_id > 4) or length == 0:
            return None
        return length, link_id, ip.decode() if ip is not None else None, int(port) if ip is not None else None

    def event(self, data: bytes, link_id: Optional[int], ip: Optional[str], port: Optional[int]) -> ev.Event:
        return ev.Ipd(link_id, data, ip, port)


class _RecvDataReader(_PayloadReader):
    """The reply to AT+CIPRECVDATA: 1.x `+CIPRECVDATA,<len>:<data>`, 2.x `+CIPRECVDATA:<len>,<data>` (with
    CIPDINFO=1 `+CIPRECVDATA:<len>,"<ip>",<port>,<data>`)."""
    prefix = b"+CIPRECVDATA"

    def match(self, head: bytes, remote_info: bool) -> "Optional[re.Match[bytes]]":
        if remote_info and head[len(self.prefix):len(self.prefix) + 1] == b":":
            return _RECVDATA2_INFO.match(head)
        return _RECVDATA1.match(head) or _RECVDATA2.match(head)

    def frame(self, m: "re.Match[bytes]") -> Optional[_Frame]:
        if m.re is _RECVDATA2_INFO:
            return int(m.group(1)), None, m.group(2).decode(), int(m.group(3))
        return int(m.group(1)), None, None, None

    def event(self, data: bytes, link_id: Optional[int], ip: Optional[str], port: Optional[int]) -> ev.Event:
        return ev.RecvData(data, ip, port)


_NOT_DATA: _Frame = (0, None, None, None)      # a header-like line that announces no data
_READERS = (_IpdReader(), _RecvDataReader())


class Parser:
    """Incremental reader of what the module sends.

    `remote_info` must be True while the module runs with AT+CIPDINFO=1: only then does a 2.x `+CIPRECVDATA`
    reply put the remote address before its data, which cannot be told apart from data that starts alike.
    """

    def __init__(self, max_line: int = 512, max_payload: int = 8192, remote_info: bool = False) -> None:
        self.max_line = max_line
        self.max_payload = max_payload
        self.remote_info = remote_info
        self._buf = bytearray()
        self._scan = 0                  # bytes of the current line already known to hold no LF
        self._need = 0                  # > 0 while reading a length-framed block: its length
        self._reader: Optional[_PayloadReader] = None   # the block's reader, and its link and remote address
        self._frame: _Frame = _NOT_DATA
        self._after_prompt = False
        self._skipped: Optional[int] = None   # bytes of an overlong line dropped so far
        self._err_code: Optional[int] = None
        self._follow: Optional[tuple] = None  # (link_id,) of the payload whose following bytes are unchecked
        self._resync = False                  # after damage: skipping to where lines start again

    @property
    def pending(self) -> int:
        """Bytes held back waiting for the rest of a line or payload."""
        return len(self._buf)

    @property
    def payload_missing(self) -> int:
        """Bytes an `+IPD`/`+CIPRECVDATA` header announced that have not arrived yet (0 outside a payload).

        Non-zero after the module has gone quiet means bytes were lost on the serial line: the parser is counting
        the following lines as payload, and only a new Parser gets back in step.
        """
        return max(0, self._need - len(self._buf)) if self._need else 0

    @property
    def unconfirmed(self) -> bool:
        """True while the bytes after the last payload have not arrived, so whether it was whole is not known yet.

        A client that needs a body to be exactly right waits for this to clear (the module sends the next frame's
        CR LF or the link's `CLOSED` right after the data), or for the line to go quiet, which means no byte was
        taken from what follows.
        """
        return self._follow is not None

    def receive_data(self, data: bytes) -> List[ev.Event]:
        """Feed bytes as they arrived; returns the events they completed, oldest first."""
        buf = self._buf
        buf += data
        if self._need > len(buf):       # the common case in a long payload: nothing to do yet
            return []
        out: List[ev.Event] = []
        while buf:
            if self._need:
                if len(buf) < self._need:
                    break
                self._finish_payload(out)
                continue
            if self._follow is not None:
                verdict = self._check_follow()
                if verdict is None:     # too little to tell yet
                    break
                if not verdict:
                    out.append(ev.FramingLost(self._follow[0]))
                    self._resync = True
                self._follow = None
                continue
            if self._resync:
                if not self._skip_to_line_start():
                    break
                continue
            if self._skipped is not None:
                end = buf.find(b"\n")
                if end < 0:
                    self._skipped += len(buf)
                    buf.clear()
                    break
                out.append(ev.LineTooLong(self._skipped + end + 1))
                del buf[:end + 1]
                self._skipped = None
                continue
            if self._after_prompt:
                self._after_prompt = False
                if buf[0] == 0x20:      # the space of the 1.x prompt "> "
                    del buf[0]
                    continue
            if self._scan == 0:
                first = buf[0]
                if first == _PROMPT:
                    del buf[0]
                    self._after_prompt = True
                    out.append(ev.Prompt())
                    continue
                if first == 0x2B:       # "+": maybe a payload header, which ends without LF
                    state = self._payload_head(out)
                    if state is None:   # too little to tell yet
                        break
                    if state:
                        continue
            end = buf.find(b"\n", self._scan)
            if end < 0:
                if len(buf) > self.max_line:
                    self._skipped = len(buf)
                    buf.clear()
                    self._scan = 0
                    continue
                self._scan = len(buf)
                break
            line = bytes(buf[:end])
            del buf[:end + 1]
            self._scan = 0
            if end > self.max_line:
                out.append(ev.LineTooLong(end + 1))
                continue
            event = self._line(line.rstrip(b"\r"))
            if event is not None:
                out.append(event)
        return out

    # --- payloads ---------------------------------------------------------------------------------------------

    def _payload_head(self, out: List[ev.Event]) -> Optional[bool]:
        """At a line starting with "+": start a payload if one is announced there.

        Returns None to wait for more bytes, True when a payload read began, False for an ordinary line.
        """
        head = bytes(self._buf[:_HEAD_MAX])
        for reader in _READERS:
            prefix = reader.prefix
            if len(head) < len(prefix):
                if prefix.startswith(head):
                    return None
                continue
            if not head.startswith(prefix):
                continue
            m = reader.match(head, self.remote_info)
            if m is None:
                # Not complete yet, unless a line end or the header bound says it never will be.
                if len(head) >= _HEAD_MAX or b"\n" in head:
                    return self._damaged_header(out) if reader.damage_shows else False
                return None
            frame = reader.frame(m)
            if frame is _NOT_DATA:
                return False
            if frame is None or frame[0] > self.max_payload:    # no module sends it: damage, or an ordinary line
                return self._damaged_header(out) if reader.damage_shows else False
            del self._buf[:m.end()]
            if frame[0] == 0:           # an empty CIPRECVDATA read: nothing to wait for
                out.append(reader.event(b"", *frame[1:]))
                return True
            self._need, self._reader, self._frame = frame[0], reader, frame
            return True
        return False

    def _damaged_header(self, out: List[ev.Event]) -> bool:
        """An `+IPD,` that is neither a data header nor a passive notice: a link lost data, which one is unknown."""
        del self._buf[0]
        out.append(ev.FramingLost(None))
        self._resync = True
        return True

    def _skip_to_line_start(self) -> bool:
        """Drop bytes up to the next LF or `+IPD,`; False when more bytes are needed to find one."""
        buf = self._buf
        found = [i for i in (buf.find(mark) for mark in _RESYNC) if i >= 0]
        if found:
            del buf[:min(found)]
            self._resync = False
            self._scan = 0
            return True
        keep = len(_IPD) - 1            # the start of a mark may be at the very end
        if len(buf) > keep:
            del buf[:len(buf) - keep]
        return False

    def _check_follow(self) -> Optional[bool]:
        """Whether the bytes after a payload are what the module sends there; None until enough have come."""
        buf = self._buf
        if buf[:2] == b"\r\n":
            return True
        end = buf.find(b"\n", 0, _FOLLOW_MAX)
        if end < 0:
            head = bytes(buf[:_FOLLOW_MAX])
            if len(head) >= _FOLLOW_MAX or not _PRINTABLE.fullmatch(head.rstrip(b"\r")):
                return False
            return None if b"\r" not in head[:-1] else False
        line = bytes(buf[:end])
        if not line.endswith(b"\r"):
            return False
        return _glued_line_ok(line[:-1], self._follow[0])

    def _finish_payload(self, out: List[ev.Event]) -> None:
        need, link_id, ip, port = self._frame
        data = bytes(self._buf[:need])
        del self._buf[:need]
        self._need = 0
        self._follow = (link_id,)
        out.append(self._reader.event(data, link_id, ip, port))

    # --- lines ----------------------------------------------------------------------------------------------------

    def _line(self, line: bytes) -> Optional[ev.Event]:
        if not line:
            return None
        exact = _EXACT.get(line)
        if exact is not None:
            return exact
        if line == b"ERROR":
            code, self._err_code = self._err_code, None
            return ev.Error(code)
        if not _PRINTABLE.fullmatch(line) and not _utf8_ssid_line(line):
            return ev.Noise(line)
        m = _LINK_LINE.fullmatch(line)
        if m:
            return _LINK_EVENT[m.group(2)](int(m.group(1)))
        m = _RECV_LINE.fullmatch(line)
        if m:
            return ev.Recv(int(m.group(1)))
        m = _ERR_CODE.fullmatch(line)
        if m:
            self._err_code = int(m.group(1), 16)
            return None
        m = _VERSION_LINE.match(line)
        if m:
            return ev.Version(m.group(1).decode(), m.group(2).decode().strip())
        if line[:2] in (b"AT", b"at"):
            return ev.Echo(line)
        text = line.decode("utf-8")
        if line[:1] == b"+":
            return _info(text)
        if text.startswith("STATUS:") and text[7:].isdigit():
            return ev.Status(int(text[7:]))
        return ev.Message(text)


def _utf8_ssid_line(line: bytes) -> bool:
    if not _SSID_LINE.match(line):
        return False
    try:
        return line.decode("utf-8").isprintable()
    except UnicodeDecodeError:
        return False


def _glued_line_ok(line: bytes, link_id: Optional[int]) -> bool:
    """A line right after a payload must be one the module really sends: a final result, a status or unsolicited
    line, an echo, a `+NAME:` answer. A link line must have the payload's form (`4,CLOSED` after an `+IPD,4,...`,
    `CLOSED` with CIPMUX=0); text that is no AT line, or a data header without its CR LF, means bytes went missing."""
    if line.startswith((b"+IPD", b"+CIPRECVDATA")) or not _PRINTABLE.fullmatch(line):
        return False
    exact = _EXACT.get(line)
    if exact is not None:
        if isinstance(exact, (ev.Connect, ev.Closed, ev.ConnectFail)):
            return link_id is None
        return True
    if _LINK_LINE.fullmatch(line):
        return link_id is not None
    if line == b"ERROR" or line[:2] == b"AT":
        return True
    if any(r.fullmatch(line) for r in (_RECV_LINE, _ERR_CODE)) or _VERSION_LINE.match(line):
        return True
    text = line.decode("ascii")
    if text.startswith("STATUS:") and text[7:].isdigit():
        return True
    return _INFO_LINE.fullmatch(line) is not None


def _unquote(text: str) -> str:
    return re.sub(r"\\(.)", r"\1", text)


def _int_or_none(text: str) -> Optional[int]:
    try:
        value = int(text)
    except ValueError:
        return None
    return None if value < 0 else value


def _join_info(value: str) -> ev.Event:
    if value.isdigit():
        return ev.JoinFailure(int(value))
    quoted = _QUOTED.findall(value)
    rest = _QUOTED.sub("", value).strip(",").split(",")
    return ev.ApInfo(_unquote(quoted[0]), quoted[1], int(rest[0]), int(rest[1]))


def _scan_info(value: str) -> Optional[ev.Event]:
    return _ap_entry(value[1:-1]) if value.startswith("(") and value.endswith(")") else None


def _address(separator: str):
    def decode(value: str) -> ev.Event:
        kind, _, addr = value.partition(separator)
        return ev.Address(kind, addr.strip('"'))
    return decode


def _link_status(value: str) -> ev.Event:
    f = value.split(",")
    return ev.LinkStatus(int(f[0]), f[1].strip('"'), f[2].strip('"'), int(f[3]), int(f[4]), f[5] == "1")


def _recv_len(value: str) -> ev.Event:
    return ev.RecvLen(tuple(_int_or_none(p) for p in value.split(",")))


# `+NAME:value` lines with a typed event, by NAME; a decoder returns None (or fails) for a value of another shape.
_INFO_DECODERS = {
    "CWJAP": _join_info, "CWJAP_CUR": _join_info, "CWJAP_DEF": _join_info,
    "CWLAP": _scan_info,
    "CIFSR": _address(","),
    "CIPSTA": _address(":"), "CIPSTA_CUR": _address(":"), "CIPSTA_DEF": _address(":"),
    "CIPSTATUS": _link_status,
    "CIPRECVLEN": _recv_len,
}


def _info(text: str) -> ev.Event:
    """A `+NAME:value` line to its typed event; `Info` when the value is not in the expected shape."""
    name, _, value = text[1:].partition(":")
    try:
        if name.startswith("IPD,"):                         # passive notice `+IPD,<id>,<len>`
            parts = [int(p) for p in name[4:].split(",")]
            return ev.IpdNotice(*(parts if len(parts) == 2 else [None, parts[0]]))
        decoder = _INFO_DECODERS.get(name)
        event = decoder(value) if decoder is not None else None
    except (ValueError, IndexError, TypeError, AttributeError):
        event = None
    return event if event is not None else ev.Info(name, value)


def _ap_entry(fields_text: str) -> ev.ApEntry:
    fields, i, n = [], 0, len(fields_text)
    while i <= n:
        if i < n and fields_text[i] == '"':
            m = _QUOTED.match(fields_text, i)
            fields.append(_unquote(m.group(1)))
            i = m.end() + 1
        else:
            j = fields_text.find(",", i)
            j = n if j < 0 else j
            fields.append(fields_text[i:j])
            i = j + 1
    ecn = int(fields[0]) if fields and fields[0].lstrip("-").isdigit() else None
    ssid = fields[1] if len(fields) > 1 else None
    rssi = int(fields[2]) if len(fields) > 2 else None
    mac = fields[3] if len(fields) > 3 else None
    channel = int(fields[4]) if len(fields) > 4 else None
    return ev.ApEntry(ecn, ssid, rssi, mac, channel)
