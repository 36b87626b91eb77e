"""The data layer: every database access of the collector, one code path for SQLite and PostgreSQL.

SQLAlchemy Core (not the ORM, not raw DB-API): one set of statements for both databases, its connection pool, and
dialect-specific INSERT ... ON CONFLICT DO NOTHING ... RETURNING, which tells in one statement which readings of a
batch were new and which were repeats. Blocking calls: the collector runs them in threads (see writer.py).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

from .reading import Reading, sampled_difference
from .schema import devices, migrate, readings

__all__ = ["Store", "StoredRow", "Conflict", "Unavailable", "default_url", "open_store"]


class Unavailable(RuntimeError):
    """The database did not take the work (down, locked, full): nothing was stored; ask again later."""


@dataclass(frozen=True)
class StoredRow:
    id: int
    received_at: float
    reading: Reading
    taken_at: float | None = None     # received_at - the reading's age_ms (received_at when it had none)

    def __post_init__(self) -> None:
        if self.taken_at is None:
            object.__setattr__(self, "taken_at", taken_at(self.received_at, self.reading))

    def to_json(self) -> dict:
        return {"id": self.id, "received_at": iso_time(self.received_at), "taken_at": iso_time(self.taken_at),
                **self.reading.to_json()}


@dataclass(frozen=True)
class Conflict:
    """A reading whose key is stored already with different sampled fields: a key collision (409), not a repeat."""
    reason: str


def taken_at(received_at: float, reading: Reading) -> float:
    return received_at - (reading.age_ms or 0) / 1000.0


def iso_time(ts: float) -> str:
    """2026-11-30T06:18:47.123Z"""
    return datetime.fromtimestamp(ts, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def default_url() -> str:
    """SQLite in the user's data directory (~/.local/share/espat/collect.sqlite3 on Linux)."""
    from platformdirs import user_data_path
    return f"sqlite:///{user_data_path('espat') / 'collect.sqlite3'}"


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cur = dbapi_connection.cursor()
    cur.execute("PRAGMA journal_mode=WAL")       # readers never wait for the writer
    cur.execute("PRAGMA synchronous=FULL")       # a commit is on disk before the 201 goes out
    cur.execute("PRAGMA busy_timeout=2000")      # another process's write lock: wait, then 503
    cur.close()


def _postgres_session(dbapi_connection, _record) -> None:
    # A table locked by someone else is an unavailable database (503 after 2 s), not a request that hangs.
    dbapi_connection.autocommit = True
    with dbapi_connection.cursor() as cur:
        cur.execute("SET lock_timeout = '2s'")
        cur.execute("SET statement_timeout = '20s'")
    dbapi_connection.autocommit = False


def _parse(url: str):
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError
    try:
        return make_url(url)
    except ArgumentError:
        raise ValueError(f"{url!r} is not a database URL: sqlite:///FILE (sqlite:////abs/path for an absolute one) "
                         "or postgresql://USER@HOST/DB") from None


def sqlite_path(url: str) -> Path | None:
    """The file of a sqlite:/// URL (None for another database)."""
    parsed = _parse(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database).expanduser()


def _engine(url: str):
    from sqlalchemy import create_engine, event
    parsed = _parse(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        if parsed.database in (None, "", ":memory:"):
            raise ValueError("SQLite needs a file (sqlite:///path/to/file.sqlite3): readings must outlive the process")
        path = Path(parsed.database).expanduser()
        if not path.parent.is_dir():
            # a directory that is not there is a mistyped path far more often than a wish for a new one
            raise ValueError(f"no directory {path.parent} for the database {path.name} (create it first)")
        engine = create_engine(parsed.set(database=str(path)),
                               connect_args={"timeout": 2.0, "check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "postgresql":
        if parsed.drivername == "postgresql":
            parsed = parsed.set(drivername="postgresql+psycopg")
        import importlib.util
        if importlib.util.find_spec("psycopg") is None:
            raise ValueError("PostgreSQL needs psycopg: pip install 'espat[postgresql]'")
        engine = create_engine(parsed, pool_pre_ping=True, pool_size=4, max_overflow=4,
                               connect_args={"connect_timeout": 5})
        event.listen(engine, "connect", _postgres_session)
        return engine
    raise ValueError(f"unsupported database {backend!r}: use sqlite:///FILE or postgresql://USER@HOST/DB")


def _operational_errors() -> tuple:
    from sqlalchemy.exc import DBAPIError
    return (DBAPIError,)


def token_digest(token: str) -> str:
    # A token is 32 random bytes: a fast hash is enough (nothing to brute-force), and checking costs microseconds.
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = _engine(url)
        self.backend = self.engine.dialect.name
        self._insert_sql_cache: dict = {}
        self._select_sql_cache: dict = {}

    def describe(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    def migrate(self) -> int:
        try:
            return migrate(self.engine)
        except _operational_errors() as exc:
            raise Unavailable(f"database {self.describe()} unavailable: {_first_line(exc)}") from None

    def close(self) -> None:
        self.engine.dispose()

    # --- writes -------------------------------------------------------------------------------------------------

    def store(self, batch: list, now: float | None = None) -> list:
        """Stores the readings of `batch` in one transaction. Returns, per reading, its StoredRow if it was new,
        None if the same (device, incarnation, boot, seq) was already stored (also earlier in this batch) with the
        same sampled fields (a repeat), or a Conflict saying what differs (the key names another reading)."""
        now = time.time() if now is None else now
        first_of_key: dict = {}
        for i, reading in enumerate(batch):
            first_of_key.setdefault(reading.key, i)
        rows = [r for i, r in enumerate(batch) if first_of_key[r.key] == i]
        params = []
        for r in rows:
            params += (r.device, r.incarnation, r.boot, r.seq, r.uptime_ms, r.dropped,
                       json.dumps(r.values, separators=(",", ":")), now, taken_at(now, r), r.age_ms,
                       None if r.diag is None else json.dumps(r.diag, separators=(",", ":")))
        try:
            with self.engine.begin() as conn:
                new = {(d, inc, b, s): i for i, d, inc, b, s in conn.exec_driver_sql(self._insert_sql(len(rows)),
                                                                                    tuple(params))}
                # a key already there: the stored reading decides whether this one is a repeat or a collision
                earlier = self._stored_by_key(conn, [r.key for r in rows if r.key not in new])
        except _operational_errors() as exc:
            raise Unavailable(f"database unavailable: {_first_line(exc)}") from None
        out = []
        for i, r in enumerate(batch):
            if first_of_key[r.key] == i and r.key in new:
                out.append(StoredRow(new[r.key], now, r))
                continue
            stored = earlier.get(r.key) or batch[first_of_key[r.key]]
            differs = sampled_difference(stored, r)
            out.append(Conflict(f"key {'/'.join(map(str, r.key))} names another reading: {differs}")
                       if differs else None)
        return out

    def _stored_by_key(self, conn, keys: list) -> dict:
        """The stored readings of `keys` (written out, as the INSERT is: Core's compile per call cost more than
        the lookup)."""
        if not keys:
            return {}
        params = tuple(part for key in keys for part in key)
        return {row.reading.key: row.reading for row in map(_row, conn.exec_driver_sql(self._select_sql(len(keys)),
                                                                                      params))}

    def _select_sql(self, n: int) -> str:
        sql = self._select_sql_cache.get(n)
        if sql is None:
            mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
            c = readings.c
            one = f"({c.device.name}={mark} AND {c.incarnation.name}={mark} AND {c.boot.name}={mark} AND " \
                  f"{c.seq.name}={mark})"
            sql = f"SELECT {','.join(col.name for col in readings.c)} FROM {readings.name} WHERE " + \
                  " OR ".join([one] * n)
            if len(self._select_sql_cache) > 64:
                self._select_sql_cache.clear()
            self._select_sql_cache[n] = sql
        return sql

    def _insert_sql(self, n: int) -> str:
        """INSERT of n readings that skips the ones already stored and returns the keys of the new ones: one
        statement per commit. Written out (not built by Core per batch) because Core's per-statement compile cost
        as much CPU as the rest of a reading's path; the table and column names come from schema.py."""
        sql = self._insert_sql_cache.get(n)
        if sql is None:
            mark = "?" if self.engine.dialect.paramstyle == "qmark" else "%s"
            c = readings.c
            columns = (c.device, c.incarnation, c.boot, c.seq, c.uptime_ms, c.dropped, c.values_json, c.received_at,
                       c.taken_at, c.age_ms, c.diag_json)
            row = "(" + ",".join([mark] * len(columns)) + ")"
            sql = (f"INSERT INTO {readings.name} ({','.join(col.name for col in columns)}) VALUES "
                   f"{','.join([row] * n)} ON CONFLICT ({c.device.name},{c.incarnation.name},{c.boot.name},"
                   f"{c.seq.name}) DO NOTHING RETURNING {c.id.name},{c.device.name},{c.incarnation.name},"
                   f"{c.boot.name},{c.seq.name}")
            if len(self._insert_sql_cache) > 64:
                self._insert_sql_cache.clear()
            self._insert_sql_cache[n] = sql
        return sql

    # --- tokens ---------------------------------------------------------------------------------------------------

    def set_token(self, device: str, token: str | None) -> None:
        digest = token_digest(token) if token else None
        with self.engine.begin() as conn:
            done = conn.execute(devices.update().where(devices.c.device == device).values(token_sha256=digest))
            if done.rowcount == 0:
                conn.execute(devices.insert().values(device=device, token_sha256=digest, created_at=time.time()))

    def token_digests(self) -> dict:
        """device -> hex SHA-256 of its token, for every device that has one."""
        from sqlalchemy import select
        with self.engine.connect() as conn:
            return dict(conn.execute(select(devices.c.device, devices.c.token_sha256)
                                     .where(devices.c.token_sha256.is_not(None))).all())

    # --- reads ----------------------------------------------------------------------------------------------------

    def ping(self) -> None:
        from sqlalchemy import select
        try:
            with self.engine.connect() as conn:
                conn.execute(select(readings.c.id).limit(1)).all()
        except _operational_errors() as exc:
            raise Unavailable(f"database unavailable: {_first_line(exc)}") from None

    def query(self, device: str | None = None, since: float | None = None, until: float | None = None,
              after_id: int | None = None, limit: int = 10_000, newest: bool = False) -> list:
        """Stored readings, oldest first (with `newest`, the last `limit` of them, still oldest first)."""
        from sqlalchemy import select
        q = select(readings)
        if device is not None:
            q = q.where(readings.c.device == device)
        if since is not None:
            q = q.where(readings.c.taken_at >= since)
        if until is not None:
            q = q.where(readings.c.taken_at < until)
        if after_id is not None:
            q = q.where(readings.c.id > after_id)
        q = q.order_by(readings.c.id.desc() if newest else readings.c.id).limit(limit)
        with self.engine.connect() as conn:
            rows = [_row(r) for r in conn.execute(q)]
        return rows[::-1] if newest else rows

    def last_id(self) -> int:
        from sqlalchemy import func, select
        with self.engine.connect() as conn:
            return conn.execute(select(func.max(readings.c.id))).scalar() or 0

    def count(self) -> int:
        from sqlalchemy import func, select
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(readings)).scalar()

    def device_names(self) -> list:
        from sqlalchemy import select
        with self.engine.connect() as conn:
            return [d for (d,) in conn.execute(select(readings.c.device).distinct().order_by(readings.c.device))]

    def gaps(self, device: str) -> list:
        """Per (incarnation, boot) of `device`, oldest first: the seqs stored, the ranges missing (seq counts from 1
        in each boot) and the board's own count of readings its ring dropped."""
        from sqlalchemy import func, select
        r = readings.c
        prev = func.lag(r.seq).over(partition_by=(r.incarnation, r.boot), order_by=r.seq).label("prev")
        inner = select(r.incarnation, r.boot, r.seq, prev).where(r.device == device).subquery()
        holes = (select(inner.c.incarnation, inner.c.boot, (func.coalesce(inner.c.prev, 0) + 1).label("first"),
                        (inner.c.seq - 1).label("last"))
                 .where(inner.c.seq > func.coalesce(inner.c.prev, 0) + 1)
                 .order_by(inner.c.incarnation, inner.c.boot, inner.c.seq))
        boots = (select(r.incarnation, r.boot, func.min(r.seq), func.max(r.seq), func.count(), func.max(r.dropped),
                        func.min(r.taken_at), func.max(r.taken_at))
                 .where(r.device == device).group_by(r.incarnation, r.boot).order_by(func.min(r.taken_at)))
        with self.engine.connect() as conn:
            missing: dict = {}
            for inc, boot, first, last in conn.execute(holes):
                missing.setdefault((inc, boot), []).append([int(first), int(last)])
            out = []
            for inc, boot, lo, hi, n, dropped, t0, t1 in conn.execute(boots):
                ranges = missing.get((inc, boot), [])
                out.append({"incarnation": inc, "boot": int(boot), "first_seq": int(lo), "last_seq": int(hi),
                            "stored": int(n), "missing": ranges,
                            "missing_count": sum(b - a + 1 for a, b in ranges), "dropped": int(dropped),
                            "first_at": iso_time(t0), "last_at": iso_time(t1)})
            return out


def _row(r) -> StoredRow:
    m = r._mapping
    age, diag = m["age_ms"], m["diag_json"]
    return StoredRow(m["id"], m["received_at"],
                     Reading(m["device"], m["incarnation"], int(m["boot"]), int(m["seq"]), int(m["uptime_ms"]),
                             json.loads(m["values_json"]), int(m["dropped"]), None if age is None else int(age),
                             None if diag is None else json.loads(diag)),
                     m["taken_at"] if m["taken_at"] is not None else m["received_at"])


def _first_line(exc: Exception) -> str:
    text = str(getattr(exc, "orig", None) or exc)
    return text.strip().splitlines()[0] if text.strip() else type(exc).__name__


def open_store(url: str | None, existing: bool = False) -> Store:
    """The store at `url` (the default SQLite file when None: its directory is made). With `existing`, a SQLite
    file that is not there is an error rather than a new, empty database."""
    if url is None:
        url = default_url()
        sqlite_path(url).parent.mkdir(parents=True, exist_ok=True)
    path = sqlite_path(url)
    if existing and path is not None and not path.is_file():
        raise ValueError(f"no database at {path}")
    return Store(url)
