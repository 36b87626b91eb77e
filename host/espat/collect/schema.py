"""The collector's tables (SQLAlchemy Core, one definition for SQLite and PostgreSQL) and their migrations.

Migrations are a small versioned list, not Alembic: the collector migrates its own database when it starts (no
second command for a user to forget), there is one linear history, and each step is a few lines of Core that run
on both databases. `schema_version` holds one row per applied step. A database from a newer espat is refused
rather than written with a schema this code does not know.
"""
from __future__ import annotations

import time

from sqlalchemy import (BigInteger, Column, Float, Index, Integer, MetaData, String, Table, Text, UniqueConstraint,
                        func, select, text)

__all__ = ["metadata", "readings", "devices", "schema_version", "migrate", "SCHEMA_VERSION", "SchemaTooNew"]

metadata = MetaData()
# SQLite only makes INTEGER PRIMARY KEY an alias of its rowid (autoincrementing); PostgreSQL wants a 64-bit identity.
_ID = BigInteger().with_variant(Integer, "sqlite")

schema_version = Table(
    "schema_version", metadata,
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("description", Text, nullable=False),
    Column("applied_at", Float, nullable=False),
)


def _readings_v1(meta: MetaData) -> Table:
    """The readings table as version 1 created it (frozen: later versions change it by their own steps)."""
    return Table(
        "readings", meta,
        Column("id", _ID, primary_key=True, autoincrement=True),
        Column("device", String(32), nullable=False),
        Column("incarnation", String(8), nullable=False),
        Column("boot", BigInteger, nullable=False),
        Column("seq", BigInteger, nullable=False),
        Column("uptime_ms", BigInteger, nullable=False),
        Column("dropped", BigInteger, nullable=False),
        Column("values_json", Text, nullable=False),
        Column("received_at", Float, nullable=False),
        UniqueConstraint("device", "incarnation", "boot", "seq", name="readings_key"),
        Index("readings_by_device_time", "device", "received_at"),
    )


readings = Table(
    "readings", metadata,
    Column("id", _ID, primary_key=True, autoincrement=True),
    Column("device", String(32), nullable=False),
    Column("incarnation", String(8), nullable=False),
    Column("boot", BigInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("uptime_ms", BigInteger, nullable=False),
    Column("dropped", BigInteger, nullable=False),
    Column("values_json", Text, nullable=False),     # {"a0_c":21.5,...} exactly as checked
    Column("received_at", Float, nullable=False),    # seconds since the epoch, UTC, when it was stored
    UniqueConstraint("device", "incarnation", "boot", "seq", name="readings_key"),
    # version 2: when the reading was taken (received_at - age_ms; received_at when the board sent no age),
    # the age the board sent, and its diagnostic counters (JSON); time queries are by taken_at, so the index
    # on received_at went (one index less to write per reading)
    Column("taken_at", Float, nullable=True),
    Column("age_ms", BigInteger, nullable=True),
    Column("diag_json", Text, nullable=True),
    Index("readings_by_device_taken", "device", "taken_at"),
)

devices = Table(
    "devices", metadata,
    Column("device", String(32), primary_key=True),
    Column("token_sha256", String(64), nullable=True),   # hex SHA-256 of the device's bearer token
    Column("created_at", Float, nullable=False),
)


def _v1(conn) -> None:
    v1 = MetaData()
    _readings_v1(v1)
    devices.to_metadata(v1)
    v1.create_all(conn)


def _v2(conn) -> None:
    # Written out (frozen, like version 1), in SQL both databases take. The columns are added nullable (SQLite
    # cannot add a NOT NULL column without a default) and taken_at is filled for the rows already there: an old
    # reading was taken, as far as anyone knows, when it arrived.
    for column, kind in (("taken_at", "FLOAT"), ("age_ms", "BIGINT"), ("diag_json", "TEXT")):
        conn.exec_driver_sql(f"ALTER TABLE readings ADD COLUMN {column} {kind}")
    conn.exec_driver_sql("UPDATE readings SET taken_at = received_at")
    conn.exec_driver_sql("CREATE INDEX readings_by_device_taken ON readings (device, taken_at)")
    conn.exec_driver_sql("DROP INDEX IF EXISTS readings_by_device_time")


# (version, what it does, step). Append only; a released step is never edited (version 1's table definition was
# frozen into _readings_v1 when version 2 changed the live one: what it creates is unchanged).
MIGRATIONS = [
    (1, "readings keyed by device+incarnation+boot+seq; device tokens", _v1),
    (2, "readings: taken_at (when taken, from the board's age_ms), age_ms, diag_json; time index on taken_at", _v2),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]


class SchemaTooNew(RuntimeError):
    pass


def migrate(engine, upto: int = SCHEMA_VERSION) -> int:
    """Brings the database up to SCHEMA_VERSION (or `upto`, for tests that make an old one); returns the number of
    steps applied. Safe when several
    collector processes start at once: each migrates under a lock (SQLite's write lock, a PostgreSQL advisory lock)."""
    from sqlalchemy.schema import CreateTable
    applied = 0
    with engine.begin() as conn:
        # One migrator at a time, from before it looks at the schema until it commits.
        if conn.dialect.name == "postgresql":
            conn.execute(text("SELECT pg_advisory_xact_lock(7079580522)"))   # any constant of our own
        else:  # SQLite: take the write lock now, not at the first write
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        conn.execute(CreateTable(schema_version, if_not_exists=True))
        current = conn.execute(select(func.max(schema_version.c.version))).scalar() or 0
        if current > SCHEMA_VERSION:
            raise SchemaTooNew(f"the database has schema version {current}, newer than this espat knows "
                               f"({SCHEMA_VERSION}): upgrade espat")
        for version, description, step in MIGRATIONS:
            if current < version <= upto:
                step(conn)
                conn.execute(schema_version.insert().values(version=version, description=description,
                                                            applied_at=time.time()))
                applied += 1
    return applied
