"""The data layer on SQLite and PostgreSQL alike: migrations (idempotent, concurrent, a newer schema refused), one
commit for a batch telling new from repeat, and gaps computed by the database."""
import dataclasses
import threading

import pytest
from sqlalchemy import text

from espat.collect.reading import parse_reading
from espat.collect.schema import SCHEMA_VERSION, SchemaTooNew
from espat.collect.store import Store

from collect_http import body, reading


def make(**kw):
    return parse_reading(body(reading(**kw)))


def test_migrations_run_once_even_from_several_processes_at_once(db_url):
    stores = [Store(db_url) for _ in range(4)]
    applied = []
    threads = [threading.Thread(target=lambda s=s: applied.append(s.migrate())) for s in stores]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(applied) == [0, 0, 0, SCHEMA_VERSION]
    with stores[0].engine.connect() as conn:
        assert conn.execute(text("SELECT version FROM schema_version ORDER BY version")).scalars().all() == \
            list(range(1, SCHEMA_VERSION + 1))
    for s in stores:
        s.close()


def test_a_database_from_a_newer_espat_is_refused(db_url):
    store = Store(db_url)
    store.migrate()
    with store.engine.begin() as conn:
        conn.execute(text("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 0)"))
    with pytest.raises(SchemaTooNew, match="version 99"):
        store.migrate()
    store.close()


def test_one_batch_tells_new_from_repeat_and_collision_and_keeps_the_first(db_url):
    store = Store(db_url)
    store.migrate()
    a, b = make(seq=1), make(seq=2)
    a_changed = dataclasses.replace(a, values={"a0_c": 1.0})
    first = store.store([a, b, a_changed, dataclasses.replace(a, age_ms=900, dropped=4)])
    assert [type(r).__name__ for r in first] == ["StoredRow", "StoredRow", "Conflict", "NoneType"]
    assert first[2].reason == "key greenhouse-uno-1/1a2b3c4d/3/1 names another reading: readings.a0_c is 1.0, " \
                              "the stored reading's is 21.5"
    second = store.store([b, make(seq=3), dataclasses.replace(b, uptime_ms=5), dataclasses.replace(b, age_ms=7)])
    assert [type(r).__name__ for r in second] == ["NoneType", "StoredRow", "Conflict", "NoneType"]
    assert "uptime_ms is 5, the stored reading's is 60012" in second[2].reason
    rows = store.query()
    assert [(r.reading.seq, r.reading.values["a0_c"]) for r in rows] == [(1, 21.5), (2, 21.5), (3, 21.5)]
    assert [r.id for r in rows] == sorted(r.id for r in rows)
    store.close()


def test_gaps_per_incarnation_and_boot(db_url):
    store = Store(db_url)
    store.migrate()
    store.store([make(seq=s) for s in (2, 3, 7)] + [make(incarnation="0000beef", seq=1),
                                                       make(boot=4, seq=1, dropped=2), make(boot=4, seq=4, dropped=5)])
    store.store([make(device="elsewhere", seq=9)])
    gaps = {(g["incarnation"], g["boot"]): g for g in store.gaps("greenhouse-uno-1")}
    assert gaps[("1a2b3c4d", 3)]["missing"] == [[1, 1], [4, 6]]
    assert gaps[("0000beef", 3)]["missing"] == []
    assert (gaps[("1a2b3c4d", 4)]["missing"], gaps[("1a2b3c4d", 4)]["dropped"]) == ([[2, 3]], 5)
    assert store.device_names() == ["elsewhere", "greenhouse-uno-1"]
    store.close()


def _old_database(db_url: str) -> None:
    """The database an espat of schema version 1 left: SQLite from that version's own dump, PostgreSQL by that
    version's step (version 1's table definition is frozen in schema.py)."""
    from pathlib import Path
    if db_url.startswith("sqlite"):
        import sqlite3
        conn = sqlite3.connect(db_url[len("sqlite:///"):])
        conn.executescript((Path(__file__).parent / "data" / "collect_v1.sql").read_text())
        conn.close()
        return
    from espat.collect.schema import migrate
    old = Store(db_url)
    assert migrate(old.engine, upto=1) == 1
    with old.engine.begin() as conn:
        for seq, value in ((1, 21.0), (2, 22.0), (4, 24.0)):
            conn.execute(text("INSERT INTO readings (device, incarnation, boot, seq, uptime_ms, dropped, values_json,"
                              " received_at) VALUES ('greenhouse-uno-1', '1a2b3c4d', 3, :seq, 60012, 0, :v, "
                              "1796000000.0)"), {"seq": seq, "v": f'{{"a0_c":{value}}}'})
        conn.execute(text("INSERT INTO devices VALUES ('greenhouse-uno-1', :d, 0)"),
                     {"d": "e746252530cb4d48dc09abae3f5e3d5f83a9853625e9daa1d66869ad9b3bb4c0"})
    old.close()


def test_a_version_1_database_is_upgraded_and_keeps_working(db_url):
    _old_database(db_url)
    store = Store(db_url)
    assert store.migrate() == SCHEMA_VERSION - 1
    rows = store.query()
    assert [(r.reading.seq, r.reading.values["a0_c"], r.taken_at, r.reading.age_ms) for r in rows] == [
        (1, 21.0, 1796000000.0, None), (2, 22.0, 1796000000.0, None), (4, 24.0, 1796000000.0, None)]
    assert list(store.token_digests()) == ["greenhouse-uno-1"]
    # old readings keep their meaning: a resend of one is a repeat, a different one under its key a collision
    old = make(seq=2, values={"a0_c": 22.0})
    later = make(seq=5, values={"a0_c": 25.0})
    results = store.store([old, dataclasses.replace(old, uptime_ms=1), dataclasses.replace(later, age_ms=2000)],
                          now=1796000100.0)
    assert [type(r).__name__ for r in results] == ["NoneType", "Conflict", "StoredRow"]
    assert results[2].taken_at == 1796000098.0
    assert store.query(since=1796000050.0)[0].reading.seq == 5
    assert [g["missing"] for g in store.gaps("greenhouse-uno-1")] == [[[3, 3]]]
    assert store.migrate() == 0
    store.close()


def test_an_upgraded_database_has_the_tables_and_indexes_a_new_one_gets(db_url):
    """The upgrade steps and the live table definition (schema.py) describe one schema."""
    from sqlalchemy import inspect
    from espat.collect.schema import devices, readings
    _old_database(db_url)
    store = Store(db_url)
    store.migrate()
    found = inspect(store.engine)
    for table in (readings, devices):
        assert sorted(c["name"] for c in found.get_columns(table.name)) == sorted(c.name for c in table.c)
        indexes = {i["name"] for i in found.get_indexes(table.name)} - {"readings_key"}  # (PostgreSQL lists it)
        assert indexes == {i.name for i in table.indexes}
    store.close()
