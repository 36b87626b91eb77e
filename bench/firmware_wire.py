"""The reporter on the serial wire: bytes and wall time per reading, against the time those bytes need at 9600 baud.

The reporter_softserial sketch is built for the host (g++ against tests/firmware/shim, as the native tests do) and
run in real time against the fake ESP-01 paced at 9600 baud with its realistic latencies (join, DNS, connect,
send), posting to a loopback HTTP server. Each post is a burst on the wire; per burst this prints the bytes each
way, the wall time from its first byte to its last, and that time as a ratio to the wire time of the bytes
(10 bits a byte; both directions summed, since SoftwareSerial cannot receive while it transmits). Goal: <= 1.3.
It measures the default build (a link per reading) and one with ESPAT_KEEP_ALIVE=1 against a server that keeps
the link open (HTTP/1.1 keep-alive).

    python bench/firmware_wire.py [--readings 6] [--interval-ms 3000] [--latency-scale 1.0]
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "firmware"))

from esp8266sim import SimConfig, Simulator  # noqa: E402

from fw_native import SETTINGS, Collector, Run, build, read_wire_log  # noqa: E402

BAUD = 9600
GAP_US = 300_000  # silence that separates one post's burst from the next


def bursts(chunks):
    """Groups wire-log chunks into bursts separated by GAP_US of silence: [[first µs, last µs, sent, heard, posts]]
    where posts says whether the burst opened a link or sent on one."""
    out = []
    for direction, us, data in chunks:
        if not out or us - out[-1][1] > GAP_US:
            out.append([us, us, 0, 0, b""])
        burst = out[-1]
        burst[1] = us
        burst[2 if direction == "T" else 3] += len(data)
        if direction == "T":
            burst[4] += data
    return [[*b[:4], b"AT+CIPS" in b[4]] for b in out]


def measure(args, flags: tuple, keep_alive: bool):
    """Runs one build; returns [(sent, heard, wall µs, wire µs)] per measured post, or None if it fell short."""
    binary = build("reporter_softserial", {**SETTINGS, "ESPAT_INTERVAL_MS": str(args.interval_ms)}, flags)
    collector = Collector(keep_alive=keep_alive)
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", collector.port)},
                       baud=BAUD, latency_scale=args.latency_scale)
    with tempfile.TemporaryDirectory() as tmp, Simulator(config) as sim:
        with Run(binary, sim.serve_tcp().split("//", 1)[1], Path(tmp)) as run:
            # Two more than measured: the start-up's burst may hold two posts, and is not measured.
            want = args.readings + 2
            ok = run.wait_until(lambda: run.usb().count(b"post status 201\r\n") >= want,
                                limit=30 + args.readings * (args.interval_ms / 1000 + 5))
            run.stop()
            chunks = read_wire_log(run.wire_log)
    collector.close()
    if not ok:
        return None
    # The first post shares its burst with the end of the join; the later ones stand alone.
    byte_us = 10 / BAUD * 1e6
    # The last chunk's own bytes take wire time after its timestamp: count them as the burst's tail.
    return [(sent, heard, last - first + byte_us, (sent + heard) * byte_us)
            for first, last, sent, heard, posts in bursts(chunks) if posts][1:args.readings + 1]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--readings", type=int, default=6)
    ap.add_argument("--interval-ms", type=int, default=3000)
    ap.add_argument("--latency-scale", type=float, default=1.0)
    args = ap.parse_args(argv)

    print(f"reporter_softserial over the fake ESP-01 at {BAUD} baud, latency scale {args.latency_scale}")
    for title, flags, keep_alive in (
            ("default build: a link per reading, Connection: close", (), False),
            ("ESPAT_KEEP_ALIVE=1, server keeps the link open", ("-DESPAT_KEEP_ALIVE=1", "-DESPAT_CLIENTS=1"), True)):
        posts = measure(args, flags, keep_alive)
        if posts is None:
            print(f"{title}: the reporter did not deliver every reading in time", file=sys.stderr)
            return 1
        print(f"\n{title}")
        print(f"{'post':>4} {'sent':>6} {'heard':>6} {'wall ms':>8} {'wire ms':>8} {'ratio':>6}")
        for i, (sent, heard, wall, wire) in enumerate(posts, 1):
            print(f"{i:>4} {sent:>6} {heard:>6} {wall / 1000:>8.0f} {wire / 1000:>8.0f} {wall / wire:>6.2f}")
        print(f"per reading: {statistics.mean(s + h for s, h, _, _ in posts):.0f} bytes on the wire, "
              f"wall/wire median {statistics.median(w / x for _, _, w, x in posts):.2f} (goal <= 1.3)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
