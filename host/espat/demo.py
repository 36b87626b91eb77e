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


class _Tee(io.TextIOBase):
    def __init__(self, *targets) -> None:
        self.targets = [t for t in targets if t is not None]

    def write(self, text: str) -> int:
        for target in self.targets:
            target.write(text)
        return len(text)

    def flush(self) -> None:
        for target in self.targets:
            target.flush()


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


def _step(number: int, text: str) -> None:
    print(f"\n[{number}] {text}", flush=True)


def run_demo(port_url: Optional[str], baud: int, ssid: Optional[str], password: Optional[str],
             get_url: Optional[str], post_url: Optional[str], verbose: bool) -> int:
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
        print(f"Bench: a fake ESP-01 on {port_url}, Wi-Fi {ssid!r}, and an HTTP server it knows as "
              f"sensors.example (really 127.0.0.1:{server.server_address[1]}).")
    transcript = io.StringIO()
    trace = _Tee(transcript, sys.stderr if verbose else None)
    try:
        _step(1, f"detect: which baud rate does the module on {port_url} answer at?")
        rate = detect_baud(port_url)
        if rate is None:
            print("    no answer at any rate: check wiring and power (espat doctor says more)")
            return 3
        print(f"    AT answered at {rate} baud")
        with EspAt(port_url, rate, trace=trace) as esp:
            _step(2, "sync: end any half-typed line, AT until OK, echo off, read the firmware version")
            esp.sync()
            version = esp.firmware or esp.version()
            print(f"    AT {esp.dialect.name}: {version.get('AT version', '?')}")
            _step(3, f"join {ssid!r} (the password never appears in the transcript)")
            esp.join(ssid, password)
            print(f"    joined; address {esp.addresses().get('STAIP')}")
            _step(4, f"GET {get_url}: CIPMUX=1, CIPSTART, CIPSEND with the exact byte count, +IPD back")
            body = bytearray()
            response = request(esp, "GET", get_url, sink=body.extend)
            print(f"    HTTP {response.status} {response.reason}: {bytes(body).decode('utf-8', 'replace').strip()}")
            reading = {"device": "uno-demo", "boot": 1, "seq": 1, "uptime_ms": 1234,
                       "readings": {"a0_c": 21.5, "chip_c": 29.0, "vcc_mv": 4987}}
            payload = json.dumps(reading, separators=(",", ":")).encode()
            _step(5, f"POST a {len(payload)}-byte JSON reading to {post_url}")
            answer = bytearray()
            response = request(esp, "POST", post_url, payload, [("Content-Type", "application/json")],
                               sink=answer.extend)
            print(f"    HTTP {response.status} {response.reason}: {bytes(answer).decode('utf-8', 'replace')}")
        if server is not None:
            print(f"    the server holds {len(_SensorServer.readings)} reading(s): {_SensorServer.readings[-1]}")
        print("\n--- wire transcript (-> to the module, <- from it) ---")
        print(transcript.getvalue(), end="")
        return 0
    finally:
        if sim is not None:
            sim.close()
        if server is not None:
            server.shutdown()
            server.server_close()
