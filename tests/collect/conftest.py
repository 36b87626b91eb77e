"""Fixtures for the collector's tests: a database of each kind (SQLite file, PostgreSQL schema) and a collector
serving it in this process. A test on PostgreSQL fails, never skips, when it is not reachable."""
from __future__ import annotations

import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))

from collect_http import pg_admin_url, pg_schema_url  # noqa: E402

from espat_collect.app import Settings  # noqa: E402
from espat_collect.server import serve_in_thread  # noqa: E402

DATABASES = ["sqlite", "postgresql"]


@pytest.fixture
def pg_schema():
    """A fresh PostgreSQL schema; yields (url whose search_path is that schema, name)."""
    import psycopg
    url = pg_admin_url()
    try:
        conn = psycopg.connect(url, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"PostgreSQL is not reachable at {url} ({str(exc).strip().splitlines()[0]}): as root, "
                    "`source scripts/postgres.sh` starts it; or set ESPAT_TEST_PG")
    name = f"t_{uuid.uuid4().hex[:12]}"
    conn.execute(f"CREATE SCHEMA {name}")
    try:
        yield pg_schema_url(name), name
    finally:
        conn.execute(f"DROP SCHEMA {name} CASCADE")
        conn.close()


@pytest.fixture(params=DATABASES)
def db_url(request, tmp_path):
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'collect.sqlite3'}"
    url, _ = request.getfixturevalue("pg_schema")
    return url


@pytest.fixture
def collector(db_url):
    with serve_in_thread(Settings(db_url, rate=1000, burst=1000)) as running:
        yield running
