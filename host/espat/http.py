"""HTTP/1.1 requests as the exact bytes that cross AT+CIPSEND.

The seed example sent a bare `GET /index.html`: no HTTP version, no Host header, which a virtual host or any
HTTP/1.1 server rejects. h11 writes the request, so the method, target and headers are checked by a well-kept
HTTP implementation; Content-Length is counted from the body's bytes.
"""
from __future__ import annotations

from typing import Iterable, Optional, Tuple

import h11

from .errors import LocalProtocolError

__all__ = ["build_request"]


def build_request(method: str, host: str, path: str = "/", body: bytes = b"", port: int = 80,
                  headers: Iterable[Tuple[str, str]] = (), content_type: Optional[str] = None,
                  keep_alive: bool = False) -> bytes:
    """One HTTP/1.1 request with Host, Content-Length (when there is a body) and Connection headers."""
    if not isinstance(body, (bytes, bytearray)):
        raise LocalProtocolError(f"HTTP body must be bytes, not {type(body).__name__}; encode text first")
    if not path.startswith("/"):
        raise LocalProtocolError(f"HTTP path must start with '/', not {path!r}")
    host_header = host if port == 80 else f"{host}:{port}"
    fields = [("Host", host_header)]
    if content_type is not None:
        fields.append(("Content-Type", content_type))
    if body or method.upper() in ("POST", "PUT", "PATCH"):
        fields.append(("Content-Length", str(len(body))))
    fields.extend(headers)
    if not keep_alive:
        fields.append(("Connection", "close"))
    conn = h11.Connection(our_role=h11.CLIENT)
    try:
        head = conn.send(h11.Request(method=method, target=path, headers=fields))
        data = conn.send(h11.Data(data=bytes(body))) if body else b""
        tail = conn.send(h11.EndOfMessage())
    except h11.LocalProtocolError as exc:
        raise LocalProtocolError(f"bad HTTP request: {exc}") from None
    return head + data + tail
