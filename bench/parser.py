"""Parser throughput as a multiple of the fastest AT wire rate (921600 baud = 92,160 bytes/s).

The stream is what a module sends during a download: command replies and unsolicited lines around 1460-byte
+IPD blocks. It is fed in 1-byte chunks (a serial read per byte, the worst case) and 64-byte chunks.
Goals (issue 3): >= 50x in 1-byte chunks, >= 500x in 64-byte chunks.
"""
from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "host"))
from espat.proto.parser import Parser  # noqa: E402

LINE_RATE = 921600 / 10


def recorded_stream(blocks: int = 200) -> bytes:
    rng = 12345
    parts = [b"\r\nready\r\n", b"AT\r\r\n\r\nOK\r\n", b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n",
             b"4,CONNECT\r\n\r\nOK\r\n", b"\r\nOK\r\n> ", b"\r\nRecv 56 bytes\r\n", b"\r\nSEND OK\r\n"]
    for i in range(blocks):
        payload = bytearray()
        for _ in range(1460):
            rng = (rng * 1103515245 + 12345) & 0x7FFFFFFF
            payload.append(rng >> 16 & 0xFF)
        parts.append(b"\r\n+IPD,4,1460:" + bytes(payload))
        if i % 20 == 0:
            parts.append(b"STATUS:3\r\n+CIPSTATUS:4,\"TCP\",\"127.0.0.1\",80,49153,0\r\n\r\nOK\r\n")
    parts.append(b"4,CLOSED\r\n")
    return b"".join(parts)


def throughput(stream: bytes, chunk: int, min_seconds: float = 1.0) -> float:
    chunks = [stream[i:i + chunk] for i in range(0, len(stream), chunk)]
    total, start = 0, time.perf_counter()
    while True:
        parser = Parser()
        feed = parser.receive_data
        for piece in chunks:
            feed(piece)
        total += len(stream)
        elapsed = time.perf_counter() - start
        if elapsed >= min_seconds:
            return total / elapsed


def main() -> None:
    stream = recorded_stream()
    print(f"stream: {len(stream)} bytes, 200 x 1460-byte +IPD blocks with status lines")
    for chunk, goal in ((1, 50), (64, 500)):
        rate = throughput(stream, chunk)
        print(f"{chunk:>3}-byte chunks: {rate / 1e6:7.2f} MB/s = {rate / LINE_RATE:7.1f}x the 921600-baud line rate "
              f"(goal >= {goal}x)")


if __name__ == "__main__":
    main()
