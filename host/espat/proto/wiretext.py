"""How wire bytes are shown to a person: control bytes escaped, a join's password never shown.

Used by every transcript and trace (the client's -v, the fake module's --log), so a password is redacted in one
place, whatever shows the line.
"""
from __future__ import annotations

import re

__all__ = ["escape_bytes", "redact"]

_QUOTED = rb'"(?:[^"\\\r\n]|\\.)*"?'                      # a quoted field, also one cut off before its quote
_FIELD = rb"(?:" + _QUOTED + rb"|[^,\r\n]*)"
# Station join (AT+CWJAP, _CUR, _DEF) and the soft AP (AT+CWSAP set, and its +CWSAP: answer, which shows the
# password): the second field is the password. Enterprise join (CWJEAP): everything after the SSID is identity and
# secrets. Any case, any spacing.
_PASSWORD = re.compile(rb"((?:CWJAP(?:_CUR|_DEF)?\s*=|CWSAP(?:_CUR|_DEF)?\s*[=:])\s*" + _FIELD + rb"\s*,\s*)" + _FIELD,
                       re.IGNORECASE)
_ENTERPRISE = re.compile(rb"(CWJEAP\s*=\s*" + _FIELD + rb"\s*,)[^\r\n]*", re.IGNORECASE)
_ESCAPES = {0x0D: "\\r", 0x0A: "\\n", 0x5C: "\\\\"}


def redact(data: bytes) -> bytes:
    """`data` with the password of any Wi-Fi join or soft-AP line in it replaced by `***`."""
    return _ENTERPRISE.sub(rb'\1***', _PASSWORD.sub(rb'\1"***"', data))


def escape_bytes(data: bytes) -> str:
    """Printable ASCII as it is, CR and LF as `\\r` `\\n`, everything else as `\\xNN`."""
    return "".join(_ESCAPES.get(b) or (chr(b) if 0x20 <= b < 0x7F else f"\\x{b:02x}") for b in data)
