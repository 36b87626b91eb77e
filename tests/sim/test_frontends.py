"""Each front end driven with raw bytes through pyserial, as a real serial client would."""
from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import time

import pytest
import serial

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
    (["--dialect", "3"], "invalid choice"),
    (["--tcp", "nonsense"], "expected HOST:PORT"),
    (["--baud", "12"], "baud rate 12 is outside"),
])
def test_cli_bad_input_is_one_line_and_status_2(args, message):
    done = subprocess.run([sys.executable, "-m", "esp8266sim", *args], capture_output=True, text=True, timeout=30)
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
    from espat.events import Ipd
    from espat.parser import Parser
    received = b"".join(e.data for e in Parser().receive_data(stream) if isinstance(e, Ipd))
    assert hashlib.sha256(received).hexdigest() == hashlib.sha256(reply).hexdigest()
