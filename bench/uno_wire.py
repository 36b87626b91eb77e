"""The compiled reporter in simavr on the 9600-baud SoftwareSerial wire, beside a tutorial-style sketch doing the
same job.

Both are built with the real `pio run` (the reporter from platformio.ini, the other from bench/seed_sketch) and run
in the AVR harness held to real time, against the fake ESP-01 paced at 9600 baud with its realistic latencies and
a loopback HTTP server that answers 201 (500 to its second request, so a failed post is in the run). From the
harness's wire log (every byte with its emulated time), per reading:

- time from the first byte of AT+CIPSTART (the reading was just sampled) to the end of the server's 2xx status
  line arriving at the Uno, as a ratio to the wire time of the bytes both ways in that span (10 bits a byte;
  SoftwareSerial cannot receive while it sends, so the two directions add). Goal <= 1.3.
- the gap from the module's `>` prompt to the first byte of the HTTP request.
- how many readings the server stored of those taken.

    python bench/uno_wire.py [--seconds 40] [--latency-scale 1.0]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "firmware" / "tools"))

import pio_core  # noqa: E402
from esp8266sim import SimConfig, Simulator  # noqa: E402
from unosim import Uno  # noqa: E402

BAUD = 9600
BYTE_US = 10 / BAUD * 1e6
SETTINGS = {"ESPAT_WIFI_SSID": "HomeNet", "ESPAT_WIFI_PASS": "s3cr3t99", "ESPAT_SERVER_HOST": "example.com",
            "ESPAT_SERVER_PORT": "80", "ESPAT_SERVER_PATH": "/api/readings", "ESPAT_DEVICE": "bench-uno",
            "ESPAT_INTERVAL_MS": "5000"}


class Server:
    """Keeps each POSTed JSON body with the status it got; the second request is answered 500."""

    def __init__(self) -> None:
        self.answers = []
        bench = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                status = 500 if len(bench.answers) == 1 else 201
                bench.answers.append((status, body))
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def delivered(self):
        seqs = [json.loads(body)["seq"] for status, body in self.answers if status == 201]
        taken = max([json.loads(body)["seq"] for _, body in self.answers] or [0])
        return len(set(seqs)), taken

    def close(self):
        self.http.shutdown()
        self.http.server_close()


def build(project: Path, env: str, out: Path) -> Path:
    done = subprocess.run([*pio_core.pio_command(), "run", "-d", str(project), "-e", env],
                          env={**pio_core.environ(pio_core.seed()), **SETTINGS, "PLATFORMIO_BUILD_DIR": str(out)},
                          capture_output=True, text=True)
    if done.returncode != 0:
        sys.exit(f"pio run -e {env} failed:\n{done.stdout[-1500:]}{done.stderr[-1500:]}")
    return out / env / "firmware.elf"


def read_wire_log(path: Path):
    """Two streams, [(µs, byte)] each: what the Uno sent (T) and what it heard (R)."""
    sent, heard = [], []
    for line in path.read_text().splitlines():
        direction, us, byte = line.split()
        (sent if direction == "T" else heard).append((float(us), int(byte, 16)))
    return sent, heard


def find_all(stream, needle: bytes):
    data = bytes(b for _, b in stream)
    at = data.find(needle)
    while at >= 0:
        yield at
        at = data.find(needle, at + 1)


def per_reading(sent, heard):
    """[(ratio to wire time, ms from `>` to the request's first byte)] for each reading whose 2xx arrived."""
    heard_bytes = bytes(b for _, b in heard)
    out = []
    for at in find_all(sent, b"AT+CIPSTART"):
        start = sent[at][0]
        first_heard = next((i for i, (us, _) in enumerate(heard) if us >= start), None)
        if first_heard is None:
            break
        status = heard_bytes.find(b"HTTP/1.1 2", first_heard)
        if status < 0:
            continue
        line_end = heard_bytes.find(b"\n", status)
        if line_end < 0:
            break
        end = heard[line_end][0] + BYTE_US
        count = sum(1 for us, _ in sent if start <= us < end) + sum(1 for us, _ in heard if start <= us < end)
        prompt = next((us for us, b in heard if us >= start and b == ord(">")), None)
        after = next((us for us, b in sent if prompt is not None and us > prompt and b != 0), None)
        gap_ms = (after - prompt - BYTE_US) / 1000 if prompt is not None and after is not None else float("nan")
        out.append(((end - start) / (count * BYTE_US), gap_ms, (end - start) / 1000))
    return out


def run(elf: Path, seconds: float, latency_scale: float):
    server = Server()
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.http.server_port)},
                       baud=BAUD, latency_scale=latency_scale)
    with tempfile.TemporaryDirectory() as tmp, Simulator(config) as sim:
        log = Path(tmp) / "wire.log"
        with Uno.sketch(elf, esp=sim.serve_tcp().split("//", 1)[1], wiring="softserial", esp_baud=BAUD, a0=0.250,
                        seconds=seconds, wire_log=log) as uno:
            uno._proc.wait(timeout=seconds * 3 + 60)
        sent, heard = read_wire_log(log)
    server.close()
    return per_reading(sent, heard), server.delivered()


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--seconds", type=float, default=40.0, help="emulated seconds per sketch")
    ap.add_argument("--latency-scale", type=float, default=1.0)
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        elves = {"reporter_softserial": build(ROOT, "reporter_softserial", Path(tmp) / "r"),
                 "seed sketch (String, delay+find)": build(ROOT / "bench" / "seed_sketch", "seed", Path(tmp) / "s")}
        print(f"per reading over the fake ESP-01 at {BAUD} baud, {args.seconds:.0f} s emulated each, "
              f"latency scale {args.latency_scale}; the server answers 500 to its second request")
        times = {}
        for name, elf in elves.items():
            rows, (delivered, taken) = run(elf, args.seconds, args.latency_scale)
            if not rows:
                print(f"{name}: no reading reached the server")
                continue
            ratios = [r for r, _, _ in rows]
            gaps = [g for _, g, _ in rows]
            times[name] = statistics.median(ms for _, _, ms in rows)
            print(f"{name}: {len(rows)} readings answered 2xx; sample -> 2xx {times[name]:.0f} ms median, "
                  f"{statistics.median(ratios):.2f}x its wire time (min {min(ratios):.2f}, max {max(ratios):.2f}); "
                  f"prompt -> first request byte {statistics.median(gaps):.1f} ms median; "
                  f"stored {delivered} of {taken} readings taken")
        if len(times) == 2:
            reporter, seed = times.values()
            print(f"seed / reporter time per reading: {seed / reporter:.1f}x (goal >= 3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
