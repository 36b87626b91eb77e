"""The whole path: the real reporter firmware (host-native build against the Arduino shim, tests/firmware/fw_native.py)
drives the fake ESP-01 at 9600 baud, which carries its posts to `espat collect` on SQLite and on PostgreSQL, with
faults on at every layer: the module resets mid-send, the server closes the link, Wi-Fi drops, the module is busy;
the collector's database is locked for a while (503) and the device goes over its rate (429). Each fault is shown
to have fired, and the database ends holding every reading exactly once, with the board's token checked."""
import re
import sqlite3
import sys
import threading
import time
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "firmware"))

from esp8266sim import SimConfig, Simulator  # noqa: E402

from espat_collect.app import Settings  # noqa: E402
from espat_collect.server import serve_in_thread  # noqa: E402
from espat_collect.store import Store  # noqa: E402

from fw_native import SETTINGS, Run, build  # noqa: E402

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

UNTIL_SEQ = 8
CLOCK_SCALE = 2.0
TOKEN = "fw-token-Zq8v2LrT0x"
FAULTS = ["reset@send=2", "remote-close@send=4", "wifi-lost@send=6", "busy:3@cmd=30"]


class DatabaseOutage:
    """Holds the database's write lock from the third reading stored until the collector has refused a post with
    503 (proof the fault fired) and a few seconds have passed."""

    def __init__(self, db_url: str, store: Store) -> None:
        self.db_url, self.store = db_url, store
        self.fired = threading.Event()
        self.done = threading.Event()
        threading.Thread(target=self._run, daemon=True).start()

    def _lock(self):
        if self.db_url.startswith("sqlite"):
            conn = sqlite3.connect(self.db_url[len("sqlite:///"):], isolation_level=None)
            conn.execute("BEGIN EXCLUSIVE")
            return lambda: (conn.execute("ROLLBACK"), conn.close())
        import psycopg
        from sqlalchemy.engine import make_url
        conn = psycopg.connect(make_url(self.db_url).set(drivername="postgresql").render_as_string(False))
        conn.execute("LOCK TABLE readings IN ACCESS EXCLUSIVE MODE")
        return lambda: (conn.rollback(), conn.close())

    def _run(self) -> None:
        deadline = time.monotonic() + 120
        while self.store.count() < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        release = self._lock()
        try:
            self.fired.wait(60)
            time.sleep(3)
        finally:
            release()
            self.done.set()


def test_reporter_firmware_through_the_fake_module_into_the_collector(db_url, tmp_path, caplog):
    # a ring of 32 readings, so that the faults' back-offs never make it overflow: every reading must arrive
    binary = build("reporter_softserial", {**SETTINGS, "ESPAT_TOKEN": TOKEN}, ("-DREPORTER_RING=32",))
    setup = Store(db_url)
    setup.migrate()
    setup.set_token("bench-7", TOKEN)
    # a rate limit at the board's pace and no burst: its catching up after the outage meets 429
    with serve_in_thread(Settings(db_url, rate=1.0, burst=1)) as collector:
        outage = DatabaseOutage(db_url, setup)
        import logging
        caplog.set_level(logging.INFO, logger="espat.collect")
        seen_503 = threading.Thread(target=lambda: _watch(caplog, "refused 503", outage.fired), daemon=True)
        seen_503.start()
        config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", collector.port)},
                           baud=9600, latency_scale=0.1, faults=FAULTS, seed=3)
        with Simulator(config) as sim:
            esp = sim.serve_tcp().split("//", 1)[1]
            with Run(binary, esp, tmp_path, clock_scale=CLOCK_SCALE) as program:
                def done():
                    seqs = {r.reading.seq for r in setup.query(device="bench-7")} if outage.done.is_set() else set()
                    return set(range(1, UNTIL_SEQ + 1)) <= seqs and b"post status 429" in program.usb()
                program.wait_until(done, 150)
                status, err, usb = program.stop()
        rows = setup.query(limit=10_000)
        refusals = [r.getMessage() for r in caplog.records if r.getMessage().startswith("refused")]
    setup.close()
    text = usb.decode(errors="replace")
    assert status is None, f"the reporter stopped ({status}): {err}"
    keys = [r.reading.key for r in rows]
    seqs = sorted(r.reading.seq for r in rows)
    assert len(keys) == len(set(keys)), f"stored twice: {keys}"
    assert set(range(1, UNTIL_SEQ + 1)) <= set(seqs), f"missing: {seqs}\n{text}"
    assert seqs == list(range(1, len(seqs) + 1)), f"a gap: {seqs}"
    incarnations = {r.reading.incarnation for r in rows}
    assert len(incarnations) == 1 and {r.reading.device for r in rows} == {"bench-7"}
    assert {r.reading.boot for r in rows} == {1} and {r.reading.dropped for r in rows} == {0}
    # each fault fired: the module's faults by the board's own account, the collector's by its log
    for evidence in (b"post status 8000", b"post status 9000", b"wifi joined 1", b"post status 503",
                     b"post status 429"):
        assert evidence in usb, f"{evidence!r} not on the board's USB:\n{text}"
    assert any(m.startswith("refused 503") for m in refusals) and any(m.startswith("refused 429") for m in refusals)
    assert not [m for m in refusals if m.startswith(("refused 400", "refused 401", "refused 403", "refused 422"))]


def _watch(caplog, prefix: str, flag: threading.Event) -> None:
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline and not flag.is_set():
        if any(r.getMessage().startswith(prefix) for r in list(caplog.records)):
            flag.set()
        time.sleep(0.05)


def test_reporter_in_the_avr_emulator_posts_into_the_collector(tmp_path, tmp_path_factory):
    """The same firmware compiled for the Uno (avr-gcc, as PlatformIO builds it) and run in simavr: its posts land
    in the collector exactly once through a server close and a module reset, with its bearer token."""
    import os

    from builds import build_envs
    from unosim import Uno
    build_envs(tmp_path_factory, ["reporter_softserial"], {**os.environ, **SETTINGS, "ESPAT_TOKEN": TOKEN}, tmp_path)
    db_url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    store = Store(db_url)
    store.migrate()
    store.set_token("bench-7", TOKEN)
    with serve_in_thread(Settings(db_url)) as collector:
        config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", collector.port)},
                           baud=9600, latency_scale=0.1, faults=["remote-close@send=2", "reset@send=4"])
        with Simulator(config) as sim:
            esp = sim.serve_tcp().split("//", 1)[1]
            with Uno.sketch(tmp_path / "reporter_softserial" / "firmware.elf", esp=esp, wiring="softserial",
                            esp_baud=9600, eeprom=tmp_path / "eeprom.bin") as uno:
                deadline = time.monotonic() + 240
                while time.monotonic() < deadline and {r.reading.seq for r in store.query()} < {1, 2, 3, 4}:
                    time.sleep(0.25)
                usb = uno.output
    rows = store.query()
    store.close()
    keys = [r.reading.key for r in rows]
    assert len(keys) == len(set(keys))
    assert {1, 2, 3, 4} <= {r.reading.seq for r in rows}, usb
    assert sorted(r.reading.seq for r in rows) == list(range(1, len(rows) + 1))
    # the faults fired: posts that did not end in an answer (which status each gets depends on where the emulated
    # board was when its link went: under load simavr runs slower than the wire)
    outcomes = [int(v) for v in re.findall(rb"post status (\d+)", usb)]
    assert [o for o in outcomes if o >= 1000], usb
