"""`http get -o FILE` on what is not a plain file (a FIFO, a terminal device, a symlink, `-`), and the answers that
must never land on FILE (an HTTP error, a body no digest verified under --require-digest)."""
from __future__ import annotations

import base64
import contextlib
import hashlib
import os
import stat
import threading

import pytest

import inprocess
from simtools import ExactServer, PtyReader

BODY = bytes(range(256)) * 8


def espat(*args, timeout=60):
    """The command's output (bytes) and status, run in this process (tests/inprocess.py)."""
    return inprocess.espat(*args, timeout=timeout, text=False)


@contextlib.contextmanager
def joined(port: int):
    """A fake module on socket:// (it keeps its state between the CLI's runs), joined, example.com at `port`."""
    from esp8266sim import SimConfig, Simulator
    from espat.client import EspAt
    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", port)},
                             latency_scale=0)) as sim:
        url = sim.serve_tcp()
        with EspAt(url) as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
        yield url


def _site(status: bytes = b"200 OK", body: bytes = BODY, digest: bool = False) -> ExactServer:
    extra = b""
    if digest:
        extra = b"Repr-Digest: sha-256=:%s:\r\n" % base64.b64encode(hashlib.sha256(body).digest())
    return ExactServer(lambda request: b"HTTP/1.1 " + status + b"\r\nContent-Length: %d\r\n" % len(body) + extra
                       + b"Connection: close\r\n\r\n" + body)


@pytest.fixture
def module():
    site = _site()
    with joined(site.port) as url:
        yield url
    site.close()


def test_a_fifo_is_written_in_place_not_replaced(tmp_path, module):
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    got = bytearray()

    def read() -> None:
        with open(fifo, "rb") as f:         # blocks until espat opens it for writing
            got.extend(f.read())
    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    done = espat("-p", module, "http", "get", "http://example.com/", "-o", str(fifo))
    if reader.is_alive():                   # espat never opened it: let the reader go
        with open(fifo, "wb"):
            pass
    reader.join(10)
    assert done.returncode == 0, done.stderr
    assert os.path.exists(fifo) and not os.path.isfile(fifo), "the FIFO was replaced by a regular file"
    assert bytes(got) == BODY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe"]


def test_a_character_device_is_written_in_place(module):
    """A terminal (the slave side of a pty this test made) stands for /dev/null and every device: written to,
    never renamed over."""
    import tty
    master, slave = os.openpty()
    tty.setraw(slave)
    path = os.ttyname(slave)
    try:
        done = espat("-p", module, "http", "get", "http://example.com/", "-o", path)
        assert done.returncode == 0, done.stderr
        reader = PtyReader(master)
        reader.until(BODY[-64:])
        assert reader.seen == BODY
        assert not os.path.isfile(path)
    finally:
        os.close(slave)
        os.close(master)


def test_a_symlink_is_followed_and_its_target_replaced_whole(tmp_path, module):
    target = tmp_path / "data" / "page.bin"
    target.parent.mkdir()
    target.write_bytes(b"old")
    link = tmp_path / "latest"
    link.symlink_to(target)
    done = espat("-p", module, "http", "get", "http://example.com/", "-o", str(link))
    assert done.returncode == 0, done.stderr
    assert link.is_symlink() and os.readlink(link) == str(target)
    assert target.read_bytes() == BODY
    assert sorted(p.name for p in target.parent.iterdir()) == ["page.bin"]     # no temporary left beside it


def test_dash_is_stdout(module):
    done = espat("-p", module, "http", "get", "http://example.com/", "-o", "-")
    assert done.returncode == 0, done.stderr
    assert done.stdout == BODY
    assert b"written to -" in done.stderr


@pytest.mark.parametrize("status", [b"404 Not Found", b"500 Internal Server Error"])
def test_an_http_error_never_lands_on_the_file(tmp_path, status):
    out = tmp_path / "page.html"
    out.write_bytes(b"the good copy")
    site = _site(status, b"<h1>error page</h1>")
    try:
        with joined(site.port) as url:
            done = espat("-p", url, "http", "get", "http://example.com/", "-o", str(out))
    finally:
        site.close()
    assert done.returncode == 1
    assert out.read_bytes() == b"the good copy"
    assert b"not written to" in done.stderr and b"server answered " + status.split()[0] in done.stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == ["page.html"]


def test_an_http_error_writes_nothing_to_a_fifo(tmp_path):
    """A device or FIFO cannot be given back what was written: an answer that fails is never written there."""
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    site = _site(b"404 Not Found", b"<h1>error page</h1>")
    try:
        with joined(site.port) as url:
            done = espat("-p", url, "http", "get", "http://example.com/", "-o", str(fifo))
    finally:
        site.close()
    assert done.returncode == 1         # (had espat opened the FIFO to write, it would have blocked: no reader)
    assert b"server answered 404" in done.stderr
    assert stat.S_ISFIFO(os.stat(fifo).st_mode), "the FIFO was replaced"


@pytest.mark.slow
def test_the_result_says_whether_a_digest_verified_the_body(tmp_path):
    plain, signed = _site(), _site(digest=True)
    try:
        with joined(plain.port) as url:
            unverified = espat("-p", url, "http", "get", "http://example.com/", "-o", str(tmp_path / "page"))
            as_json = espat("-p", url, "--json", "http", "get", "http://example.com/", "-o", str(tmp_path / "page"))
            required = espat("-p", url, "http", "get", "http://example.com/", "-o", str(tmp_path / "x"),
                             "--require-digest")
        with joined(signed.port) as url:
            verified = espat("-p", url, "--json", "http", "get", "http://example.com/", "--require-digest")
    finally:
        plain.close()
        signed.close()
    assert unverified.returncode == 0 and b"not verified" in unverified.stderr
    import json
    assert json.loads(as_json.stdout)["digest_verified"] is False
    assert required.returncode == 5 and b"--require-digest" in required.stderr
    assert not (tmp_path / "x").exists()
    assert verified.returncode == 0, verified.stderr
    result = json.loads(verified.stdout)
    assert result["digest_verified"] is True and result["verified_by"] == ["Repr-Digest sha-256"]
