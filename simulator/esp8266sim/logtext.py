"""How the fake's --log shows wire bytes: control bytes escaped, the password of a join or soft-AP line hidden.

The fake's own copy (it never imports the client): it redacts what this module's commands carry a password in.
"""
from __future__ import annotations

import re

__all__ = ["escape_bytes", "redact"]

_QUOTED = rb'"(?:[^"\\\r\n]|\\.)*"?'                      # a quoted field, also one cut off before its quote
_FIELD = rb"(?:" + _QUOTED + rb"|[^,\r\n]*)"
# AT+CWJAP[_CUR|_DEF]=, AT+CWSAP[_CUR|_DEF]= and the +CWSAP: answer: the second field is the password;
# AT+CWJEAP=: all after the SSID is identity and secrets. Any case, any spacing.
_PASSWORD = re.compile(rb"((?:CWJAP(?:_CUR|_DEF)?\s*=|CWSAP(?:_CUR|_DEF)?\s*[=:])\s*" + _FIELD + rb"\s*,\s*)" + _FIELD,
                       re.IGNORECASE)
_ENTERPRISE = re.compile(rb"(CWJEAP\s*=\s*" + _FIELD + rb"\s*,)[^\r\n]*", re.IGNORECASE)
_SHOWN = {0x0D: "\\r", 0x0A: "\\n", 0x5C: "\\\\"} | {b: chr(b) for b in range(0x20, 0x7F) if b != 0x5C}


def redact(data: bytes) -> bytes:
    """`data` with every join's or soft AP's password replaced by `***`."""
    return _ENTERPRISE.sub(rb"\1***", _PASSWORD.sub(rb'\1"***"', data))


def escape_bytes(data: bytes) -> str:
    """Printable ASCII as it is, CR and LF as `\\r` `\\n`, a backslash doubled, any other byte as `\\xNN`."""
    return "".join(_SHOWN.get(b) or f"\\x{b:02x}" for b in data)
