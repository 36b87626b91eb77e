"""Whose fault it was, and what a program should do about it.

LocalProtocolError: you asked the core to build a frame the module cannot take (a link id of 7, a CR in an SSID).
RemoteProtocolError: the module sent something the protocol does not allow (a `Recv 5 bytes` after 6 were sent).
ModuleError: the module understood and said no (ERROR, FAIL); CommandTimeout: it did not answer in time.
DataDamaged (DataLost, IntegrityError, BodyTruncated, MalformedResponse): bytes were lost or changed between the
server and here, so whatever was received is not to be used. DeliveryUnknown: a request went out and whether it
arrived is not known. PortBusy: another process holds the port.

Every error derives from EspAtError and carries `exit_status`, the `espat` command's exit status when it ends
that command: 1 the module or server said no, 2 a usage error, 3 no answer, 4 a request that may have been
delivered, 5 data damaged in transit. A class without its own takes its first base's (in method order).
"""
from __future__ import annotations

from typing import Optional

__all__ = ["EspAtError", "LocalProtocolError", "RemoteProtocolError", "ModuleError", "JoinError",
           "CommandTimeout", "BusyError", "LinkClosed", "DataDamaged", "DataLost", "IntegrityError",
           "BodyTruncated", "MalformedResponse", "HttpError", "DeliveryUnknown", "PortError", "PortBusy"]


class EspAtError(Exception):
    """Base of every error espat raises on purpose."""

    exit_status = 1


class LocalProtocolError(EspAtError, ValueError):
    """The caller asked for something the AT protocol cannot express."""

    exit_status = 2   # the caller's mistake: a usage error


class RemoteProtocolError(EspAtError):
    """The module's bytes break the protocol."""

    exit_status = 5   # the module's bytes broke the protocol: something was lost or changed


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


class JoinError(ModuleError):
    """Joining the access point failed; `reason` is the module's (wrong password, AP not found, ...)."""

    def __init__(self, ssid: str, reason: str, code: Optional[int]) -> None:
        # a join typed by hand (`espat at 'AT+CWJAP=...'`) has no SSID apart from its line
        EspAtError.__init__(self, f"cannot join {ssid!r}: {reason}" if ssid else f"cannot join: {reason}")
        self.command, self.detail, self.code, self.reason = "CWJAP", reason, code, reason


class CommandTimeout(EspAtError):
    """No final answer within the bound (a command's own, or the whole operation's)."""

    exit_status = 3


class BusyError(EspAtError):
    """The module kept answering `busy` past the retry bound."""

    exit_status = 3   # no answer but busy: as good as none


class LinkClosed(EspAtError):
    """The link closed (peer, module or Wi-Fi) before the operation finished."""


class DataDamaged(EspAtError):
    """Bytes were lost or changed in transit: what was received must not be used."""

    exit_status = 5


class DataLost(DataDamaged, RemoteProtocolError):
    """The module's framing shows bytes went missing on the serial line (an `+IPD` payload shorter than announced,
    or followed by what cannot follow one). The client is back in step before this is raised; the data is gone."""


class IntegrityError(DataDamaged):
    """The body's digest is not the one the server sent (Repr-Digest, Content-Digest or Content-MD5)."""

    def __init__(self, field: str, algorithm: str, expected: str, actual: str) -> None:
        self.field, self.algorithm, self.expected, self.actual = field, algorithm, expected, actual
        super().__init__(f"the body cannot be trusted: its {algorithm} is {actual}, the server's {field} says "
                         f"{expected}")


class HttpError(EspAtError):
    """The HTTP exchange failed: a bad URL, a malformed response."""


class BodyTruncated(HttpError, DataDamaged):
    """The link closed before the whole body (Content-Length, or the last chunk) arrived."""


class MalformedResponse(HttpError, DataDamaged):
    """The response broke HTTP's rules (a status line, a header, a chunk size that cannot be read). The serial
    line has no checksum, and a flipped bit reads exactly like this: it is counted as damage in transit."""


class DeliveryUnknown(EspAtError):
    """A request that changes something (POST, ...) went out, and no whole answer came back: it may have been
    delivered. `cause` is what went wrong; retrying is safe only with the same Idempotency-Key."""

    exit_status = 4

    def __init__(self, message: str, cause: Optional[BaseException] = None) -> None:
        super().__init__(message)
        self.cause = cause


class PortError(EspAtError):
    """The port could not be opened or used; the message says which and why."""

    exit_status = 2


class PortBusy(PortError):
    """Another process has the port open; `pid` is its process id when known."""

    def __init__(self, port: str, pid: Optional[int] = None, why: str = "another process has it") -> None:
        self.port, self.pid = port, pid
        super().__init__(f"{port}: port busy (pid {pid})" if pid else f"{port}: port busy ({why})")
