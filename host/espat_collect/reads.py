"""The read side of the collector: the readings API (JSON or CSV), devices, gaps, the live event stream, health
checks, the contract and the live page. Starlette routes (routing, query parsing, streaming responses and static
files are each a line); every database call runs in Starlette's thread pool, never on the event loop. Nothing here
writes: readings come in through ingest.py.
"""
from __future__ import annotations

import math
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .contract import PATH as CONTRACT_PATH
from .formats import boot_json, readings_csv, row_json
from .ingest import log_refusal
from .live import reading_events
from .reading import Rejected
from .service import Collector
from .store import Unavailable

__all__ = ["read_routes", "STATIC", "MAX_ID"]

STATIC = Path(__file__).with_name("static")
MAX_ID = 2**63 - 1     # a reading's id is a 64-bit signed integer in both databases


def _answer(status: int, body: dict, headers: dict | None = None) -> JSONResponse:
    return JSONResponse(body, status_code=status, headers=headers)


def _refuse(request: Request, status: int, reason: str, headers: dict | None = None):
    log_refusal(request.client.host if request.client else "-", status, reason)
    return _answer(status, {"error": reason}, headers)


def _time_param(request: Request, name: str):
    value = request.query_params.get(name)
    if value is None or value == "":
        return None
    try:
        number = float(value)
        if math.isfinite(number):
            return number
    except ValueError:
        pass
    try:
        stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=timezone.utc)
        return stamp.timestamp()
    except (ValueError, OverflowError):
        raise Rejected(400, f"{name} must be an ISO 8601 time (2026-11-30T06:00:00Z) or seconds since the epoch")


def _whole(value: str, high: int):
    """`value` as a whole number 0..high written in ASCII digits, else None (not '²', not 5,000 digits)."""
    if not value.isascii() or not value.isdigit() or len(value) > len(str(high)) or int(value) > high:
        return None
    return int(value)


def _int_param(request: Request, name: str, default: int, high: int) -> int:
    value = request.query_params.get(name)
    if value is None:
        return default
    number = _whole(value, high)
    if number is None or number < 1:
        raise Rejected(400, f"{name} must be a whole number from 1 to {high}")
    return number


def _reading_id(value: str | None, name: str):
    if value is None:
        return None
    number = _whole(value, MAX_ID)
    if number is None:
        raise Rejected(400, f"{name} must be a reading id (a whole number up to {MAX_ID})")
    return number


class _CountedStream(StreamingResponse):
    """An event stream that gives its place back when it ends, however it ends (the client went away, shutdown)."""

    def __init__(self, content, collector: Collector, **kw) -> None:
        super().__init__(content, **kw)
        self._collector = collector

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._collector.close_stream()


def read_routes(current: Callable[[], Collector]) -> list:
    """The read side's routes; `current()` is the running collector (there from startup on)."""

    async def get_readings(request: Request):
        try:
            since, until = _time_param(request, "since"), _time_param(request, "until")
            limit = _int_param(request, "limit", 10_000, 100_000)
            tail = request.query_params.get("tail")
            if tail is not None:
                limit = _int_param(request, "tail", 0, 100_000)
            after = _reading_id(request.query_params.get("after"), "after")
            fmt = request.query_params.get("format", "json")
            if fmt not in ("json", "csv"):
                raise Rejected(400, "format must be json or csv")
        except Rejected as exc:
            return _refuse(request, exc.status, str(exc))
        # one more than asked for tells whether the answer is all there is; a cut answer says where to go on
        rows = await run_in_threadpool(current().store.query, request.query_params.get("device") or None,
                                       since, until, after, limit + 1, tail is not None)
        more = len(rows) > limit
        rows = rows[1:] if more and tail is not None else rows[:limit]
        headers = {"X-More-After": str(rows[-1].id)} if more and tail is None else None
        if fmt == "csv":
            return Response(readings_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        return _answer(200, {"readings": [row_json(r) for r in rows],
                             "more_after": rows[-1].id if more and tail is None else None}, headers)

    def _device_summaries() -> list:
        store = current().store
        out = []
        for name in store.device_names():
            last = store.query(name, limit=1, newest=True)
            if not last:
                continue
            boots = store.gaps(name)
            out.append({"device": name, "last": row_json(last[0]), "boots": [boot_json(b) for b in boots],
                        "missing_count": sum(b["missing_count"] for b in boots),
                        "dropped": sum(b["dropped"] for b in boots)})
        return out

    async def get_devices(request: Request):
        return _answer(200, {"devices": await run_in_threadpool(_device_summaries)})

    async def get_gaps(request: Request):
        device = request.query_params.get("device")
        if not device:
            return _refuse(request, 400, "gaps needs ?device=NAME")
        boots = await run_in_threadpool(current().store.gaps, device)
        return _answer(200, {"device": device, "boots": [boot_json(b) for b in boots]})

    async def events(request: Request):
        collector = current()
        try:
            # (empty is absent, as before: the stream starts from now)
            after = _reading_id(request.headers.get("last-event-id") or None, "Last-Event-ID")
            if after is None:
                after = _reading_id(request.query_params.get("after") or None, "after")
        except Rejected as exc:
            return _refuse(request, exc.status, str(exc))
        if not collector.open_stream():       # (counted from here: the stream's own end gives it back)
            return _refuse(request, 503, f"{collector.settings.max_streams} event streams are open already",
                           {"Retry-After": "10"})
        try:
            if after is None:
                after = await run_in_threadpool(collector.store.last_id)
        except BaseException:
            collector.close_stream()
            raise
        store = collector.store
        stream = reading_events(lambda a: store.query(after_id=a, limit=1000), after, collector.wakeup)
        return _CountedStream(stream, collector, media_type="text/event-stream",
                              headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def healthz(request: Request):
        return _answer(200, {"ok": True})

    async def readyz(request: Request):
        store = current().store
        try:
            await run_in_threadpool(store.ping)
        except Unavailable as exc:
            return _answer(503, {"ok": False, "error": str(exc)})
        return _answer(200, {"ok": True, "database": store.backend})

    async def page(request: Request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def favicon(request: Request):
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "max-age=86400"})

    async def get_contract(request: Request):
        # the reading contract as the collector holds it: the live page takes its units from here
        return FileResponse(CONTRACT_PATH, media_type="application/json", headers={"Cache-Control": "no-cache"})

    return [
        Route("/", page),
        Route("/favicon.ico", favicon),
        Route("/api/contract", get_contract),
        Route("/api/readings", get_readings, methods=["GET"]),
        Route("/api/devices", get_devices),
        Route("/api/gaps", get_gaps),
        Route("/api/events", events),
        Route("/healthz", healthz),
        Route("/readyz", readyz),
        Mount("/static", StaticFiles(directory=STATIC), name="static"),
    ]
