"""`espat collect` as a user runs it, in its own process: it stops on SIGTERM/Ctrl-C with every acknowledged reading
in the database, and a SIGKILL in the middle of a load loses none either (SQLite and PostgreSQL). Mistakes get one
line and their exit status; `espat collect token add` prints a token that then works."""
import http.client
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest

from espat.collect.store import Store

from collect_http import body, post, reading

CLI = [sys.executable, "-c", "from espat.cli import main; main()", "collect"]


class CollectorProcess:
    def __init__(self, db_url: str, *extra: str) -> None:
        self.proc = subprocess.Popen([*CLI, "--listen", "127.0.0.1:0", "--db", db_url, "--rate", "10000",
                                      "--burst", "10000", *extra], stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = self.proc.stderr.readline().decode()
        found = re.search(r"http://127\.0\.0\.1:(\d+)/", first)
        assert found, first + self.proc.stderr.read().decode()
        self.port = int(found.group(1))
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = []
        threading.Thread(target=self._drain, daemon=True).start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                if conn.getresponse().status == 200:
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError("collector did not answer /healthz: " + "".join(self.log))

    def _drain(self) -> None:
        for line in self.proc.stderr:
            self.log.append(line.decode())

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout)


class Load:
    """Devices posting readings back to back on keep-alive connections; keeps the key of every reading the
    collector acknowledged (201 or 200)."""

    def __init__(self, url: str, devices: int = 6) -> None:
        self.port = int(url.rsplit(":", 1)[1])
        self.acked: list = []
        self.failures = 0
        self.lock = threading.Lock()
        self.stop = threading.Event()
        self.threads = [threading.Thread(target=self._device, args=(f"load-{n}",)) for n in range(devices)]
        for t in self.threads:
            t.start()

    def _device(self, name: str) -> None:
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        seq = 1
        while not self.stop.is_set():
            try:
                conn.request("POST", "/api/readings", body=body(reading(device=name, seq=seq)))
                response = conn.getresponse()
                response.read()
                status = response.status
            except (OSError, http.client.HTTPException):
                with self.lock:
                    self.failures += 1
                conn.close()
                if self.stop.wait(0.05):
                    break
                continue
            if status in (200, 201):
                with self.lock:
                    self.acked.append((name, seq))
                seq += 1

    def count(self) -> int:
        with self.lock:
            return len(self.acked)

    def wait_for(self, n: int, limit: float = 60) -> None:
        deadline = time.monotonic() + limit
        while self.count() < n and time.monotonic() < deadline:
            time.sleep(0.02)
        assert self.count() >= n, f"only {self.count()} readings acknowledged"

    def finish(self) -> None:
        self.stop.set()
        for t in self.threads:
            t.join(30)


def keys_in(db_url: str) -> list:
    store = Store(db_url)
    try:
        return [r.reading.key[0:1] + r.reading.key[3:] for r in store.query(limit=100_000)]
    finally:
        store.close()


@pytest.mark.parametrize("sig, code", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_stopped_by_a_signal_mid_load_it_keeps_every_acknowledged_reading(db_url, sig, code):
    collector = CollectorProcess(db_url)
    load = Load(collector.url)
    load.wait_for(200)
    assert load.failures == 0
    collector.proc.send_signal(sig)
    assert collector.wait() == code, "".join(collector.log)
    load.finish()
    assert load.failures > 0          # the load really was cut off by the stop
    stored = keys_in(db_url)
    assert len(stored) == len(set(stored))
    assert set(load.acked) <= set(stored)
    assert "every acknowledged reading is in the database" in "".join(collector.log)


def test_sigkill_mid_load_loses_no_acknowledged_reading(db_url):
    collector = CollectorProcess(db_url)
    load = Load(collector.url)
    load.wait_for(300)
    assert load.failures == 0
    collector.proc.send_signal(signal.SIGKILL)
    assert collector.wait() == -signal.SIGKILL
    load.finish()
    assert load.failures > 0
    acked = set(load.acked)
    stored = keys_in(db_url)
    assert len(stored) == len(set(stored))
    assert acked <= set(stored), f"lost: {sorted(acked - set(stored))[:10]}"
    # and it starts again on the same database, taking what the boards resend as repeats
    again = CollectorProcess(db_url)
    try:
        name, seq = max(acked)
        assert post(again.url, reading(device=name, seq=seq)).status == 200
    finally:
        again.proc.send_signal(signal.SIGTERM)
        again.wait()


def test_a_busy_port_is_exit_2_in_one_line(tmp_path):
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        done = subprocess.run([*CLI, "--listen", f"127.0.0.1:{port}", "--db", f"sqlite:///{tmp_path / 'c.db'}"],
                              capture_output=True, text=True, timeout=60)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines()[-1].startswith("Error: cannot listen on 127.0.0.1:")
    assert "Traceback" not in done.stderr


@pytest.mark.parametrize("db, words", [
    ("mysql://x@localhost/db", "unsupported database 'mysql'"),
    ("postgresql://nobody@127.0.0.1:1/none", "unavailable"),
    ("sqlite://", "SQLite needs a file"),
])
def test_a_bad_database_is_exit_1_in_one_line(db, words):
    done = subprocess.run([*CLI, "--listen", "127.0.0.1:0", "--db", db], capture_output=True, text=True, timeout=60)
    assert done.returncode == 1, done.stderr
    assert words in done.stderr and "Traceback" not in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_token_add_prints_a_token_that_the_collector_then_requires(db_url):
    done = subprocess.run([*CLI, "token", "add", "greenhouse-uno-1", "--db", db_url],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    token = done.stdout.strip()
    assert re.fullmatch(r"[A-Za-z0-9_-]{32}", token)
    assert token not in repr(Store(db_url).token_digests())
    listed = subprocess.run([*CLI, "token", "list", "--db", db_url], capture_output=True, text=True, timeout=60)
    assert listed.stdout.split() == ["greenhouse-uno-1"]
    collector = CollectorProcess(db_url)
    try:
        assert post(collector.url, reading()).status == 401
        assert post(collector.url, reading(), {"Authorization": f"Bearer {token}"}).status == 201
    finally:
        collector.proc.send_signal(signal.SIGTERM)
        collector.wait()
    bad = subprocess.run([*CLI, "token", "add", "bad name!", "--db", db_url], capture_output=True, text=True)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


def test_worker_processes_share_the_database_and_stop_together(db_url):
    collector = CollectorProcess(db_url, "--workers", "2")
    load = Load(collector.url, devices=4)
    load.wait_for(200)
    assert load.failures == 0
    collector.proc.send_signal(signal.SIGTERM)
    assert collector.wait() == 143, "".join(collector.log)
    load.finish()
    stored = keys_in(db_url)
    assert len(stored) == len(set(stored)) and set(load.acked) <= set(stored)
    assert "".join(collector.log).count("Application startup complete") == 2


def _children(pid: int) -> list:
    """Live (not zombie) processes whose parent is `pid`."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == pid and fields[0] != "Z":
                found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def test_workers_end_with_their_parent_and_the_port_is_free_again(tmp_path):
    """A SIGKILL of the parent of `--workers 2` used to leave both workers serving, and the next start failed
    "address in use"."""
    url = f"sqlite:///{tmp_path / 'c.sqlite3'}"
    collector = CollectorProcess(url, "--workers", "2")
    workers = []
    try:
        deadline = time.monotonic() + 60
        while "".join(collector.log).count("Application startup complete") < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        workers = _children(collector.proc.pid)
        assert len(workers) >= 2, "".join(collector.log)
        assert post(collector.url, reading(seq=1)).status == 201
        collector.proc.send_signal(signal.SIGKILL)
        assert collector.wait() == -signal.SIGKILL
        deadline = time.monotonic() + 60
        while any(_alive(w) for w in workers) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not any(_alive(w) for w in workers), "workers still running after their parent was killed"
        again = CollectorProcess(url, "--listen", f"127.0.0.1:{collector.port}")
        try:
            assert again.port == collector.port
            assert post(again.url, reading(seq=1)).status == 200      # the same database, the same port
        finally:
            again.proc.send_signal(signal.SIGTERM)
            again.wait()
    finally:
        for w in workers:
            if _alive(w):
                os.kill(w, signal.SIGKILL)
