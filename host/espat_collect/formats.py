"""How stored readings are written out, apart from how they are stored: JSON objects, CSV and server-sent events.
No I/O: each function takes what the store returned and gives text or plain data.
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone

from .contract import DIAG_FIELDS

__all__ = ["iso_time", "row_json", "boot_json", "readings_csv", "sse_reading", "SSE_START", "SSE_KEEPALIVE"]

SSE_START = "retry: 2000\n\n"          # EventSource waits 2 s before it reconnects
SSE_KEEPALIVE = ": keep-alive\n\n"


def iso_time(ts: float) -> str:
    """2026-11-30T06:18:47.123Z"""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def row_json(row) -> dict:
    """A StoredRow as the API gives it: its id, when it was received and taken, then the reading's own fields."""
    return {"id": row.id, "received_at": iso_time(row.received_at), "taken_at": iso_time(row.taken_at),
            **row.reading.to_json()}


def boot_json(boot: dict) -> dict:
    """One boot of Store.gaps with its times as ISO 8601."""
    return {**boot, "first_at": iso_time(boot["first_at"]), "last_at": iso_time(boot["last_at"])}


def readings_csv(rows: list) -> str:
    """One line per stored reading: the fixed columns, the diag counters, then every value name any row has."""
    names = sorted({name for row in rows for name in row.reading.values})
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["id", "received_at", "taken_at", "device", "incarnation", "boot", "seq", "uptime_ms", "dropped",
                     "age_ms", *(f"diag.{d}" for d in DIAG_FIELDS), *names])
    for row in rows:
        r = row.reading
        diag = r.diag or {}
        writer.writerow([row.id, iso_time(row.received_at), iso_time(row.taken_at), r.device, r.incarnation, r.boot,
                         r.seq, r.uptime_ms, r.dropped, "" if r.age_ms is None else r.age_ms,
                         *(diag.get(d, "") for d in DIAG_FIELDS), *(r.values.get(n, "") for n in names)])
    return out.getvalue()


def sse_reading(row) -> str:
    """One stored reading as a server-sent event; its id is what a reconnecting browser sends as Last-Event-ID."""
    return f"id: {row.id}\nevent: reading\ndata: {json.dumps(row_json(row), separators=(',', ':'))}\n\n"
