"""How many readings a second `espat collect` takes, with nothing lost or doubled: 50 devices x 200 readings each.

The devices are asyncio clients posting the reporter's JSON straight over HTTP/1.1 keep-alive, not fake ESP-01s:
a fake module paces every byte at the board's baud rate, so 10,000 readings through 50 of them would measure the
simulator's wire, not the collector (tests/collect/test_whole_path.py runs the real firmware through the fake into
the collector). The faults a board's link brings are injected on the client side, each counted when it fires:
  lost answer  the device sends its reading and drops the connection before the answer: it must send it again
               (the collector answers 200 if the first one was stored),
  repeat       an acknowledged reading sent once more, as a board does when the answer was garbled (must be 200),
  malformed    a damaged body between the good ones (must be 400, and touch nothing),
  reconnect    a new TCP connection before a reading.
Afterwards the database must hold every reading exactly once. The collector runs as `espat collect` in its own
process (the load uses the machine's other core), on SQLite, then on PostgreSQL with 1, 2 and 4 worker processes.
Goal (issue 12): >= 2,000 readings/s on SQLite on this machine (10,000 devices reporting every 5 s). On a shared
machine the wall-clock figure moves with everyone else's load, so the collector's CPU time per reading is printed
too, with the readings a second that one core of its own would take at that cost.

    python bench/collector.py [--pg postgresql://USER:PASS@HOST/DB] [--devices 50] [--readings 200]
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "..", p) for p in ("host", "simulator")]

PG_DEFAULT = os.environ.get("ESPAT_TEST_PG", "postgresql://espat:espat@127.0.0.1:5432/espat_test")
FAULTS = {"lost_answer": 0.03, "repeat": 0.03, "malformed": 0.01, "reconnect": 0.02}


def body(device: str, incarnation: str, seq: int) -> bytes:
    return json.dumps({"device": device, "incarnation": incarnation, "boot": 1, "seq": seq, "uptime_ms": seq * 5000,
                       "readings": {"a0_c": round(20 + (seq % 50) / 10, 2), "chip_c": 31.5, "vcc_mv": 4980},
                       "dropped": 0}, separators=(",", ":")).encode()


def request(payload: bytes) -> bytes:
    return (b"POST /api/readings HTTP/1.1\r\nHost: collector\r\nContent-Type: application/json\r\n"
            b"Content-Length: %d\r\n\r\n" % len(payload)) + payload


async def read_answer(reader) -> int:
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = int(re.search(rb"(?i)content-length: *(\d+)", head).group(1))
    await reader.readexactly(length)
    return status


class Device:
    def __init__(self, port: int, name: str, readings: int, counts: dict, rng: random.Random) -> None:
        self.port, self.name, self.readings, self.counts, self.rng = port, name, readings, counts, rng
        self.incarnation = f"{rng.getrandbits(32):08x}"
        self.conn = None

    async def _open(self):
        if self.conn is None:
            self.conn = await asyncio.open_connection("127.0.0.1", self.port)
        return self.conn

    def _close(self) -> None:
        if self.conn is not None:
            self.conn[1].close()
            self.conn = None

    async def post(self, payload: bytes) -> int:
        while True:
            reader, writer = await self._open()
            try:
                writer.write(request(payload))
                await writer.drain()
                return await read_answer(reader)
            except (OSError, asyncio.IncompleteReadError):
                self.counts["reconnected_after_error"] += 1
                self._close()
                await asyncio.sleep(0.05)

    async def run(self) -> None:
        for seq in range(1, self.readings + 1):
            payload = body(self.name, self.incarnation, seq)
            roll = self.rng.random
            if roll() < FAULTS["reconnect"]:
                self._close()
                self.counts["reconnect"] += 1
            if roll() < FAULTS["malformed"]:
                status = await self.post(payload[: len(payload) // 2])
                assert status == 400, status
                self.counts["malformed"] += 1
            if roll() < FAULTS["lost_answer"]:
                reader, writer = await self._open()
                writer.write(request(payload))
                await writer.drain()
                self._close()           # the answer never reaches the board
                self.counts["lost_answer"] += 1
            while True:
                status = await self.post(payload)
                if status in (200, 201):
                    break
                assert status in (429, 503), status
                self.counts[f"retried_{status}"] += 1
                await asyncio.sleep(0.2)
            self.counts[str(status)] += 1
            if roll() < FAULTS["repeat"]:
                again = await self.post(payload)
                assert again == 200, again
                self.counts["repeat"] += 1
        self._close()


async def load(port: int, devices: int, readings: int, seed: int) -> tuple:
    from collections import Counter
    counts: Counter = Counter()
    rng = random.Random(seed)
    fleet = [Device(port, f"bench-{n:03d}", readings, counts, random.Random(rng.random())) for n in range(devices)]
    start = time.perf_counter()
    await asyncio.gather(*(d.run() for d in fleet))
    return time.perf_counter() - start, counts, {d.name: d.incarnation for d in fleet}


def start_collector(db_url: str, workers: int) -> tuple:
    proc = subprocess.Popen([sys.executable, "-c", "from espat.cli import main; main()", "collect",
                             "--listen", "127.0.0.1:0", "--db", db_url, "--workers", str(workers),
                             "--rate", "100000", "--burst", "100000"],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    line = proc.stderr.readline().decode()
    found = re.search(r"http://127\.0\.0\.1:(\d+)/", line)
    if not found:
        raise SystemExit(f"collector did not start: {line}{proc.stderr.read().decode()}")
    port = int(found.group(1))
    import threading
    threading.Thread(target=proc.stderr.read, daemon=True).start()    # its log, unread
    import http.client
    deadline = time.monotonic() + 60
    while True:
        try:
            conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
            conn.request("GET", "/readyz")
            if conn.getresponse().status == 200:
                break
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise SystemExit("collector not ready")
        time.sleep(0.1)
    return proc, port


def cpu_seconds(pid: int) -> float:
    """User+system CPU of a process and its children (worker processes), from /proc."""
    total = 0.0
    tick = os.sysconf("SC_CLK_TCK")
    pids = [pid]
    try:
        children = open(f"/proc/{pid}/task/{pid}/children").read().split()
        pids += [int(c) for c in children]
    except OSError:
        pass
    for p in pids:
        try:
            fields = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += (int(fields[11]) + int(fields[12])) / tick
    return total


def check_database(db_url: str, devices: int, readings: int, incarnations: dict) -> tuple:
    from espat_collect.store import Store
    store = Store(db_url)
    rows = store.query(limit=devices * readings * 2)
    store.close()
    keys = [r.reading.key for r in rows]
    expected = {(name, inc, 1, seq) for name, inc in incarnations.items() for seq in range(1, readings + 1)}
    lost = len(expected - set(keys))
    doubled = len(keys) - len(set(keys))
    extra = len(set(keys) - expected)
    return len(keys), lost, doubled, extra


def run(label: str, db_url: str, workers: int, devices: int, readings: int) -> float:
    try:
        uvloop = __import__("uvloop")
        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
    except ImportError:
        pass
    proc, port = start_collector(db_url, workers)
    try:
        cpu0 = cpu_seconds(proc.pid)
        elapsed, counts, incarnations = asyncio.run(load(port, devices, readings, seed=12))
        cpu = cpu_seconds(proc.pid) - cpu0
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(60)
    n, lost, doubled, extra = check_database(db_url, devices, readings, incarnations)
    total = devices * readings
    rate = total / elapsed
    faults = ", ".join(f"{k} {counts[k]}" for k in ("lost_answer", "repeat", "malformed", "reconnect"))
    print(f"{label:<26} {rate:8.0f} readings/s, collector CPU {cpu / total * 1e6:.0f} us/reading "
          f"(= {total / cpu:.0f}/s per core it has to itself) "
          f"({total} in {elapsed:.2f} s; stored {n}, lost {lost}, "
          f"duplicated {doubled}, unexpected {extra}; 201 {counts['201']}, 200 {counts['200']}; faults: {faults})",
          flush=True)
    if lost or doubled or extra or n != total:
        raise SystemExit(f"{label}: the database does not hold every reading exactly once")
    return rate, total / cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pg", default=PG_DEFAULT, help="PostgreSQL to create a scratch schema in")
    parser.add_argument("--devices", type=int, default=50)
    parser.add_argument("--readings", type=int, default=200)
    parser.add_argument("--workers", default="1,2,4", help="PostgreSQL worker processes to try")
    args = parser.parse_args()
    print(f"{args.devices} devices x {args.readings} readings, faults {FAULTS} (rates per reading), "
          f"{os.cpu_count()} cores")
    with tempfile.TemporaryDirectory() as tmp:
        sqlite, sqlite_core = run("SQLite (WAL, 1 process)", f"sqlite:///{tmp}/bench.sqlite3", 1, args.devices, args.readings)
    import psycopg
    schema = f"bench_{uuid.uuid4().hex[:10]}"
    admin = psycopg.connect(args.pg, autocommit=True)
    try:
        for workers in [int(w) for w in args.workers.split(",")]:
            name = f"{schema}_{workers}"
            admin.execute(f"CREATE SCHEMA {name}")
            url = f"{args.pg}{'&' if '?' in args.pg else '?'}options=-csearch_path%3D{name}"
            run(f"PostgreSQL, {workers} worker(s)", url, workers, args.devices, args.readings)
            admin.execute(f"DROP SCHEMA {name} CASCADE")
    finally:
        admin.close()
    load = os.getloadavg()[0]
    print(f"SQLite vs the 2,000 readings/s goal: {sqlite / 2000:.2f} measured, {sqlite_core / 2000:.2f} from CPU per "
          f"reading (load average {load:.1f} on {os.cpu_count()} cores: others' work shares them)")


if __name__ == "__main__":
    main()
