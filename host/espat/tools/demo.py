"""`espat demo`: the path this project exists for, end to end, with every byte shown.

With no --port it builds a bench on this machine: a fake ESP-01 (AT 1.7) with a Wi-Fi network, and a real collector
(`espat collect`, in this process, on a temporary SQLite database) that the module reaches as `sensors.example`.
Then, as a sketch would: find the module, get in step with it, join, GET the collector's /healthz with a real
HTTP/1.1 request, POST a reading in the reporter's JSON, and print the wire transcript and what the collector stored.
"""
from __future__ import annotations

import io
import json
import secrets
import sys
import tempfile
from contextlib import ExitStack
from pathlib import Path
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
    from ..baud import detect_baud
    from ..client import EspAt
    from ..httpclient import request
    sim = collector = None
    bench = ExitStack()
    if port_url is None:
        from esp8266sim import SimConfig, Simulator

        from ..collect.app import Settings
        from ..collect.server import serve_in_thread
        db = Path(bench.enter_context(tempfile.TemporaryDirectory(prefix="espat-demo-"))) / "collect.sqlite3"
        collector = bench.enter_context(serve_in_thread(Settings(f"sqlite:///{db}")))
        sim = Simulator(SimConfig(networks={DEMO_SSID: DEMO_PASSWORD},
                                  hosts={"sensors.example": ("127.0.0.1", collector.port)},
                                  latency_scale=0.25))
        port_url = sim.serve_tcp()
        ssid, password = DEMO_SSID, DEMO_PASSWORD
        get_url, post_url = "http://sensors.example/healthz", "http://sensors.example/api/readings"
        print(f"Bench: a fake ESP-01 (AT 1.7) on {port_url}, a Wi-Fi network {ssid!r}, and `espat collect` on a "
              f"temporary database, which the module knows as sensors.example (really {collector.url}).")
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
            # the reporter's body; the incarnation is the board's random id, new for each demo
            reading = {"device": "uno-demo", "incarnation": secrets.token_hex(4), "boot": 1, "seq": 1,
                       "uptime_ms": 1234, "readings": {"a0_c": 21.5, "chip_c": 29.0, "vcc_mv": 4987}, "dropped": 0}
            payload = json.dumps(reading, separators=(",", ":")).encode()
            _step(5, f"POST a {len(payload)}-byte JSON reading to {post_url}", transcript)
            answer = bytearray()
            response = request(esp, "POST", post_url, payload, [("Content-Type", "application/json")],
                               sink=answer.extend)
            _result(f"HTTP {response.status} {response.reason}: {bytes(answer).decode('utf-8', 'replace')}",
                    transcript)
        if collector is not None:
            rows = collector.app.state.collector["store"].query()
            print(f"    => the collector's database holds {len(rows)} reading(s):")
            for row in rows:
                print(f"       {json.dumps(row.to_json())}")
        print("\nDone: the module was found, joined the network, and carried a GET and a POST.")
        return 0
    finally:
        if transcript is not None:
            transcript.show()
        if sim is not None:
            sim.close()
        bench.close()
