"""HTTP/1.1 over a module link, with h11 as the HTTP implementation on both sides of the exchange.

The body is streamed to the caller's sink as +IPD bytes arrive; a body cut short (the link closed before
Content-Length or the last chunk) is an error, never a short file reported as success. Redirects are returned,
not followed: the caller says so to the user.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Tuple

import h11

from .client import CommandTimeout, EspAt
from .errors import EspAtError, LocalProtocolError

__all__ = ["HttpError", "Response", "request", "split_url"]


class HttpError(EspAtError):
    """The HTTP exchange failed: a bad URL, a malformed or truncated response."""


@dataclass
class Response:
    status: int
    reason: str
    headers: List[Tuple[str, str]]
    length: int                     # body bytes delivered to the sink

    def header(self, name: str) -> Optional[str]:
        name = name.lower()
        return next((v for k, v in self.headers if k.lower() == name), None)


def split_url(url: str) -> Tuple[str, int, str]:
    """`http://host[:port]/path?query` to (host, port, target); HttpError for anything else."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "http":
        raise HttpError(f"{url!r}: only http:// URLs can be fetched through the module's plain TCP links")
    if not parts.hostname:
        raise HttpError(f"{url!r} has no host")
    try:
        port = parts.port or 80
    except ValueError:
        raise HttpError(f"{url!r} has a bad port") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, target


def request(esp: EspAt, method: str, url: str, body: bytes = b"", headers: Iterable[Tuple[str, str]] = (),
            sink: Callable[[bytes], None] = lambda data: None, timeout: float = 30.0,
            progress: Callable[[int, Optional[int]], None] = lambda done, total: None) -> Response:
    host, port, target = split_url(url)
    fields = [("Host", host if port == 80 else f"{host}:{port}")]
    fields += list(headers)
    if body or method in ("POST", "PUT", "PATCH"):
        fields.append(("Content-Length", str(len(body))))
    fields += [("Connection", "close"), ("User-Agent", "espat")]
    conn = h11.Connection(our_role=h11.CLIENT)
    try:
        wire = conn.send(h11.Request(method=method, target=target, headers=fields))
        if body:
            wire += conn.send(h11.Data(data=body))
        wire += conn.send(h11.EndOfMessage())
    except h11.LocalProtocolError as exc:
        raise LocalProtocolError(f"bad HTTP request: {exc}") from None
    link = esp.open_link(host, port)
    garbled = esp.garbled
    try:
        esp.send(link, wire)
        try:
            response = _read_response(esp, link, conn, sink, timeout, progress)
        except HttpError as exc:
            if esp.garbled == garbled:
                raise
            what = f"{exc} ({esp.garbled - garbled} garbled lines meanwhile)"
        else:
            if esp.garbled == garbled:
                return response
            # A lost byte can hide anything, even the header that says how long the body is.
            what = f"the response looked whole, but {esp.garbled - garbled} garbled lines came with it"
        raise HttpError(f"{what}: bytes were lost on the serial line, from noise or a rate too fast for the "
                        "adapter; the body cannot be trusted") from None
    finally:
        esp.close_link(link)


def _read_response(esp: EspAt, link: int, conn: h11.Connection, sink, timeout: float, progress) -> Response:
    response: Optional[Response] = None
    total: Optional[int] = None
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            if response is None and not esp.links[link].open:
                raise HttpError("the server closed the link without a complete response") from None
            got = response.length if response else 0
            raise HttpError(f"the response was cut short or malformed after {got} body bytes: {exc}") from None
        if event is h11.NEED_DATA:
            data = esp.receive(link, timeout)
            if not data:
                if esp.links[link].open:
                    raise CommandTimeout(f"no response data within {timeout:g} s")
                conn.receive_data(b"")          # the link closed: h11 decides if the message was whole
            else:
                conn.receive_data(data)
            continue
        if isinstance(event, h11.Response):
            headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in event.headers]
            response = Response(event.status_code, event.reason.decode("latin-1"), headers, 0)
            length = response.header("Content-Length")
            total = int(length) if length and length.isdigit() else None
        elif isinstance(event, h11.Data):
            assert response is not None
            sink(bytes(event.data))
            response.length += len(event.data)
            progress(response.length, total)
        elif isinstance(event, h11.EndOfMessage):
            assert response is not None
            return response
        elif isinstance(event, h11.ConnectionClosed):
            raise HttpError("the server closed the link before a response")
