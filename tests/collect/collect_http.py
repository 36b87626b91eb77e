"""HTTP and database helpers for the collector's tests and bench/collector.py: the contract's body, a client that
shows exactly what the server answered, and PostgreSQL's address (ESPAT_TEST_PG, set by scripts/postgres.sh)."""
from __future__ import annotations

import http.client
import json
import os

PG_DEFAULT = "postgresql://espat:espat@127.0.0.1:5432/espat_test"


def reading(device="greenhouse-uno-1", incarnation="1a2b3c4d", boot=3, seq=17, uptime_ms=60012,
            values=None, dropped=0) -> dict:
    """The contract's body."""
    return {"device": device, "incarnation": incarnation, "boot": boot, "seq": seq, "uptime_ms": uptime_ms,
            "readings": values if values is not None else {"a0_c": 21.5, "chip_c": 30.1, "vcc_mv": 4980},
            "dropped": dropped}


def body(data) -> bytes:
    return json.dumps(data, separators=(",", ":")).encode()


def pg_admin_url() -> str:
    return os.environ.get("ESPAT_TEST_PG", PG_DEFAULT)


def pg_schema_url(schema: str) -> str:
    base = pg_admin_url()
    return f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"


class Answer:
    def __init__(self, status: int, headers: dict, data: bytes) -> None:
        self.status, self.headers, self.data = status, headers, data

    def json(self):
        return json.loads(self.data)

    def __repr__(self) -> str:
        return f"Answer({self.status}, {self.data[:200]!r})"


def request(base: str, method: str, path: str, data: bytes | None = None, headers: dict | None = None,
            timeout: float = 30) -> Answer:
    host, port = base.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request(method, path, body=data, headers={"Content-Type": "application/json", **(headers or {})})
        resp = conn.getresponse()
        return Answer(resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read())
    finally:
        conn.close()


def post(base: str, data, headers: dict | None = None) -> Answer:
    return request(base, "POST", "/api/readings", data if isinstance(data, bytes) else body(data), headers)


def stored(base: str, query: str = "") -> list:
    answer = request(base, "GET", f"/api/readings{query}")
    assert answer.status == 200, answer
    return answer.json()["readings"]
