"""HTTP/1.1 over a module link, with h11 as the HTTP implementation on both sides of the exchange.

The body is streamed to the caller's sink as +IPD bytes arrive, and is either exactly right or an error:
- a body cut short (the link closed before Content-Length or the last chunk) is BodyTruncated;
- the module's framing after every block is checked (DataLost), also after the last one before success;
- when the server sends Repr-Digest, Content-Digest or Content-MD5 the body is checked against it
  (IntegrityError); a GET asks for a Repr-Digest, and a request body carries its own Content-Digest, so a server
  can refuse one changed on the serial line (the module cannot tell). The body's sha256 is in the Response either way.
A request that changes something (POST, PUT, PATCH, DELETE) and went out whole, but got no whole answer, is
DeliveryUnknown: it may have been delivered. An Idempotency-Key lets the server tell a retry from a new request.
`timeout` bounds the whole exchange, and the link is closed on every way out. Redirects are returned, not followed.
"""
from __future__ import annotations

import re
import time
import urllib.parse
from dataclasses import dataclass, field
from typing import Callable, Iterable, List, Optional, Tuple

import h11

from .client import EspAt
from .errors import (BodyTruncated, CommandTimeout, DataDamaged, DeliveryUnknown, EspAtError, HttpError,
                     LinkClosed, LocalProtocolError, MalformedResponse)
from .integrity import WANT_DIGEST, Digester, content_digest

__all__ = ["HttpError", "Response", "request", "split_url", "build_request", "SAFE_METHODS"]

# An Idempotency-Key goes out as typed (`Idempotency-Key: r-17`): Stripe, Adyen and the other servers that honour
# it document the raw value, and a server comparing keys byte for byte would take a quoted copy for another key.
# (The IETF draft writes it as a structured-field string, `"r-17"`; a server following it reads the raw form as
# a token.) Stripe's limit on its length.
MAX_KEY = 255

_HOST = re.compile(r"[A-Za-z0-9._~-]+|[0-9A-Fa-f:.]+")      # a DNS name or an IP literal (the brackets gone)

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})   # repeating them changes nothing on the server


@dataclass
class Response:
    status: int
    reason: str
    headers: List[Tuple[str, str]]
    length: int                     # body bytes delivered to the sink
    sha256: str = ""                # of the body delivered, hex
    verified: List[str] = field(default_factory=list)   # integrity fields checked, e.g. "Repr-Digest sha-256"

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
    if not _HOST.fullmatch(parts.hostname) or any(c.isspace() or ord(c) < 0x21 for c in url):
        raise HttpError(f"{url!r} is not a URL the module can fetch: a space or a character no host name has "
                        "(encode a space in the path as %20)")
    try:
        port = parts.port or 80
    except ValueError:
        raise HttpError(f"{url!r} has a bad port") from None
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, port, target


def request(esp: EspAt, method: str, url: str, body: bytes = b"", headers: Iterable[Tuple[str, str]] = (),
            sink: Callable[[bytes], None] = lambda data: None, timeout: Optional[float] = 30.0,
            progress: Callable[[int, Optional[int]], None] = lambda done, total: None,
            idempotency_key: Optional[str] = None, idle: Optional[float] = None) -> Response:
    """One exchange on a new link. `timeout` bounds all of it (connect, send, every read); `idle` bounds each wait
    for the server's next bytes instead, so a slow but steady download never ends (None: the same as timeout)."""
    host, port, target = split_url(url)
    conn, wire = _request_bytes(method, host, port, target, body, list(headers), idempotency_key)
    wait = idle if idle is not None else (timeout if timeout is not None else 30.0)
    with esp.operation(timeout):
        link = esp.open_link(host, port)
        try:
            try:
                _send(esp, link, wire)
                response = _read_response(esp, link, conn, sink, wait, progress)
            except EspAtError as exc:
                raise _why(esp, link, exc, timeout) from None
            except Exception as exc:        # the port itself failed (an adapter unplugged, a socket reset)
                if method.upper() in SAFE_METHODS or not esp.links[link].sent:
                    raise
                raise DeliveryUnknown(f"{method} {url} may have been delivered: the port failed ({exc})",
                                      exc) from None
        except DeliveryUnknown:
            esp.close_link(link)
            raise
        except EspAtError as exc:
            esp.close_link(link)
            if method.upper() in SAFE_METHODS or not esp.links[link].sent:
                raise
            # once a byte of the request has left, the server may have it all: the caller must not retry blindly
            raise DeliveryUnknown(f"{method} {url} may have been delivered: {exc}", exc) from None
        except BaseException as exc:
            # Interrupted: close at once and let the caller go; the link's data still coming is dropped.
            esp.close_link(link, timeout=None if isinstance(exc, Exception) else esp.cleanup_bound)
            raise
        esp.close_link(link)
    return response


def _send(esp: EspAt, link: int, wire: bytes) -> None:
    """Send the request; a server that answers and closes before taking all of it (431, 413) has its answer read
    like any other."""
    try:
        esp.send(link, wire)
    except LinkClosed:
        if not esp.links[link].received:
            raise


def _why(esp: EspAt, link: int, exc: EspAtError, timeout: Optional[float]) -> EspAtError:
    """The error in words that say what happened: Wi-Fi lost rather than a server that closed, a whole operation's
    bound that ran out while data was still arriving rather than `no data`."""
    if esp.wifi_connected is False and isinstance(exc, (HttpError, LinkClosed)) and not isinstance(exc, DataDamaged):
        return LinkClosed(f"the module lost Wi-Fi (WIFI DISCONNECT) during the exchange, which closed link {link}")
    if isinstance(exc, CommandTimeout) and timeout is not None and esp.operation_over \
            and time.monotonic() - esp.last_byte_at < 1.0:
        return CommandTimeout(f"gave up after {timeout:g} s, the whole operation's bound; data was still arriving")
    return exc


def build_request(method: str, host: str, path: str = "/", body: bytes = b"", port: int = 80,
                  headers: Iterable[Tuple[str, str]] = (), content_type: Optional[str] = None,
                  keep_alive: bool = False) -> bytes:
    """One plain HTTP/1.1 request (Host, Content-Length when there is a body, Connection), as the exact bytes that
    cross AT+CIPSEND: what a sketch or a bench sends. request() adds the digests, a User-Agent and a key itself."""
    if not isinstance(body, (bytes, bytearray)):
        raise LocalProtocolError(f"HTTP body must be bytes, not {type(body).__name__}; encode text first")
    if not path.startswith("/"):
        raise LocalProtocolError(f"HTTP path must start with '/', not {path!r}")
    fields = [("Host", host if port == 80 else f"{host}:{port}")]
    if content_type is not None:
        fields.append(("Content-Type", content_type))
    if body or method.upper() in ("POST", "PUT", "PATCH"):
        fields.append(("Content-Length", str(len(body))))
    fields.extend(headers)
    if not keep_alive:
        fields.append(("Connection", "close"))
    return _encode(h11.Connection(our_role=h11.CLIENT), method, path, fields, bytes(body))


def _encode(conn: h11.Connection, method: str, target: str, fields: List[Tuple[str, str]], body: bytes) -> bytes:
    """The request as h11 writes it (so the method, target and fields are checked by a well-kept implementation)."""
    try:
        wire = conn.send(h11.Request(method=method, target=target, headers=fields))
        if body:
            wire += conn.send(h11.Data(data=body))
        return wire + conn.send(h11.EndOfMessage())
    except h11.LocalProtocolError as exc:
        raise LocalProtocolError(f"bad HTTP request: {exc}") from None


def _request_bytes(method: str, host: str, port: int, target: str, body: bytes, headers: List[Tuple[str, str]],
                   idempotency_key: Optional[str]) -> Tuple[h11.Connection, bytes]:
    names = {name.lower() for name, _ in headers}
    fields = [("Host", host if port == 80 else f"{host}:{port}")] + headers
    if idempotency_key is not None:
        if not 0 < len(idempotency_key) <= MAX_KEY or not all(0x21 <= ord(c) < 0x7F for c in idempotency_key):
            raise LocalProtocolError(f"an idempotency key is 1 to {MAX_KEY} visible ASCII characters (no spaces)")
        fields.append(("Idempotency-Key", idempotency_key))     # the raw key, as servers that honour it take it
    if body or method in ("POST", "PUT", "PATCH"):
        fields.append(("Content-Length", str(len(body))))
    if body and "content-digest" not in names:
        fields.append(content_digest(body))     # a byte changed on the way to the module is the server's to see
    if method in ("GET", "HEAD") and WANT_DIGEST[0].lower() not in names:
        fields.append(WANT_DIGEST)              # a download is what a digest protects
    fields += [("Connection", "close"), ("User-Agent", "espat")]
    conn = h11.Connection(our_role=h11.CLIENT)
    return conn, _encode(conn, method, target, fields, body)


def _read_response(esp: EspAt, link: int, conn: h11.Connection, sink, wait: float, progress) -> Response:
    digester = Digester()
    response: Optional[Response] = None
    total: Optional[int] = None
    ended = False
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            _check(esp, link)
            got = response.length if response else 0
            cut = ended                 # h11 failed on the end of the link, not on a byte it was given
            if cut and response is None:
                raise HttpError("the server closed the link without a complete response") from None
            if cut:
                raise BodyTruncated(f"the response was cut short after {got} body bytes: {exc}") from None
            raise MalformedResponse(f"the response was malformed after {got} body bytes ({exc}): bytes changed on "
                                    "the serial line, or a broken server") from None
        if event is h11.NEED_DATA:
            data = esp.receive(link, wait)
            if not data:
                if esp.links[link].open:
                    raise esp._timeout(f"no data from the server for {wait:g} s")
                conn.receive_data(b"")          # the link closed: h11 decides if the message was whole
                ended = True
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
            data = bytes(event.data)
            digester.update(data)
            sink(data)
            response.length += len(data)
            progress(response.length, total)
        elif isinstance(event, h11.EndOfMessage):
            assert response is not None
            esp.confirm(link)               # the bytes after the last block say whether it was whole
            _check(esp, link)
            response.sha256 = digester.sha256
            response.verified = digester.verify(response.status, response.headers)
            return response
        elif isinstance(event, h11.ConnectionClosed):
            raise HttpError("the server closed the link before a response")


def _check(esp: EspAt, link: int) -> None:
    """The session's verdict on the link's data: a lost byte can hide anything, even the header that says how long
    the body is, so a broken frame or lines that were no AT line while the answer came mean it cannot be trusted."""
    lost = esp.session.verdict(link)
    if lost is not None:
        raise lost
