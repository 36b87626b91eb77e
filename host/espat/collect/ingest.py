"""POST /api/readings as a plain ASGI handler: the one path every reading takes, kept free of the framework's
per-request objects (the rest of the collector is Starlette). Checks in order: size and time (413, 408), the body's
Content-Digest when it has one (400), shape and values (400, 422), token (401, 403), rate (429), then the writer's
commit (201 new, 200 repeat, 409 a stored reading with the same key and other sampled fields, 503 database).
Each refusal is logged once, with the client's address and the device when known.
"""
from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import json
import logging
import math
import re

from .contract import meaning
from .reading import MAX_BODY, Rejected, parse_reading
from .store import Conflict, Unavailable

__all__ = ["make_ingest", "send_json", "log_refusal"]

# What each answer of this handler must mean to the board (contract.json "status"): checked when it is imported,
# so a contract that says otherwise stops the collector rather than making boards misread it.
ANSWERS = {201: "stored", 200: "repeat", 409: "conflict", 401: "keep", 403: "keep", 408: "keep", 429: "backoff",
           503: "backoff"}
_wrong = {status: meaning(status) for status, meant in ANSWERS.items() if meaning(status) != meant}
if _wrong:
    raise ImportError(f"contract.json gives answers of the collector other meanings: {_wrong} (expected "
                      f"{ {s: ANSWERS[s] for s in _wrong} })")

log = logging.getLogger("espat.collect")
_JSON = (b"content-type", b"application/json")


class _Disconnected(Exception):
    pass


_DIGESTS = {"sha-256": hashlib.sha256, "sha-512": hashlib.sha512}
_DIGEST_ITEM = re.compile(r"\s*([a-z0-9-]+)\s*=\s*:([^:]*):\s*(?:;[^,]*)?")


def check_content_digest(field: str, body: bytes) -> None:
    """RFC 9530 Content-Digest, when the sender gave one (espat's host client does; the AT link has no checksum,
    so a byte changed between host and module arrives looking fine): every sha-256/sha-512 in it must match the
    body, or the body was damaged on its way and is refused (400) rather than stored. Other algorithms are ignored."""
    for item in field.split(","):
        found = _DIGEST_ITEM.fullmatch(item)
        if found is None:
            if any(item.strip().startswith(name + "=") for name in _DIGESTS):
                raise Rejected(400, "Content-Digest cannot be read")
            continue
        algorithm, value = found.groups()
        if algorithm not in _DIGESTS:
            continue
        try:
            expected = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise Rejected(400, f"Content-Digest {algorithm} is not base64") from None
        if expected != _DIGESTS[algorithm](body).digest():
            raise Rejected(400, f"body does not match its Content-Digest ({algorithm}): damaged on the way")


def log_refusal(client: str, status: int, reason: str, device: str = "-") -> None:
    log.warning("refused %d %s device=%s: %s", status, client, device, reason)


async def send_json(send, status: int, payload: dict, headers: tuple = ()) -> None:
    data = json.dumps(payload, separators=(",", ":")).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [_JSON, (b"content-length", b"%d" % len(data)), *headers]})
    await send({"type": "http.response.body", "body": data})


async def _read_body(receive, length: bytes | None, timeout: float) -> bytes:
    if length is not None:
        if not length.isdigit():
            raise Rejected(400, "Content-Length is not a number")
        if int(length) > MAX_BODY:
            raise Rejected(413, f"body of {int(length)} bytes, the limit is {MAX_BODY}")
    task = asyncio.current_task()
    expired = False

    def expire() -> None:
        nonlocal expired
        expired = True
        task.cancel()

    timer = asyncio.get_running_loop().call_later(timeout, expire)
    body = b""
    try:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                raise _Disconnected()
            body += message.get("body", b"")
            if len(body) > MAX_BODY:
                raise Rejected(413, f"body over the {MAX_BODY}-byte limit")
            if not message.get("more_body", False):
                return body
    except asyncio.CancelledError:
        if not expired:
            raise
        if hasattr(task, "uncancel"):
            task.uncancel()
        raise Rejected(408, f"body not received within {timeout:g} s") from None
    finally:
        timer.cancel()


def make_ingest(state: dict, settings):
    """The ASGI handler; `state` holds the running collector's tokens, rate limit and writer (set at startup)."""

    async def ingest(scope, receive, send) -> None:
        client = scope["client"][0] if scope.get("client") else "-"
        length = authorization = digest = None
        for name, value in scope["headers"]:
            if name == b"content-length":
                length = value
            elif name == b"authorization":
                authorization = value.decode("latin-1")
            elif name == b"content-digest":
                digest = value.decode("latin-1")

        async def refuse(status: int, reason: str, device: str = "-", headers: tuple = ()) -> None:
            log_refusal(client, status, reason, device)
            await send_json(send, status, {"error": reason}, headers)

        try:
            body = await _read_body(receive, length, settings.body_timeout)
            if digest is not None:
                check_content_digest(digest, body)
            reading = parse_reading(body)
        except _Disconnected:
            return
        except Rejected as exc:
            # after a body too slow, what the connection carries next is not a request: close it
            return await refuse(exc.status, str(exc), headers=((b"connection", b"close"),) if exc.status == 408 else ())
        tokens = state["tokens"]
        if tokens.stale():
            try:
                await asyncio.get_running_loop().run_in_executor(None, tokens.reload)
            except Exception as exc:
                return await refuse(503, f"database unavailable: {exc}", reading.device, ((b"retry-after", b"5"),))
        status, reason = tokens.check(reading.device, authorization)
        if status:
            return await refuse(status, reason, reading.device)
        wait = state["rate"].take(reading.device)
        if wait:
            return await refuse(429, f"over {settings.rate:g} readings/s", reading.device,
                                ((b"retry-after", b"%d" % max(1, math.ceil(wait))),))
        try:
            stored = await state["writer"].submit(reading)
        except Unavailable as exc:
            return await refuse(503, str(exc), reading.device, ((b"retry-after", b"5"),))
        if stored is None:
            return await send_json(send, 200, {"repeat": True, "key": list(reading.key)})
        if isinstance(stored, Conflict):
            return await refuse(409, stored.reason, reading.device)
        await send_json(send, 201, {"stored": True, "id": stored.id, "key": list(reading.key)})

    return ingest
