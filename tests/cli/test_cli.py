"""The espat command line: exit statuses, --json, one-line errors, passwords never traced."""
from __future__ import annotations

import contextlib
import json
import os
import re
import subprocess
import sys
import threading

import pytest

from inprocess import espat     # the command's output and status, run in this process (tests/inprocess.py)
from simtools import ExactServer, PtyReader, sim_url

# a real `espat` process, where the process is what a test checks (a terminal, piped stdin, a server it runs)
ESPAT = [sys.executable, "-m", "espat.cli"]


@pytest.fixture
def server():
    s = ExactServer(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
    yield s
    s.close()


def test_at_and_json():
    done = espat("-p", sim_url(), "--json", "at", "AT+GMR", "AT+CWMODE_CUR?")
    assert done.returncode == 0, done.stderr
    answers = json.loads(done.stdout)
    assert answers[0]["command"] == "AT+GMR" and answers[0]["result"] == "Ok"
    assert any("CWMODE_CUR" in line for line in answers[1]["lines"])


def test_at_shows_the_module_words_and_never_a_typed_password():
    done = espat("-p", sim_url(), "-v", "at", "ATE1", 'AT+CWJAP_CUR="HomeNet","s3cr3t99"', "AT+CIPSTATUS")
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == ["> ATE1", "  OK", '> AT+CWJAP_CUR="HomeNet","***"', "  WIFI CONNECTED",
                                        "  WIFI GOT IP", "  OK", "> AT+CIPSTATUS", "  STATUS:2", "  OK"]
    assert "s3cr3t99" not in done.stdout + done.stderr


def test_module_refusal_is_status_1():
    done = espat("-p", sim_url(), "at", "AT+FOO")
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == ["Error: module refused FOO"]


def test_detect_json():
    done = espat("-p", sim_url(baud=9600), "--json", "detect")
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["baud"] == 9600 and result["dialect"] == "1.7"


@pytest.mark.parametrize("dialect, join", [("1", "CWJAP_CUR"), ("2", "CWJAP")])
def test_join_with_password_file_never_traces_the_password(tmp_path, dialect, join):
    secret = tmp_path / "pw"
    secret.write_text("s3cr3t99\n")
    done = espat("-p", sim_url(dialect=dialect), "-v", "wifi", "join", "HomeNet", "--password-file", str(secret))
    assert done.returncode == 0, done.stderr
    assert "joined 'HomeNet'" in done.stdout
    assert f'AT+{join}="HomeNet","***"' in done.stderr
    assert "s3cr3t99" not in done.stderr + done.stdout


def test_wrong_password_from_environment_is_status_1():
    done = espat("-p", sim_url(), "wifi", "join", "HomeNet", env={"ESPAT_WIFI_PASS": "not-it-at-all"})
    assert done.returncode == 1
    assert "wrong password" in done.stderr
    assert "not-it-at-all" not in done.stderr


def test_timeout_is_status_3():
    done = espat("-p", sim_url(faults=["slow:5@cmd=1"]), "--timeout", "0.5", "at", "AT")
    assert done.returncode == 3, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_at_is_not_answered_by_the_error_of_the_line_end_sent_before_it():
    """`espat at` ends a half-typed line with a bare CR LF first; a slow module's ERROR for it comes after the
    drain and must not be read as the module refusing AT."""
    done = espat("-p", sim_url(faults=["slow:0.5"]), "at", "AT")
    assert done.returncode == 0, done.stderr
    assert "ERROR" not in done.stdout


def test_http_get_that_fails_leaves_no_file(tmp_path, server):
    out = tmp_path / "body.bin"
    done = espat("-p", sim_url(server), "http", "get", "http://example.com/x", "-o", str(out))
    assert done.returncode == 1                     # the fake module has not joined a network yet
    assert "no ip" in done.stderr
    assert not out.exists()


@pytest.mark.parametrize("args, status, words", [
    (["-p", "/dev/ttyNOPE0", "at", "AT"], 2, "cannot open /dev/ttyNOPE0"),
    (["at", "AT"], 2, "no port"),
    (["-p", "sim://?colour=red", "at", "AT"], 2, "does not know colour"),
    (["-p", "sim://", "baud", "12345"], 2, "rate 12345 is not one of"),
    (["-p", "sim://", "http", "get", "https://example.com/"], 2, "only http://"),
    (["-p", "sim://", "http", "get", "http://example.com/", "-H", "no colon"], 2, "is not 'Name: value'"),
    (["-p", "sim://", "http", "post", "http://example.com/", "--json-body", "{bad"], 2, "not valid JSON"),
    (["-p", "sim://", "at", "AT\r\nAT+RST"], 2, "one line"),
    (["--baud", "7", "at", "AT"], 2, "Invalid value for '--baud'"),
])
def test_bad_input_is_one_line(args, status, words):
    done = espat(*args)
    assert done.returncode == status, done.stderr
    assert words in done.stderr
    assert "Traceback" not in done.stderr
    assert len([line for line in done.stderr.splitlines() if line.strip()]) <= 3   # click adds a usage hint


def test_sim_subcommand_delegates():
    done = espat("sim", "--fault", "nonsense")
    assert done.returncode == 2
    assert done.stderr.startswith("espat sim: fault 'nonsense'")


@pytest.mark.slow
def test_demo_runs_the_whole_path():
    done = espat("demo", timeout=120)
    assert done.returncode == 0, done.stderr
    for words in ("[1] detect", "[3] join", "=> HTTP 200 OK", "=> HTTP 201 Created",
                  '-> AT+CWJAP_CUR="espat-demo","***"', "bytes of data for link 0", "<- 0,CLOSED\\r\\n   # link 0 closed"):
        assert words in done.stdout
    # the module counts back exactly the bytes each CIPSEND announced (the GET, then the collector's POST)
    announced = re.findall(r"-> AT\+CIPSEND=0,(\d+)\\r\\n", done.stdout)
    counted = re.findall(r"<- \\r\\nRecv (\d+) bytes\\r\\n", done.stdout)
    assert len(announced) == 2 and counted == announced, (announced, counted)
    assert "demo-passphrase" not in done.stdout + done.stderr


def test_bridge_serves_rfc2217(tmp_path):
    from espat.tools.bridge import serve
    from espat.client import EspAt
    stop = threading.Event()
    bound = []
    ready = threading.Event()
    thread = threading.Thread(target=serve, args=(sim_url(), 115200, "127.0.0.1", 0),
                              kwargs={"ready": lambda addr: (bound.append(addr), ready.set()), "stop": stop},
                              daemon=True)
    thread.start()
    assert ready.wait(10)
    try:
        with EspAt(f"rfc2217://127.0.0.1:{bound[0][1]}") as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
            assert esp.station().ssid == "HomeNet"
    finally:
        stop.set()
        thread.join(10)


def test_doctor_says_what_to_fix_for_softserial():
    done = espat("-p", sim_url(), "--json", "doctor")
    assert done.returncode == 1, done.stderr          # a script can tell there is something to fix
    assert json.loads(done.stderr) == {"error": "2 things to fix (the [ FIX] lines above)", "exit_code": 1}
    findings = {f["finding"] for f in json.loads(done.stdout)}
    assert any("answers AT at 115200 baud" in f for f in findings)
    assert any("baud 9600 --persist" in f for f in findings)
    assert any("not joined to Wi-Fi" in f for f in findings)


def test_doctor_at_9600_needs_no_baud_fix():
    done = espat("-p", sim_url(baud=9600), "doctor")
    assert done.returncode == 1, done.stderr          # not joined: the one thing to fix
    assert done.stdout.count("[ FIX]") == 1 and "not joined to Wi-Fi" in done.stdout
    assert "--persist" not in done.stdout
    assert "[  OK] answers AT at 9600 baud" in done.stdout


def test_client_through_the_pty_front_end():
    from esp8266sim import SimConfig, Simulator
    from espat.client import EspAt
    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t99"}, latency_scale=0)) as sim:
        path = sim.serve_pty()
        with EspAt(path, 115200) as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
            assert esp.addresses()["STAIP"] == "192.168.1.23"


def test_term_history_hex_view_and_ctrl_right_bracket():
    master, slave = os.openpty()
    proc = subprocess.Popen([*ESPAT, "-p", "sim://?latency_scale=0&fault=boot-garbage&seed=3", "term"], stdin=slave,
                            stdout=slave, stderr=slave)
    os.close(slave)
    pty = PtyReader(master)
    read_until = pty.until
    try:
        read_until(b"ready")
        assert re.search(rb"<[0-9A-F]{2}>", pty.seen), "boot noise is shown in hex"
        os.write(master, b"AT+GMR\r")
        read_until(b"AT version:")
        os.write(master, b"AT\r")
        read_until(b"OK", 2)
        os.write(master, b"\x1b[A\x1b[A\r")           # Up twice: AT+GMR again
        read_until(b"AT version:", 2)
        os.write(master, b"\x1d")
        assert proc.wait(timeout=10) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def test_term_sends_piped_lines():
    done = subprocess.run([*ESPAT, "-p", "sim://?latency_scale=0", "term"], input="AT+GMR\nAT+CWMODE_CUR?\n",
                          capture_output=True, text=True, timeout=30)
    assert done.returncode == 0, done.stderr
    assert "AT version:" in done.stdout and "+CWMODE_CUR:1" in done.stdout


@contextlib.contextmanager
def joined_sim(site: ExactServer, dialect: str = "1"):
    """A fake module that has joined HomeNet, with example.com at `site`, on socket:// (it keeps its state
    between the CLI's connections)."""
    from esp8266sim import SimConfig, Simulator
    from espat.client import EspAt
    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", site.port)},
                             dialect=dialect, latency_scale=0)) as sim:
        url = sim.serve_tcp()
        with EspAt(url) as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
        yield url


@pytest.fixture
def joined_module(server):
    with joined_sim(server) as url:
        yield url


def test_doctor_checks_dns_and_a_tcp_round_trip(joined_module):
    done = espat("-p", joined_module, "--json", "doctor", "--hwserial")
    assert done.returncode == 0, done.stderr
    findings = json.loads(done.stdout)
    assert all(f["status"] == "ok" for f in findings), findings
    text = " | ".join(f["finding"] for f in findings)
    assert "joined 'HomeNet'" in text and "station address 192.168.1.23" in text
    assert "GET http://example.com/ answered HTTP 200" in text


def test_doctor_names_the_dns_fix(joined_module):
    done = espat("-p", joined_module, "doctor", "--hwserial", "--url", "http://nowhere.example/")
    assert done.returncode == 1, done.stderr
    last = done.stdout.strip().splitlines()[-1]
    assert last.startswith("[ FIX] the module cannot look up nowhere.example")
    assert "AT+CIPDNS_CUR=1" in last


@pytest.mark.parametrize("talk, words", [(b"", "not a byte back at any rate: check that the adapter's TX"),
                                         (bytes(range(128, 256)) * 4, "bytes but never an answer")],
                         ids=["silent", "garbage"])
@pytest.mark.slow
def test_doctor_tells_silence_from_garbage(talk, words):
    """A port that never answers AT: silent (wiring, power) or noisy (rate not tried, resets, ground)."""
    import socket
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    stop = threading.Event()

    def serve():
        listener.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                continue
            with conn:
                conn.settimeout(0.2)
                answered = False
                while not stop.is_set():
                    try:
                        data = conn.recv(100)
                    except socket.timeout:
                        continue
                    except OSError:
                        break
                    if not data:
                        break
                    if not answered:
                        conn.sendall(talk)
                        answered = True
    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    try:
        done = espat("-p", f"socket://127.0.0.1:{listener.getsockname()[1]}", "doctor")
    finally:
        stop.set()
        thread.join(5)
        listener.close()
    assert done.returncode == 3, done.stderr
    assert words in done.stdout


@pytest.mark.slow
def test_espat_bridge_serves_the_cli_over_rfc2217(tmp_path):
    """`espat bridge` in its own process; detect (baud changes travel over RFC 2217), join and status through it."""
    bridge = subprocess.Popen([*ESPAT, "-p", sim_url(), "bridge", "--tcp", "127.0.0.1:0"], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True)
    try:
        import select
        assert select.select([bridge.stdout], [], [], 20)[0], "espat bridge printed nothing in 20 s"
        first = bridge.stdout.readline()
        assert first.startswith("bridging "), first + bridge.stderr.read()
        url = first.split(" as ")[1].strip()
        assert url.startswith("rfc2217://127.0.0.1:")
        detected = espat("-p", url, "--json", "detect")
        assert detected.returncode == 0, detected.stderr
        assert json.loads(detected.stdout)["baud"] == 115200
        secret = tmp_path / "pw"
        secret.write_text("s3cr3t99")
        joined = espat("-p", url, "wifi", "join", "HomeNet", "--password-file", str(secret))
        assert joined.returncode == 0, joined.stderr
        status = espat("-p", url, "--json", "wifi", "status")
        assert status.returncode == 0, status.stderr
        assert json.loads(status.stdout)["ssid"] == "HomeNet"
    finally:
        bridge.terminate()
        bridge.wait(timeout=10)


BLOB = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(12000))


def _site(request: bytes) -> bytes:
    if request.startswith(b"POST"):
        body = request.partition(b"\r\n\r\n")[2]
        answer = b'{"got":%d}' % len(body)
        return b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (
            len(answer), answer)
    return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BLOB) + BLOB


@pytest.mark.slow
@pytest.mark.parametrize("dialect", ["1", "2"])
def test_a_session_of_commands_on_one_module(tmp_path, dialect):
    """status, scan, GET to a file, POST JSON, leave: each with --json, against one module that keeps its state."""
    import hashlib
    site = ExactServer(_site)
    try:
        with joined_sim(site, dialect) as url:
            def run(*args):
                done = espat("-p", url, "--json", *args)
                assert done.returncode == 0, done.stderr
                return json.loads(done.stdout)
            assert run("wifi", "status")["ip"] == "192.168.1.23"
            assert [ap["ssid"] for ap in run("wifi", "scan")] == ["HomeNet"]
            out = tmp_path / "blob.bin"
            got = run("http", "get", "http://example.com/blob", "-o", str(out))
            assert got["status"] == 200 and got["length"] == len(BLOB)
            assert hashlib.sha256(out.read_bytes()).digest() == hashlib.sha256(BLOB).digest()
            out.unlink()
            got = run("http", "get", "--passive", "http://example.com/blob", "-o", str(out))
            assert got["length"] == len(BLOB) and out.read_bytes() == BLOB
            posted = run("http", "post", "http://example.com/r", "--json-body", '{"t": 21.5}')
            assert posted["status"] == 201 and json.loads(posted["body"]) == {"got": 11}
            assert site.requests[-1].endswith(b'\r\n\r\n{"t": 21.5}')
            assert run("wifi", "leave") == {"joined": False}
            assert run("wifi", "status")["joined"] is False
    finally:
        site.close()


def test_baud_change_through_the_cli():
    done = espat("-p", sim_url(), "--json", "baud", "9600")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"baud": 9600, "persisted": False}


def test_a_redirect_is_reported_not_followed(tmp_path):
    site = ExactServer(lambda request: b"HTTP/1.1 302 Found\r\nLocation: http://example.com/elsewhere\r\n"
                                       b"Content-Length: 0\r\nConnection: close\r\n\r\n")
    try:
        with joined_sim(site) as url:
            done = espat("-p", url, "http", "get", "http://example.com/old")
        assert done.returncode == 1
        assert "redirected to http://example.com/elsewhere (not followed" in done.stderr
        assert len(site.requests) == 1
    finally:
        site.close()


def test_password_from_a_hidden_prompt_and_port_from_the_environment():
    master, slave = os.openpty()
    env = dict(os.environ, ESPAT_PORT=sim_url())
    env.pop("ESPAT_WIFI_PASS", None)
    proc = subprocess.Popen([*ESPAT, "wifi", "join", "HomeNet"], stdin=slave, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    pty = PtyReader(master)
    read_until = pty.until
    try:
        read_until(b"Wi-Fi password:")
        os.write(master, b"s3cr3t99\r")
        read_until(b"joined 'HomeNet'")
        assert proc.wait(timeout=10) == 0
        assert b"s3cr3t99" not in pty.seen                 # not echoed while typed
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


@pytest.mark.parametrize("front", ["--tcp", "--pty"])
def test_espat_sim_serves_the_client(front):
    import select
    from espat.client import EspAt
    args = ["sim", "--network", "HomeNet:s3cr3t99", "--latency-scale", "0", front]
    if front == "--tcp":
        args.append("127.0.0.1:0")
    sim = subprocess.Popen([*ESPAT, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert select.select([sim.stdout], [], [], 20)[0], "espat sim printed nothing in 20 s"
        first = sim.stdout.readline().strip()
        url = first.removeprefix("listening on ")      # the pty front end prints its bare path
        assert url.startswith("socket://127.0.0.1:" if front == "--tcp" else "/dev/"), first
        with EspAt(url) as esp:
            esp.sync()
            esp.join("HomeNet", "s3cr3t99")
            assert esp.addresses()["STAIP"] == "192.168.1.23"
    finally:
        sim.terminate()
        sim.wait(timeout=10)
