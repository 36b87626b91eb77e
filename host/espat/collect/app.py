"""The collector as an ASGI application: the readings API, health checks and the live page.

Starlette for the read side (routing, query parsing, streaming responses and static files are each a line); the
POST every reading takes is a plain ASGI handler in ingest.py, which cut the collector's CPU per reading by about
a tenth (Starlette's request and response objects and middleware layers). Every database call runs in a thread
(the writer's, or Starlette's pool), never on the event loop.
"""
from __future__ import annotations

import asyncio
import csv
import io
import json
import logging
import math
import os
from dataclasses import asdict, dataclass
from datetime import datetime, timezone
from pathlib import Path

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import FileResponse, JSONResponse, Response, StreamingResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from .contract import DIAG_FIELDS, PATH as CONTRACT_PATH
from .guard import RateLimit, TokenCheck
from .ingest import log_refusal, make_ingest
from .live import Wakeup, reading_events
from .reading import Rejected
from .store import Store, Unavailable, iso_time as _iso
from .writer import Writer

__all__ = ["Settings", "create_app", "app_from_environment"]

log = logging.getLogger("espat.collect")
STATIC = Path(__file__).with_name("static")
SETTINGS_ENV = "ESPAT_COLLECT_SETTINGS"


@dataclass(frozen=True)
class Settings:
    db_url: str
    rate: float = 5.0          # readings a second per device, on average
    burst: int = 60            # ... and in one go (a board emptying its ring)
    body_timeout: float = 10.0  # seconds for a client to send its whole body (slow clients get 408)
    max_streams: int = 100     # open /api/events streams per process; more get 503 (the read side's own limit,
    #                            so that watching browsers can never take the connections readings and health need)

    def to_environment(self) -> None:
        os.environ[SETTINGS_ENV] = json.dumps(asdict(self))


def app_from_environment() -> Starlette:
    """For uvicorn's worker processes, which import the app by name (and end with the process that started them)."""
    from .parent import PARENT_ENV, die_with_parent
    if PARENT_ENV in os.environ:
        die_with_parent(int(os.environ[PARENT_ENV]))
    return create_app(Settings(**json.loads(os.environ[SETTINGS_ENV])))


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


MAX_ID = 2**63 - 1     # a reading's id is a 64-bit signed integer in both databases


def _reading_id(value: str | None, name: str):
    if value is None:
        return None
    number = _whole(value, MAX_ID)
    if number is None:
        raise Rejected(400, f"{name} must be a reading id (a whole number up to {MAX_ID})")
    return number


def _csv(rows: list) -> str:
    names = sorted({name for row in rows for name in row.reading.values})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "received_at", "taken_at", "device", "incarnation", "boot", "seq", "uptime_ms", "dropped",
                     "age_ms", *(f"diag.{d}" for d in DIAG_FIELDS), *names])
    for row in rows:
        r = row.reading
        diag = r.diag or {}
        writer.writerow([row.id, _iso(row.received_at), _iso(row.taken_at), r.device, r.incarnation, r.boot, r.seq,
                         r.uptime_ms, r.dropped, "" if r.age_ms is None else r.age_ms,
                         *(diag.get(d, "") for d in DIAG_FIELDS), *(r.values.get(n, "") for n in names)])
    return out.getvalue()


def create_app(settings: Settings) -> Starlette:
    state: dict = {"streams": 0}

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
        rows = await run_in_threadpool(state["store"].query, request.query_params.get("device") or None,
                                       since, until, after, limit + 1, tail is not None)
        more = len(rows) > limit
        rows = rows[1:] if more and tail is not None else rows[:limit]
        headers = {"X-More-After": str(rows[-1].id)} if more and tail is None else None
        if fmt == "csv":
            return Response(_csv(rows), media_type="text/csv; charset=utf-8", headers=headers)
        return _answer(200, {"readings": [r.to_json() for r in rows],
                             "more_after": rows[-1].id if more and tail is None else None}, headers)

    def _device_summaries(device: str | None) -> list:
        store: Store = state["store"]
        names = [device] if device else store.device_names()
        out = []
        for name in names:
            last = store.query(name, limit=1, newest=True)
            if not last:
                continue
            boots = store.gaps(name)
            out.append({"device": name, "last": last[0].to_json(), "boots": boots,
                        "missing_count": sum(b["missing_count"] for b in boots),
                        "dropped": sum(b["dropped"] for b in boots)})
        return out

    async def get_devices(request: Request):
        return _answer(200, {"devices": await run_in_threadpool(_device_summaries, None)})

    async def get_gaps(request: Request):
        device = request.query_params.get("device")
        if not device:
            return _refuse(request, 400, "gaps needs ?device=NAME")
        return _answer(200, {"device": device, "boots": await run_in_threadpool(state["store"].gaps, device)})

    async def events(request: Request):
        try:
            # (empty is absent, as before: the stream starts from now)
            after = _reading_id(request.headers.get("last-event-id") or None, "Last-Event-ID")
            if after is None:
                after = _reading_id(request.query_params.get("after") or None, "after")
        except Rejected as exc:
            return _refuse(request, exc.status, str(exc))
        if state["streams"] >= settings.max_streams:
            return _refuse(request, 503, f"{settings.max_streams} event streams are open already",
                           {"Retry-After": "10"})
        state["streams"] += 1       # (counted from here: the stream's own end gives it back)
        try:
            if after is None:
                after = await run_in_threadpool(state["store"].last_id)
        except BaseException:
            state["streams"] -= 1
            raise
        store: Store = state["store"]
        stream = reading_events(lambda a: store.query(after_id=a, limit=1000), after, state["wakeup"])
        return _CountedStream(stream, state, media_type="text/event-stream",
                              headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def healthz(request: Request):
        return _answer(200, {"ok": True})

    async def readyz(request: Request):
        try:
            await run_in_threadpool(state["store"].ping)
        except Unavailable as exc:
            return _answer(503, {"ok": False, "error": str(exc)})
        return _answer(200, {"ok": True, "database": state["store"].backend})

    async def page(request: Request):
        return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})

    async def favicon(request: Request):
        return FileResponse(STATIC / "favicon.svg", media_type="image/svg+xml",
                            headers={"Cache-Control": "max-age=86400"})

    async def get_contract(request: Request):
        # the reading contract as the collector holds it: the live page takes its units from here
        return FileResponse(CONTRACT_PATH, media_type="application/json", headers={"Cache-Control": "no-cache"})

    from contextlib import asynccontextmanager

    @asynccontextmanager
    async def lifespan(app):
        store = Store(settings.db_url)
        await run_in_threadpool(store.migrate)
        wakeup = Wakeup(asyncio.get_running_loop())
        state.update(store=store, wakeup=wakeup, writer=Writer(store, asyncio.get_running_loop(), wakeup.notify),
                     tokens=TokenCheck(store.token_digests), rate=RateLimit(settings.rate, settings.burst))
        await run_in_threadpool(state["tokens"].reload)
        try:
            yield
        finally:
            await run_in_threadpool(state["writer"].close)
            store.close()

    routes = [
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
    app = Starlette(routes=routes, lifespan=lifespan)
    app.state.collector = state
    return CollectorApp(app, make_ingest(state, settings))


class _CountedStream(StreamingResponse):
    """An event stream that gives its place back when it ends, however it ends (the client went away, shutdown)."""

    def __init__(self, content, state: dict, **kw) -> None:
        super().__init__(content, **kw)
        self._state = state

    async def __call__(self, scope, receive, send) -> None:
        try:
            await super().__call__(scope, receive, send)
        finally:
            self._state["streams"] -= 1


class CollectorApp:
    """POST /api/readings goes straight to the ingest handler; everything else (lifespan included) to Starlette."""

    def __init__(self, starlette: Starlette, ingest) -> None:
        self.starlette, self.ingest, self.state = starlette, ingest, starlette.state

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST" and scope["path"] == "/api/readings":
            return await self.ingest(scope, receive, send)
        return await self.starlette(scope, receive, send)
