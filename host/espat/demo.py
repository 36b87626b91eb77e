"""`espat demo`: the path this project exists for, end to end, with every byte shown.

With no --port it builds a bench on this machine: a fake ESP-01 (AT 1.7) with a Wi-Fi network, and a loopback
HTTP server that the module reaches as `sensors.example`. Then, as a sketch would: find the module, get in step
with it, join, GET a page with a real HTTP/1.1 request, POST a JSON reading, and print the wire transcript.
"""
from __future__ import annotations

import io
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Optional

__all__ = ["run_demo"]

DEMO_SSID, DEMO_PASSWORD = "espat-demo", "demo-passphrase"


class _StepTranscript(io.TextIOBase):
    """The wire trace, held until the step that caused it is over and then shown under it, indented."""

    def __init__(self) -> None:
        self.lines: list = []

    def write(self, text: str) -> int:
        self.lines.append(text)
        return len(text)

    def show(self) -> None:
        for line in "".join(self.lines).splitlines():
            print(f"      {line}")
        self.lines.clear()
        sys.stdout.flush()


class _SensorServer(BaseHTTPRequestHandler):
    """What the readings go to: GET /hello says hello, POST /api/readings stores a JSON reading."""
    readings: list = []
    protocol_version = "HTTP/1.1"

    def _answer(self, status: int, body: bytes, ctype: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Connection", "close")
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self) -> None:
        if self.path == "/hello":
            self._answer(200, b"hello from the loopback server\n", "text/plain")
        else:
            self._answer(404, b"not here\n", "text/plain")

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length)
        try:
            reading = json.loads(body)
        except ValueError:
            self._answer(400, b'{"ok":false}', "application/json")
            return
        self.readings.append(reading)
        self._answer(201, json.dumps({"ok": True, "stored": len(self.readings)}).encode(), "application/json")

    def log_message(self, *args) -> None:
        pass


def _step(number: int, text: str, transcript) -> None:
    if transcript is not None:
        transcript.show()
    print(f"\n[{number}] {text}", flush=True)


def _result(text: str, transcript) -> None:
    if transcript is not None:
        transcript.show()
    print(f"    => {text}", flush=True)


def run_demo(port_url: Optional[str], baud: int, ssid: Optional[str], password: Optional[str],
             get_url: Optional[str], post_url: Optional[str], verbose: bool) -> int:
    """With `verbose` the wire trace goes to stderr as it happens; otherwise each step's share of it is printed
    under the step, once the step is over."""
    from .baud import detect_baud
    from .client import EspAt
    from .httpclient import request
    sim = server = None
    if port_url is None:
        from esp8266sim import SimConfig, Simulator
        server = ThreadingHTTPServer(("127.0.0.1", 0), _SensorServer)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        sim = Simulator(SimConfig(networks={DEMO_SSID: DEMO_PASSWORD},
                                  hosts={"sensors.example": ("127.0.0.1", server.server_address[1])},
                                  latency_scale=0.25))
        port_url = sim.serve_tcp()
        ssid, password = DEMO_SSID, DEMO_PASSWORD
        get_url, post_url = "http://sensors.example/hello", "http://sensors.example/api/readings"
        print(f"Bench: a fake ESP-01 (AT 1.7) on {port_url}, a Wi-Fi network {ssid!r}, and an HTTP server the "
              f"module knows as sensors.example (really 127.0.0.1:{server.server_address[1]}).")
    print("Wire lines: -> host to module, <- module to host, [seconds] since the port opened; \\r \\n are CR LF.")
    transcript = None if verbose else _StepTranscript()
    trace = sys.stderr if verbose else transcript
    try:
        _step(1, f"detect: at which baud rate does the module on {port_url} answer AT?", None)
        rate = detect_baud(port_url, trace=trace)
        if rate is None:
            _result("no answer at any rate: check wiring and power (`espat doctor` says more)", transcript)
            return 3
        _result(f"AT answered at {rate} baud", transcript)
        with EspAt(port_url, rate, trace=trace) as esp:
            _step(2, "sync: end any half-typed line, AT until OK, echo off, read the firmware version", transcript)
            esp.sync()
            version = esp.firmware or esp.version()
            _result(f"AT {esp.dialect.name} firmware, {version.get('AT version', '?')}", transcript)
            _step(3, f"join {ssid!r} in station mode (the password is shown as ***)", transcript)
            esp.join(ssid, password)
            _result(f"joined; the module's address is {esp.addresses().get('STAIP')}", transcript)
            _step(4, f"GET {get_url}: open link 0, send the request with its exact byte count, read +IPD",
                  transcript)
            body = bytearray()
            response = request(esp, "GET", get_url, sink=body.extend)
            _result(f"HTTP {response.status} {response.reason}: "
                    f"{bytes(body).decode('utf-8', 'replace').strip()}", transcript)
            reading = {"device": "uno-demo", "boot": 1, "seq": 1, "uptime_ms": 1234,
                       "readings": {"a0_c": 21.5, "chip_c": 29.0, "vcc_mv": 4987}}
            payload = json.dumps(reading, separators=(",", ":")).encode()
            _step(5, f"POST a {len(payload)}-byte JSON reading to {post_url}", transcript)
            answer = bytearray()
            response = request(esp, "POST", post_url, payload, [("Content-Type", "application/json")],
                               sink=answer.extend)
            _result(f"HTTP {response.status} {response.reason}: {bytes(answer).decode('utf-8', 'replace')}",
                    transcript)
        if server is not None:
            print(f"    => the server now holds {len(_SensorServer.readings)} reading(s); the last: "
                  f"{json.dumps(_SensorServer.readings[-1])}")
        print("\nDone: the module was found, joined the network, and carried a GET and a POST.")
        return 0
    finally:
        if transcript is not None:
            transcript.show()
        if sim is not None:
            sim.close()
        if server is not None:
            server.shutdown()
            server.server_close()
