"""Each front end driven with raw bytes through pyserial, as a real serial client would."""
from __future__ import annotations

import functools
import hashlib
import os
import socket
import subprocess
import sys
import time

import pytest
import serial

import inprocess   # a command's output and status, run in this process (tests/inprocess.py)
from esp8266sim import SimConfig, Simulator
from simtools import Wire


def _session(wire: Wire) -> None:
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.exchange(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"\r\n', b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n")


def _config(**kw) -> SimConfig:
    return SimConfig(networks={"HomeNet": "s3cr3t99"}, latency_scale=0, **kw)


def test_tcp_front_end_with_socket_url():
    with Simulator(_config()) as sim:
        url = sim.serve_tcp()
        assert url.startswith("socket://127.0.0.1:")
        port = serial.serial_for_url(url, timeout=0.2)
        try:
            _session(Wire(port))
            # a second cable cannot be plugged in while the first is
            other = serial.serial_for_url(url, timeout=0.5)
            try:
                other.write(b"AT\r\n")
                assert other.read(16) == b""
            except serial.SerialException:
                pass
            finally:
                other.close()
        finally:
            port.close()


def test_pty_front_end():
    with Simulator(_config()) as sim:
        path = sim.serve_pty()
        assert os.path.exists(path)
        port = serial.Serial(path, 115200, timeout=0.2)
        try:
            _session(Wire(port))
        finally:
            port.close()


def test_sim_url_front_end_and_wrong_baud_is_garbage():
    port = serial.serial_for_url("sim://?network=HomeNet:s3cr3t99&latency_scale=0&baud=9600", baudrate=115200,
                                 timeout=0.2)
    try:
        wire = Wire(port)
        port.write(b"AT\r\n")
        junk = wire.quiet(0.3)
        assert b"OK" not in junk and b"ready" not in junk
        port.baudrate = 9600
        port.write(b"\r\n")                   # ends the line the module made of the junk
        wire.quiet(0.3)
        _session(wire)
    finally:
        port.close()


def test_uart_cur_answers_at_the_old_rate_then_switches():
    port = serial.serial_for_url("sim://?latency_scale=1", baudrate=115200, timeout=0.2)  # boot takes 0.35 s
    try:
        wire = Wire(port)
        wire.expect(b"\r\nready\r\n")
        wire.exchange(b"AT+UART_CUR=9600,8,1,0,0\r\n", b"AT+UART_CUR=9600,8,1,0,0\r\r\n\r\nOK\r\n")
        port.write(b"AT\r\n")
        assert b"OK" not in wire.quiet(0.3)
        port.baudrate = 9600
        port.write(b"\r\n")                   # ends the line the module made of the junk
        wire.quiet(0.3)
        wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")
        wire.exchange(b"AT+RST\r\n", b"AT+RST\r\r\n\r\nOK\r\n")
        port.baudrate = 115200                  # UART_CUR is gone after a reset
        wire.expect(b"\r\nready\r\n")
        wire.exchange(b"AT+UART_DEF=9600,8,1,0,0\r\n", b"AT+UART_DEF=9600,8,1,0,0\r\r\n\r\nOK\r\n")
        port.baudrate = 9600
        wire.exchange(b"AT+RST\r\n", b"AT+RST\r\r\n\r\nOK\r\n")
        wire.expect(b"\r\nready\r\n")           # UART_DEF survives it
        wire.exchange(b"AT+RESTORE\r\n", b"AT+RESTORE\r\r\n\r\nOK\r\n")
        port.baudrate = 115200
        wire.expect(b"\r\nready\r\n")
    finally:
        port.close()


def test_cli_tcp_prints_its_url_and_serves(tmp_path):
    log = tmp_path / "wire.log"
    proc = subprocess.Popen([sys.executable, "-m", "esp8266sim", "--tcp", "127.0.0.1:0", "--network",
                             "HomeNet:s3cr3t99", "--latency-scale", "0", "--log", str(log)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = proc.stdout.readline()
        assert line.startswith("listening on socket://127.0.0.1:")
        port = serial.serial_for_url(line.split()[-1], timeout=0.2)
        try:
            _session(Wire(port))
        finally:
            port.close()
    finally:
        proc.terminate()
        assert proc.wait(timeout=10) == 0
        proc.stdout.close()
        proc.stderr.close()
    text = log.read_text()
    assert 'AT+CWJAP_CUR="HomeNet","***"' in text
    assert "s3cr3t99" not in text


def test_cli_pty_prints_its_path_first():
    proc = subprocess.Popen([sys.executable, "-m", "esp8266sim", "--pty", "--latency-scale", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        path = proc.stdout.readline().strip()
        port = serial.Serial(path, 115200, timeout=0.2)
        try:
            Wire(port).exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")
        finally:
            port.close()
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        proc.stdout.close()
        proc.stderr.close()


@pytest.mark.parametrize("args, message", [
    (["--host", "example.com=10.0.0.5:80"], "not on loopback"),
    (["--host", "example.com"], "expected NAME=127.0.0.1:PORT"),
    (["--network", "HomeNet"], "expected SSID:PASSWORD"),
    (["--fault", "meltdown"], "unknown kind 'meltdown'"),
    (["--fault", "drop:2"], "a rate is between 0 and 1"),
    (["--dialect", "3"], "'3' is not one of '1', '2'"),
    (["--pty", "--tcp", "127.0.0.1:0"], "--pty and --tcp go one at a time"),
    (["--tcp", "nonsense"], "expected HOST:PORT"),
    (["--baud", "12"], "baud rate 12 is outside"),
])
def test_cli_bad_input_is_one_line_and_status_2(args, message):
    done = inprocess.esp8266sim(*args, timeout=30)
    assert done.returncode == 2
    assert message in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    assert "Traceback" not in done.stderr


def test_sim_url_bad_query_is_a_serial_exception():
    with pytest.raises(serial.SerialException, match="does not know colour"):
        serial.serial_for_url("sim://?colour=blue")


def test_hundred_kilobytes_arrive_intact(exact_server, sim_port):
    body = bytes((i * 7 + (i >> 8)) & 0xFF for i in range(100 * 1024))
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    server = exact_server(lambda request: reply)
    wire = sim_port(f"network=HomeNet:s3cr3t99&host=example.com=127.0.0.1:{server.port}&latency_scale=0")
    wire.expect(b"\r\nready\r\n")
    _session(wire)
    wire.exchange(b"AT+CIPMUX=1\r\n", b"\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=4,"TCP","example.com",80\r\n', b"4,CONNECT\r\n\r\nOK\r\n")
    request = b"GET /big HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"
    wire.exchange(b"AT+CIPSEND=4,%d\r\n" % len(request), b"\r\nOK\r\n> ")
    wire.send(request)
    stream = wire.read_until(b"4,CLOSED\r\n", timeout=20)
    from espat.proto.events import Ipd
    from espat.proto.parser import Parser
    received = b"".join(e.data for e in Parser().receive_data(stream) if isinstance(e, Ipd))
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(reply).hexdigest()


# --- delivery as a USB-serial adapter does it (asserted in the fake's own clock) -------------------------------


def _record_deliveries(sim: Simulator) -> list:
    """(loop time, bytes) of each handover to the host, and of each answer the module put on the line."""
    events = []
    adapter = sim.wire.adapter
    to_host, on_line = adapter.deliver, sim.wire.from_module

    def delivered(data: bytes) -> None:
        events.append(("host", sim.loop.time(), bytes(data)))
        to_host(data)

    def emitted(data: bytes) -> None:
        events.append(("line", sim.loop.time(), bytes(data)))
        on_line(data)
    sim.call(setattr, adapter, "deliver", delivered)
    sim.call(setattr, sim.wire, "from_module", emitted)
    return events


def test_bytes_reach_the_host_no_faster_than_the_baud_rate():
    port = serial.serial_for_url("sim://?latency_scale=0&baud=2400", baudrate=2400, timeout=0.2)
    try:
        wire = Wire(port)
        wire.expect(b"\r\nready\r\n")
        events = _record_deliveries(port.simulator)
        wire.send(b"AT+GMR\r\n")
        wire.read_until(b"OK\r\n")
        line = [t for kind, t, _ in events if kind == "line"]
        arrived = [(t, len(data)) for kind, t, data in events if kind == "host"]
        assert len(arrived) >= 3                            # in pieces as the bytes cross (~0.5 s), not one burst
        crossed = 0
        for t, size in arrived:
            crossed += size
            assert t - line[0] >= crossed * 10 / 2400 - 0.0005, (crossed, t - line[0])
    finally:
        port.close()


def test_ftdi_adapter_hands_over_full_packets_or_after_its_latency_timer():
    port = serial.serial_for_url("sim://?latency_scale=0&adapter=ftdi", baudrate=115200, timeout=0.2)
    try:
        wire = Wire(port)
        wire.expect(b"\r\nready\r\n")
        events = _record_deliveries(port.simulator)
        wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")
        short = [e for e in events if e[0] == "host"]
        assert len(short) == 1 and short[0][1] - events[0][1] >= 0.016 - 0.0005     # held for the timer
        events.clear()
        wire.send(b"AT+GMR\r\n")
        answer = wire.read_until(b"OK\r\n")
        sizes = [len(data) for kind, _, data in events if kind == "host"]
        assert sum(sizes) == len(answer) > 62
        assert all(size == 62 for size in sizes[:-1]) and sizes[-1] <= 62        # whole USB packets
    finally:
        port.close()


@pytest.mark.parametrize("command", [inprocess.esp8266sim, functools.partial(inprocess.espat, "sim")],
                         ids=["esp8266sim", "espat sim"])
def test_latency_timer_knob_and_help_lists_the_latency_defaults(command):
    done = command("--help", timeout=30)
    assert done.returncode == 0, done.stderr
    text = " ".join(done.stdout.split()).split("Options:", 1)[1]          # past the usage line
    for knob, default in [("rtt", "0.03"), ("join", "2.0"), ("dns", "0.05"), ("connect", "0.05"),
                          ("send", "0.01"), ("boot", "0.35"), ("scale", "1.0")]:
        assert f"--latency-{knob}" in text
        assert f"(default: {default})" in text.split(f"--latency-{knob} ")[1].split("--")[0]
    assert "--adapter" in text and "--latency-timer" in text
    port = serial.serial_for_url("sim://?latency_scale=0&adapter=ftdi&latency_timer=2", timeout=0.2)
    try:
        assert port.simulator.config.latency_timer == 0.002
    finally:
        port.close()


@pytest.mark.parametrize("wrong", [9600, 74880])        # 74880 has no Bnnn code: pyserial sets it by termios2
def test_pty_shows_a_baud_mismatch_from_the_speed_its_client_set(wrong):
    with Simulator(_config()) as sim:
        path = sim.serve_pty()
        port = serial.Serial(path, wrong, timeout=0.2)      # the module runs at 115200
        try:
            wire = Wire(port)
            port.write(b"AT\r\n")
            junk = wire.quiet(0.3)
            assert b"OK" not in junk
            port.baudrate = 115200
            port.write(b"\r\n")                   # ends the line the module made of the junk
            wire.quiet(0.3)
            _session(wire)
        finally:
            port.close()


# --- sim://?name= keeps a module across opens and processes ------------------------------------------------------


@pytest.fixture
def module_name():
    from esp8266sim.frontends.named import stop
    name = f"bench-{os.getpid()}-{time.monotonic_ns()}"
    yield name
    stop(name)


def test_named_sim_url_keeps_the_module_between_opens(module_name):
    name = module_name
    first = serial.serial_for_url(f"sim://?name={name}&network=HomeNet:s3cr3t99&latency_scale=0",
                                  baudrate=115200, timeout=0.2)
    try:
        wire = Wire(first)
        wire.expect(b"\r\nready\r\n")                 # powered on with its first host
        _session(wire)
    finally:
        first.close()
    again = serial.serial_for_url(f"sim://?name={name}", baudrate=115200, timeout=0.2)
    try:
        Wire(again).exchange(b"AT+CIPSTATUS\r\n", b"STATUS:2\r\n\r\nOK\r\n")    # echo off, joined: kept
        with pytest.raises(serial.SerialException, match="port busy: another host has the named module"):
            serial.serial_for_url(f"sim://?name={name}", baudrate=115200)
        again.baudrate = 9600                               # the host's rate reaches the module there too
        again.write(b"AT\r\n")
        assert b"OK" not in Wire(again).quiet(0.3)
    finally:
        again.close()
    with pytest.raises(serial.SerialException, match="other settings"):
        serial.serial_for_url(f"sim://?name={name}&dialect=2")


def test_wifi_join_then_http_get_as_two_commands(module_name, exact_server):
    server = exact_server(lambda request: b"HTTP/1.1 200 OK\r\nContent-Length: 6\r\nConnection: close\r\n\r\nhello\n")
    url = f"sim://?name={module_name}&network=HomeNet:s3cr3t99&latency_scale=0&host=example.com=127.0.0.1:{server.port}"
    env = dict(os.environ, ESPAT_WIFI_PASSWORD="s3cr3t99", ESPAT_WIFI_PASS="s3cr3t99")   # the name before and after the contract
    join = subprocess.run([sys.executable, "-m", "espat.cli", "-p", url, "wifi", "join", "HomeNet"],
                          capture_output=True, text=True, timeout=60, env=env)
    assert join.returncode == 0, join.stderr
    get = subprocess.run([sys.executable, "-m", "espat.cli", "-p", f"sim://?name={module_name}", "http", "get",
                          "http://example.com/"], capture_output=True, text=True, timeout=60)
    assert get.returncode == 0, get.stderr
    assert get.stdout == "hello\n"
    assert len(server.requests) == 1


def test_a_bad_name_is_one_line():
    with pytest.raises(serial.SerialException, match="letters, digits"):
        serial.serial_for_url("sim://?name=../etc")


# --- boot garbage reaches a host that connects after the boot ------------------------------------------------------


@pytest.mark.parametrize("garbage", [True, False])
def test_a_host_that_connects_after_boot_reads_the_boot_garbage(garbage):
    faults = ["boot-garbage"] if garbage else []
    with Simulator(_config(faults=faults, seed=5)) as sim:
        url = sim.serve_tcp()
        deadline = time.monotonic() + 10
        while sim.call(lambda: sim.module.booting) and time.monotonic() < deadline:
            time.sleep(0.01)
        assert not sim.call(lambda: sim.module.booting)     # booted before anyone listened
        for _ in range(2):                                  # the second host finds nothing held any more
            port = serial.serial_for_url(url, timeout=0.2)  # (pyserial empties the input as it opens)
            try:
                wire = Wire(port)
                wire.send(b"AT\r\n")                       # the held bytes come before its answer
                got = wire.read_until(b"AT\r\r\n\r\nOK\r\n")
                if garbage and _ == 0:
                    assert got.endswith(b"\r\nready\r\nAT\r\r\n\r\nOK\r\n")
                    assert len(got) >= 40 + len(b"\r\nready\r\nAT\r\r\n\r\nOK\r\n")
                    assert any(byte >= 0x80 for byte in got)
                else:
                    assert got == b"AT\r\r\n\r\nOK\r\n"
            finally:
                port.close()


def test_a_host_that_only_listens_gets_the_boot_garbage_too():
    with Simulator(_config(faults=["boot-garbage"], seed=5)) as sim:
        url = sim.serve_tcp()
        deadline = time.monotonic() + 10
        while sim.call(lambda: sim.module.booting) and time.monotonic() < deadline:
            time.sleep(0.01)
        host, port_number = url[len("socket://"):].split(":")
        with socket.create_connection((host, int(port_number)), timeout=5) as raw:
            got = b""
            while not got.endswith(b"\r\nready\r\n"):
                chunk = raw.recv(4096)
                assert chunk, got
                got += chunk
        assert len(got) >= 40 + len(b"\r\nready\r\n")


# --- shutdown never prints a traceback ----------------------------------------------------------------------------


@pytest.mark.parametrize("where", ["--tcp", "--pty", "--name"])
def test_cli_stops_with_a_client_connected_without_a_traceback(where):
    name = f"stop-{os.getpid()}"
    args = {"--tcp": ["--tcp", "127.0.0.1:0"], "--pty": ["--pty"], "--name": ["--name", name]}[where]
    proc = subprocess.Popen([sys.executable, "-m", "esp8266sim", *args, "--latency-scale", "0"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        first = proc.stdout.readline().split()[-1]
        url = f"sim://?name={name}" if where == "--name" else first
        port = serial.serial_for_url(url, baudrate=115200, timeout=0.2)
        try:
            wire = Wire(port)
            if where == "--name":
                wire.expect(b"\r\nready\r\n")            # a named module powers on with its first host
            wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")
            proc.terminate()                               # while the client is still connected
            assert proc.wait(timeout=10) == 0
        finally:
            port.close()
        _, err = proc.communicate(timeout=10)
        assert err == ""
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_closing_sim_url_with_links_and_a_server_open_prints_nothing(exact_server):
    server = exact_server(lambda request: b"")
    script = f"""
import serial, esp8266sim, sys
sys.path.insert(0, {os.path.dirname(__file__) + '/..'!r})
from simtools import Wire, ready_and_joined
port = serial.serial_for_url("sim://?network=HomeNet:s3cr3t99&latency_scale=0&host=example.com=127.0.0.1:{server.port}",
                             baudrate=115200, timeout=0.2)
wire = Wire(port)
ready_and_joined(wire)
wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\\r\\n', b"0,CONNECT\\r\\n\\r\\nOK\\r\\n")
wire.exchange(b"AT+CIPSERVER=1,{_free_port()}\\r\\n", b"\\r\\nOK\\r\\n")
port.close()
print("closed")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=60)
    assert done.stdout == "closed\n" and done.returncode == 0, done.stderr
    assert done.stderr == ""
