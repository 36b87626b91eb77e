"""What the command line says, and with which exit status, when things go wrong the way they do: the right cause
in the one line (Wi-Fi lost, the server's own 431, a busy port, a wrong rate, a slow module), and usage errors
before anything is sent."""
from __future__ import annotations

import contextlib
import json
import socket
import threading

import pytest

from inprocess import espat     # the command's output and status, run in this process (tests/inprocess.py)
from simtools import ExactServer, sim_url


@contextlib.contextmanager
def joined(port: int, faults=()):
    """A fake module on socket:// (it keeps its state between the CLI's runs), joined, example.com at `port`."""
    from esp8266sim import SimConfig, Simulator
    from espat.client import EspAt
    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", port)},
                             latency_scale=0, faults=list(faults))) as sim:
        url = sim.serve_tcp()
        with EspAt(url) as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
        yield url


def _answering(reply: bytes) -> ExactServer:
    return ExactServer(lambda request: reply)


CREATED = b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def test_json_after_http_post_is_the_output_format():
    site = _answering(CREATED)
    try:
        with joined(site.port) as url:
            done = espat("-p", url, "http", "post", "http://example.com/r", "--data", "a=1", "--json")
    finally:
        site.close()
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == 201
    assert site.requests[0].endswith(b"\r\n\r\na=1")


def test_a_url_with_a_space_is_a_usage_error_before_anything_is_sent():
    done = espat("-p", sim_url(), "http", "get", "http://exa mple.com/")
    assert done.returncode == 2, done.stderr
    assert "a space" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_wifi_join_help_shows_the_ssid_as_optional_and_a_missing_one_is_a_usage_error():
    shown = espat("wifi", "join", "--help", env={"ESPAT_WIFI_SSID": "HomeNet"})
    assert shown.returncode == 0
    assert "wifi join [OPTIONS] [SSID]\n" in shown.stdout
    missing = espat("-p", sim_url(), "wifi", "join", env={"ESPAT_WIFI_SSID": None})
    assert missing.returncode == 2 and "no SSID" in missing.stderr


@pytest.mark.parametrize("method, status", [("get", 5), ("post", 4)])
def test_a_garbled_status_line_is_damage_and_a_post_behind_it_may_have_been_delivered(method, status):
    site = _answering(b"HTTP/1.1 2\x800 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok")  # a flipped bit
    try:
        with joined(site.port) as url:
            extra = ["--data", "a=1"] if method == "post" else []
            done = espat("-p", url, "http", method, "http://example.com/r", *extra)
    finally:
        site.close()
    assert done.returncode == status, done.stderr
    assert "malformed" in done.stderr and len(done.stderr.strip().splitlines()) == 1


def test_wifi_lost_during_a_post_is_named_and_may_have_been_delivered():
    site = _answering(CREATED)
    try:
        with joined(site.port, faults=["wifi-lost@send=1"]) as url:
            done = espat("-p", url, "http", "post", "http://example.com/r", "--data", "a=1")
    finally:
        site.close()
    assert done.returncode == 4, done.stderr
    assert "lost Wi-Fi" in done.stderr and "server closed" not in done.stderr


def test_a_server_that_refuses_a_huge_header_has_its_answer_shown():
    """The server reads 8 KB of a 100 KB header, answers 431 and closes: the send then fails, the answer stands."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        conn, _ = listener.accept()
        with conn:
            got = b""
            while len(got) < 8192:
                data = conn.recv(8192 - len(got))
                if not data:
                    break
                got += data
            conn.sendall(b"HTTP/1.1 431 Request Header Fields Too Large\r\nContent-Length: 0\r\n"
                         b"Connection: close\r\n\r\n")
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        with joined(listener.getsockname()[1]) as url:
            done = espat("-p", url, "http", "get", "http://example.com/", "-H", "X-Big: " + "a" * 100_000)
    finally:
        listener.close()
        thread.join(10)
    assert done.returncode == 1, done.stderr
    assert done.stderr.strip().splitlines()[-1] == "Error: server answered 431 Request Header Fields Too Large"


def test_a_second_client_on_a_socket_fake_is_a_busy_port():
    from esp8266sim import SimConfig, Simulator
    from espat.client import EspAt
    with Simulator(SimConfig(latency_scale=0)) as sim:
        url = sim.serve_tcp()
        with EspAt(url) as first:
            first.sync()
            done = espat("-p", url, "at", "AT")
    assert done.returncode == 2, done.stderr
    assert "port busy" in done.stderr and "Errno" not in done.stderr


@pytest.mark.slow
def test_at_at_the_wrong_rate_points_at_detect():
    done = espat("-p", sim_url(baud=9600), "--baud", "115200", "at", "AT")
    assert done.returncode == 3, done.stderr
    assert "`espat detect`" in done.stderr


@pytest.mark.slow  # tests/README.md: the tiers (every answer waits out the 1 s bound)
def test_a_slow_module_is_waited_for_not_called_a_wrong_rate():
    """Every answer a second late (slow:1): commands take longer, and work."""
    done = espat("-p", sim_url(faults=["slow:1"]), "wifi", "status")
    assert done.returncode == 0, done.stderr
    assert "not joined" in done.stdout


@pytest.mark.slow  # tests/README.md: the tiers (every answer waits out the 1 s bound)
def test_detect_finds_a_slow_module_at_its_rate():
    done = espat("-p", sim_url(faults=["slow:1"]), "--json", "detect")
    assert done.returncode == 0, done.stderr
    found = json.loads(done.stdout)
    assert found["baud"] == 115200 and found["slow"] is True


@pytest.mark.slow
def test_without_timeout_only_a_server_that_stops_sending_ends_a_download(tmp_path, monkeypatch):
    """The default bound is lack of progress: a download that takes longer than it, bytes flowing all along, ends
    whole (in-process, with the bound shrunk from 30 s to 4 s; the server sends its 3,065 bytes 75 at a time,
    0.125 s apart, the last after 5 s: longer than the bound however fast the host, and each pause a 32nd of it,
    which a loaded host does not stretch past the bound as it did 0.2 s pauses past 0.9 s)."""
    import click.testing
    import espat.cli.http as cli_http
    from espat.cli.group import espat as group
    monkeypatch.setattr(cli_http, "IDLE_TIMEOUT", 4.0)
    body = b"x" * 3000
    site = ExactServer(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n"
                       + body, trickle=(75, 0.125))
    out = tmp_path / "body"
    import signal
    handlers = {signum: signal.getsignal(signum) for signum in (signal.SIGINT, signal.SIGTERM)}
    try:
        with joined(site.port) as url:
            done = click.testing.CliRunner().invoke(group, ["-p", url, "http", "get", "http://example.com/", "-o",
                                                            str(out)], prog_name="espat")
    finally:
        site.close()
        for signum, handler in handlers.items():       # the command took them, as a command does
            signal.signal(signum, handler)
    assert done.exit_code == 0, done.output
    assert out.read_bytes() == body
