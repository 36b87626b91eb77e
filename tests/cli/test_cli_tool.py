"""The espat command as a tool: options anywhere, files whole or not at all, signals, JSON, secrets, UTF-8."""
from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import select
import signal
import socket
import subprocess
import sys

import pytest

from inprocess import espat     # the command's output and status, run in this process (tests/inprocess.py)
from simtools import ExactServer, PtyReader, sim_url

# a real `espat` process, where the process is what a test checks (signals, a terminal, imports, its environment)
ESPAT = [sys.executable, "-m", "espat.cli"]


@contextlib.contextmanager
def joined(port: int, networks=None):
    """A fake module on socket:// (it keeps its state between the CLI's runs), joined, example.com at `port`."""
    from esp8266sim import SimConfig, Simulator
    from espat.client import EspAt
    networks = networks or {"HomeNet": "s3cr3t99"}
    with Simulator(SimConfig(networks=networks, hosts={"example.com": ("127.0.0.1", port)}, latency_scale=0)) as sim:
        url = sim.serve_tcp()
        with EspAt(url) as esp:
            esp.sync()
            ssid, password = next(iter(networks.items()))
            esp.join(ssid, password)
        yield url


BINARY = bytes(range(256)) * 40


@pytest.fixture
def binary_site():
    site = ExactServer(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n"
                                       % len(BINARY) + BINARY)
    yield site
    site.close()


def test_shared_options_after_the_command(binary_site):
    with joined(binary_site.port) as url:
        done = espat("http", "get", "http://example.com/", "-p", url, "--json", "--timeout", "20")
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["body_encoding"] == "base64" and base64.b64decode(got["body"]) == BINARY    # binary body: base64
    assert got["sha256"] == hashlib.sha256(BINARY).hexdigest()


def test_verbose_prints_the_body_sha256(binary_site, tmp_path):
    with joined(binary_site.port) as url:
        done = espat("-p", url, "http", "get", "http://example.com/", "-v", "-o", str(tmp_path / "body"))
    assert done.returncode == 0, done.stderr
    assert f"sha256 {hashlib.sha256(BINARY).hexdigest()}" in done.stderr


def test_a_later_option_wins_over_the_group_one():
    done = espat("-p", "/dev/ttyNOPE0", "at", "AT", "-p", sim_url())
    assert done.returncode == 0, done.stderr


def test_json_errors_are_json():
    done = espat("-p", sim_url(), "--json", "at", "AT+FOO")
    assert done.returncode == 1
    assert json.loads(done.stderr) == {"error": "module refused FOO", "exit_code": 1}
    usage = espat("--json", "-p", sim_url(), "http", "get", "ftp://x/")
    assert usage.returncode == 2 and json.loads(usage.stderr)["exit_code"] == 2
    early = espat("--json", "--baud", "7", "at", "AT")
    assert early.returncode == 2 and "--baud" in json.loads(early.stderr)["error"]
    late = espat("at", "AT", "--baud", "7", "--json")
    assert late.returncode == 2 and "--baud" in json.loads(late.stderr)["error"]


def test_content_type_from_h_replaces_and_the_idempotency_key_is_sent():
    site = ExactServer(lambda request: b"HTTP/1.1 201 Created\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
    try:
        with joined(site.port) as url:
            done = espat("-p", url, "http", "post", "http://example.com/r", "--data", "t=1", "-H",
                         "content-type: text/plain", "--idempotency-key", "reading-17")
        assert done.returncode == 0, done.stderr
        head = site.requests[0].partition(b"\r\n\r\n")[0].lower()
        assert head.count(b"content-type:") == 1 and b"content-type: text/plain" in head
        assert b"\r\nidempotency-key: reading-17\r\n" in head          # the raw key, as README says
    finally:
        site.close()


def test_a_header_espat_sets_itself_is_refused():
    done = espat("-p", sim_url(), "http", "get", "http://example.com/", "-H", "Host: other")
    assert done.returncode == 2 and "set by espat itself" in done.stderr


def test_output_appears_whole_and_a_failure_keeps_the_old_file(tmp_path, binary_site):
    out = tmp_path / "body.bin"
    out.write_bytes(b"the old file")
    with joined(binary_site.port) as url:
        failed = espat("-p", url, "http", "get", "http://nowhere.example/", "-o", str(out))
        assert failed.returncode == 1 and "DNS Fail" in failed.stderr
        assert out.read_bytes() == b"the old file"
        done = espat("-p", url, "http", "get", "http://example.com/", "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert out.read_bytes() == BINARY
    assert sorted(p.name for p in tmp_path.iterdir()) == ["body.bin"]         # no temporary left beside it


def test_cipstart_refusal_keeps_the_reason_and_names_the_fix():
    done = espat("-p", sim_url(), "http", "get", "http://example.com/")
    assert done.returncode == 1
    assert done.stderr.strip() == ("Error: module refused CIPSTART: no ip; join Wi-Fi first: espat wifi join SSID")


def test_a_refused_connect_names_what_to_check():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))                      # bound but not listening: the connect is refused
    try:
        with joined(closed.getsockname()[1]) as url:
            done = espat("-p", url, "http", "get", "http://example.com/")
        assert done.returncode == 1
        assert done.stderr.strip().splitlines() == [
            "Error: module refused CIPSTART; the server did not take the connection: is it running, on that port, "
            "and reachable from the module's network?"]
    finally:
        closed.close()


def test_at_prints_error_lines_and_keep_going_runs_the_rest():
    stop = espat("-p", sim_url(), "at", "AT+FOO", "AT+GMR")
    assert stop.returncode == 1 and stop.stdout.splitlines() == ["> AT+FOO", "  ERROR"]
    going = espat("-p", sim_url(), "at", "--keep-going", "AT+FOO", "AT+GMR")
    assert going.returncode == 1
    assert going.stdout.splitlines()[:3] == ["> AT+FOO", "  ERROR", "> AT+GMR"]
    assert "AT version:" in going.stdout
    assert going.stderr.strip() == "Error: module refused FOO"


@pytest.mark.parametrize("line", [
    'AT+CWJAP="HomeNet","s3cr3t99"', 'AT+CWJAP_DEF = "HomeNet" , "s3cr3t99"', 'AT+CWSAP_CUR="espat-ap","s3cr3t99",5,3',
    'AT+CWSAP="espat-ap","s3cr3t99",5,3'])
def test_every_secret_bearing_command_is_redacted(line):
    done = espat("-p", sim_url(), "-v", "--json", "at", "--keep-going", "AT+CWMODE_CUR=3", line, "AT+CWSAP_CUR?")
    assert "s3cr3t99" not in done.stdout + done.stderr
    assert '\\"***\\"' in done.stdout and '"***"' in done.stderr         # JSON escapes the quotes


def test_password_file_dash_reads_stdin():
    done = espat("-p", sim_url(), "wifi", "join", "HomeNet", "--password-file", "-", input="s3cr3t99\n")
    assert done.returncode == 0, done.stderr
    assert "joined 'HomeNet'" in done.stdout


def test_ssid_from_the_environment():
    done = espat("-p", sim_url(), "wifi", "join", env={"ESPAT_WIFI_SSID": "HomeNet", "ESPAT_WIFI_PASS": "s3cr3t99"})
    assert done.returncode == 0, done.stderr


def test_utf8_ssids_in_scan_join_and_status():
    with joined(1, {"Café ☕": "s3cr3t99", "HomeNet": "other-pw"}) as url:
        scan = espat("-p", url, "--json", "wifi", "scan")
        assert scan.returncode == 0, scan.stderr
        assert "Café ☕" in [ap["ssid"] for ap in json.loads(scan.stdout)]
        status = espat("-p", url, "--json", "wifi", "status")
        assert json.loads(status.stdout)["ssid"] == "Café ☕"
        join = espat("-p", url, "wifi", "join", "Café ☕", env={"ESPAT_WIFI_PASS": "s3cr3t99"})
        assert join.returncode == 0, join.stderr
        assert "Café ☕" in join.stdout


def test_help_lists_commands_whose_module_is_absent(tmp_path):
    """collect and uno are listed without importing them; running one that is missing is one line."""
    shadow = tmp_path / "espat_shadow"
    env = {"PYTHONPATH": str(shadow)}
    (shadow / "unosim").mkdir(parents=True)
    help_ = subprocess.run([*ESPAT, "--help"], capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL,
                           env=dict(os.environ, **env))        # PYTHONPATH: a process's start
    assert help_.returncode == 0 and "collect" in help_.stdout and "uno" in help_.stdout
    done = subprocess.run([sys.executable, "-c", "import sys; sys.modules['unosim.cli'] = None; "
                           "from espat.cli import main; main(['uno'], prog_name='espat')"],
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        "Error: `espat uno` needs unosim, which is not installed: pip install 'espat[sim]'"]


@pytest.mark.xdist_group("help-cache")     # one bumps extras.py's mtime, the key the others read
@pytest.mark.parametrize("argv", [["--help"], ["http", "--help"]])
def test_help_imports_neither_click_nor_a_command_module(tmp_path, argv):
    code = ("import sys; from espat.cli import main\n"
            f"try:\n    main({argv!r})\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('espat', 'esp8266sim', 'click')))")
    env = dict(os.environ, COLUMNS="80", XDG_CACHE_HOME=str(tmp_path))
    first, kept = (subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, env=env)
                   for _ in range(2))
    assert "click" in first.stdout.strip().splitlines()[-1]        # the first time click renders it
    assert "Usage: espat " in kept.stdout
    assert eval(kept.stdout.strip().splitlines()[-1]) == ["espat", "espat.cli", "espat.cli.helpcache"]
    assert kept.stdout.rsplit("\n", 2)[0] == first.stdout.rsplit("\n", 2)[0]


@pytest.mark.xdist_group("help-cache")     # one bumps extras.py's mtime, the key the others read
@pytest.mark.parametrize("argv", [["--help"], ["-h"], ["http", "--help"], ["http", "get", "-h"], ["sim", "--help"],
                                  ["collect", "token", "--help"], ["at", "--help"]])
def test_the_kept_help_is_what_click_renders_and_goes_when_a_file_changes(tmp_path, argv):
    from pathlib import Path

    import espat.cli
    env = dict(os.environ, COLUMNS="80", XDG_CACHE_HOME=str(tmp_path))
    rendered = subprocess.run([sys.executable, "-c", "import sys; from espat.cli.group import espat; "
                               "espat.main(sys.argv[1:], prog_name='espat')", *argv],
                              capture_output=True, text=True, timeout=60, env=env).stdout
    assert rendered.startswith("Usage: espat ")
    for _ in range(2):
        assert espat_cli(argv, env) == rendered
    assert len(list((tmp_path / "espat").iterdir())) == 1
    # a changed source file (here: its mtime) is another key: the kept help is not served
    source = Path(espat.cli.__file__).parent / "extras.py"
    stat = source.stat()
    try:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1))
        assert espat_cli(argv, env) == rendered
        assert len(list((tmp_path / "espat").iterdir())) == 2
    finally:
        os.utime(source, ns=(stat.st_atime_ns, stat.st_mtime_ns))


@pytest.mark.xdist_group("help-cache")     # one bumps extras.py's mtime, the key the others read
def test_help_for_a_command_that_is_not_there_is_not_kept(tmp_path):
    done = espat("nosuch", "--help", env={"COLUMNS": "80", "XDG_CACHE_HOME": str(tmp_path)})
    assert done.returncode == 2 and "No such command 'nosuch'" in done.stderr
    assert not (tmp_path / "espat").exists() or not list((tmp_path / "espat").iterdir())


def espat_cli(argv, env) -> str:
    """`espat ARGV` with `env`'s COLUMNS and XDG_CACHE_HOME, in this process: the kept help is read, or rendered
    and kept, by the same calls as in a process of its own (what a start imports is the test above)."""
    done = espat(*argv, env={name: env[name] for name in ("COLUMNS", "XDG_CACHE_HOME")})
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_a_narrow_terminal_gets_click_rendering():
    done = espat("--help", env={"COLUMNS": "50"})
    assert done.returncode == 0
    assert max(len(line) for line in done.stdout.splitlines()) <= 50
    assert "collect" in done.stdout and "wifi" in done.stdout


def test_ports_lists_what_the_library_finds():
    from espat.adapters import serial_ports
    done = espat("--json", "ports")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == [p.as_dict() for p in serial_ports()]


def test_the_adapter_guess(monkeypatch):
    from serial.tools import list_ports, list_ports_common
    from espat import adapters
    uno = list_ports_common.ListPortInfo("/dev/ttyACM0")
    uno.vid, uno.pid, uno.description = 0x2341, 0x0043, "Arduino Uno"
    odd = list_ports_common.ListPortInfo("/dev/ttyS0")
    monkeypatch.setattr(list_ports, "comports", lambda: [odd, uno])
    found = adapters.serial_ports()
    assert [(p.device, p.vid_pid, p.adapter) for p in found] == [("/dev/ttyACM0", "2341:0043", "Arduino Uno"),
                                                                 ("/dev/ttyS0", None, "")]


def test_bridge_serves_a_pty_port():
    """A pty has no modem lines: their ioctls fail, which must not end the client's session."""
    from esp8266sim import SimConfig, Simulator
    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t99"}, latency_scale=0)) as sim:
        path = sim.serve_pty()
        bridge = subprocess.Popen([*ESPAT, "-p", path, "bridge", "--tcp", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            assert select.select([bridge.stdout], [], [], 30)[0], "the bridge printed nothing"
            url = bridge.stdout.readline().split(" as ")[1].strip()
            done = espat("-p", url, "wifi", "join", "HomeNet", env={"ESPAT_WIFI_PASS": "s3cr3t99"})
            assert done.returncode == 0, done.stderr
        finally:
            bridge.terminate()
            bridge.wait(timeout=10)


# --- signals -----------------------------------------------------------------------------------------------------

def trickling(size: int = 60000) -> ExactServer:
    """A server whose answer (a `size`-byte body) comes 1000 bytes every 50 ms; `.body` can be changed."""
    def answer(request: bytes) -> bytes:
        return b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(site.body) + site.body
    site = ExactServer(answer, trickle=(1000, 0.05))
    site.body = bytes((i * 31) & 0xFF for i in range(size))
    return site


@pytest.mark.parametrize("signum, status, word", [(signal.SIGINT, 130, "interrupted"),
                                                  (signal.SIGTERM, 143, "terminated")])
def test_a_signal_mid_download_stops_with_one_line_and_the_next_command_works(tmp_path, signum, status, word):
    site = trickling()
    out = tmp_path / "body.bin"
    try:
        with joined(site.port) as url:
            proc = subprocess.Popen([*ESPAT, "-p", url, "http", "get", "http://example.com/", "-o", str(out)],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            assert site.got_request.wait(30), "the request never reached the server"
            proc.send_signal(signum)
            _, err = proc.communicate(timeout=30)
            assert proc.returncode == status, err
            assert err.strip().splitlines() == [
                f"Error: {word}: espat http get stopped; the module was left clean"]
            assert list(tmp_path.iterdir()) == []
            site.body = b"small"
            again = espat("-p", url, "--json", "http", "get", "http://example.com/")
            assert again.returncode == 0, again.stderr
            assert json.loads(again.stdout)["body"] == "small"
    finally:
        site.close()


@pytest.mark.slow
def test_progress_moves_during_the_transfer_on_a_terminal(tmp_path):
    site = trickling(30000)
    master, slave = os.openpty()
    try:
        with joined(site.port) as url:
            proc = subprocess.Popen([*ESPAT, "-p", url, "http", "get", "http://example.com/", "-o",
                                     str(tmp_path / "body")],
                                    stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=slave)
            os.close(slave)
            pty = PtyReader(master)
            pty.until(b"HTTP 200 OK", seconds=60)
            assert proc.wait(timeout=30) == 0, pty.seen
        shown = {line for line in pty.seen.split(b"\r") if line.startswith(b"receiving ")}
        assert len(shown) >= 3, pty.seen                    # several different amounts, not only the end
        assert any(b"/29.3 KB 100%" in line for line in shown)
    finally:
        site.close()
        with contextlib.suppress(OSError):
            os.close(master)


def test_term_edits_the_line_and_ctrl_c_leaves_the_terminal_as_it_was():
    import termios
    master, slave = os.openpty()
    before = termios.tcgetattr(slave)

    def own_terminal():                 # the pty becomes the controlling terminal, so Ctrl-C there is SIGINT
        import fcntl
        os.setsid()
        fcntl.ioctl(0, termios.TIOCSCTTY, 0)
    # PYTHONFAULTHANDLER: a SIGABRT makes it write every thread's stack to the terminal, for a run that misses
    # its exit below (one in a few fresh-clone runs of the whole suite did, never alone: where it waits is wanted)
    proc = subprocess.Popen([*ESPAT, "-p", "sim://?latency_scale=0", "term"], stdin=slave, stdout=slave,
                            stderr=slave, preexec_fn=own_terminal, env={**os.environ, "PYTHONFAULTHANDLER": "1"})
    pty = PtyReader(master)
    read_until = pty.until
    try:
        read_until(b"Ctrl-] quits")
        read_until(b"ready")
        # "T+GM", Home, "A", End, "R", Left twice, Right twice: the line sent is AT+GMR
        os.write(master, b"T+GM\x1b[HA\x1b[FR\x1b[D\x1b[D\x1b[C\x1b[C\r")
        read_until(b"AT version:")
        # "AT+CWMODE_CUR?X", Left, Right, Backspace: the X goes
        os.write(master, b"AT+CWMODE_CUR?X\x1b[D\x1b[C\x7f\r")
        read_until(b"+CWMODE_CUR:")
        os.write(master, b"\x03")                               # Ctrl-C: the terminal sends SIGINT
        try:
            status = proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGABRT)
            proc.wait(timeout=10)
            with contextlib.suppress(AssertionError):
                read_until(b"most recent call first", count=99, seconds=2)
            pytest.fail("espat term did not exit within 15 s of Ctrl-C; where its threads were:\n"
                        + pty.seen.decode(errors="replace")[-6000:])
        assert status == 130
        read_until(b"interrupted: espat term stopped")
        after = termios.tcgetattr(slave)
        assert after[3] == before[3], "local modes (echo, canonical input) are restored"
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)
        os.close(slave)


@pytest.mark.parametrize("key, advice", [(None, "give --idempotency-key KEY so that a retry is stored once"),
                                         ("r-17", "retrying with the same --idempotency-key r-17 is safe")])
def test_a_post_without_an_answer_may_have_been_delivered(key, advice):
    site = ExactServer(lambda request: b"")            # reads the whole request, then closes without a word
    try:
        with joined(site.port) as url:
            done = espat("-p", url, "http", "post", "http://example.com/r", "--json-body", "{}",
                         *(["--idempotency-key", key] if key else []))
        assert done.returncode == 4, done.stderr
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "may have been delivered" in lines[0] and lines[0].endswith(advice)
        assert len(site.requests) == 1                  # never retried by the tool
    finally:
        site.close()


def test_a_body_that_does_not_match_its_digest_is_status_5_and_no_file(tmp_path):
    wrong = "sha-256=:" + base64.b64encode(hashlib.sha256(b"something else").digest()).decode() + ":"
    site = ExactServer(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nRepr-Digest: %s\r\n"
                                       b"Connection: close\r\n\r\nhello" % wrong.encode())
    out = tmp_path / "body.txt"
    try:
        with joined(site.port) as url:
            done = espat("-p", url, "http", "get", "http://example.com/", "-o", str(out))
        assert done.returncode == 5, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and "cannot be trusted" in done.stderr
        assert list(tmp_path.iterdir()) == []
    finally:
        site.close()


@pytest.mark.slow
def test_timeout_bounds_the_whole_download(tmp_path):
    site = trickling(200000)                        # 1000 bytes every 50 ms: 10 s in all
    try:
        with joined(site.port) as url:
            done = espat("-p", url, "--timeout", "2", "http", "get", "http://example.com/", "-o",
                         str(tmp_path / "body"))
        assert done.returncode == 3, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1
        # the bound ran out while +IPD blocks kept coming: not "no data"
        assert "gave up after 2 s, the whole operation's bound; data was still arriving" in done.stderr
        assert "no data" not in done.stderr
    finally:
        site.close()


def test_a_port_another_process_holds_is_busy_status_2_with_its_pid():
    from esp8266sim import SimConfig, Simulator
    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t99"}, latency_scale=0)) as sim:
        path = sim.serve_pty()
        holder = subprocess.Popen([*ESPAT, "-p", path, "bridge", "--tcp", "127.0.0.1:0"], stdout=subprocess.PIPE,
                                  stderr=subprocess.PIPE, text=True)
        try:
            assert select.select([holder.stdout], [], [], 30)[0], "the bridge printed nothing"
            assert holder.stdout.readline().startswith("bridging ")        # it has the port open now
            done = espat("-p", path, "at", "AT")
            assert done.returncode == 2, done.stderr
            assert done.stderr.strip().splitlines() == [f"Error: {path}: port busy (pid {holder.pid})"]
        finally:
            holder.terminate()
            holder.wait(timeout=10)


def test_help_is_shown_when_the_cache_cannot_be_written(tmp_path):
    blocked = tmp_path / "not-a-directory"
    blocked.write_text("")
    env = dict(os.environ, COLUMNS="80", XDG_CACHE_HOME=str(blocked))
    assert espat_cli(["http", "--help"], env).startswith("Usage: espat http")
    assert blocked.read_text() == "" and list(tmp_path.iterdir()) == [blocked]


def test_a_command_whose_extra_is_missing_names_the_extra(tmp_path):
    """`espat collect` imports its server as it runs: without the collect extra it says which to install."""
    code = ("import sys\nfor name in ('starlette', 'uvicorn', 'sqlalchemy'):\n    sys.modules[name] = None\n"
            "from espat.cli import main\n"
            f"main(['collect', '--listen', '127.0.0.1:0', '--db', 'sqlite:///{tmp_path}/r.sqlite3'])\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                          stdin=subprocess.DEVNULL)
    assert done.returncode == 1
    assert done.stderr.splitlines() == [
        "Error: `espat collect` needs starlette, which is not installed: pip install 'espat[collect]'"]
