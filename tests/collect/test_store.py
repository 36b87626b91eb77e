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
        assert conn.execute(text("SELECT version FROM schema_version")).scalars().all() == [SCHEMA_VERSION]
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


def test_one_batch_tells_new_from_repeat_and_keeps_the_first(db_url):
    store = Store(db_url)
    store.migrate()
    a, b = make(seq=1), make(seq=2)
    a_changed = dataclasses.replace(a, values={"a0_c": 1.0})
    first = store.store([a, b, a_changed])
    assert [r is not None for r in first] == [True, True, False]
    second = store.store([b, make(seq=3)])
    assert [r is not None for r in second] == [False, True]
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
