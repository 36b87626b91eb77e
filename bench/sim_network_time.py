"""How the fake ESP-01's network takes time: one GET per round trip, times read from its own transcript.

For each rtt, a loopback server that answers at once, and one exchange (CIPSTART, CIPSEND of the request, the
reply). Printed as ratios to the rtt, each at least 1 by design: CIPSTART to CONNECT (the handshake), the last
request byte to SEND OK (the ACK's round trip, plus the module's own send time), and to the first +IPD (the reply
can come no sooner). Load on the machine can only make them larger.
"""
from __future__ import annotations

import os
import socket
import sys
import tempfile
import threading
import time

sys.path[:0] = [os.path.join(os.path.dirname(__file__), "..", p) for p in ("host", "simulator")]
import serial  # noqa: E402

import esp8266sim  # noqa: E402,F401

REQUEST = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"


def server() -> int:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)

    def serve() -> None:
        while True:
            conn, _ = listener.accept()
            with conn:
                data = b""
                while b"\r\n\r\n" not in data:
                    data += conn.recv(4096)
                conn.sendall(REPLY)
    threading.Thread(target=serve, daemon=True).start()
    return listener.getsockname()[1]


def read_until(port, needle: bytes, held: bytearray) -> None:
    deadline = time.monotonic() + 20
    while needle not in held and time.monotonic() < deadline:
        held += port.read(max(1, port.in_waiting))
    if needle not in held:
        raise SystemExit(f"no {needle!r} from the fake: {bytes(held[-100:])!r}")
    del held[:held.index(needle) + len(needle)]


def one_exchange(rtt: float, port_number: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        log = os.path.join(tmp, "wire.log")
        url = (f"sim://?network=HomeNet:s3cr3t99&host=example.com=127.0.0.1:{port_number}&latency_rtt={rtt}"
               f"&latency_join=0&latency_boot=0&latency_dns=0&log={log}")
        port = serial.serial_for_url(url, baudrate=115200, timeout=0.05)
        held = bytearray()
        try:
            read_until(port, b"ready\r\n", held)
            for command, answer in [(b"ATE0\r\n", b"OK\r\n"), (b'AT+CWJAP_CUR="HomeNet","s3cr3t99"\r\n', b"OK\r\n"),
                                    (b'AT+CIPSTART="TCP","example.com",80\r\n', b"OK\r\n"),
                                    (b"AT+CIPSEND=%d\r\n" % len(REQUEST), b"> "), (REQUEST, b"CLOSED\r\n")]:
                port.write(command)
                read_until(port, answer, held)
        finally:
            port.close()
        rows = []
        with open(log) as text:
            for line in text:
                stamp, _, rest = line.partition("] ")
                rows.append((float(stamp.strip("[ ")), rest))

    def first(prefix: str) -> float:
        return next(t for t, rest in rows if rest.startswith(prefix))
    sent = first("-> GET / HTTP/1.1")
    return {"connect": (first("<- CONNECT") - first("-> AT+CIPSTART")) / rtt,
            "send_ok": (first("<- \\r\\nSEND OK") - sent) / rtt,
            "reply": (first("<- \\r\\n+IPD") - sent) / rtt}


def main() -> None:
    port_number = server()
    print("One exchange through the fake ESP-01 per rtt, as ratios to the rtt (each >= 1 by design):")
    for rtt in (0.03, 0.1, 0.3):
        r = one_exchange(rtt, port_number)
        print(f"  rtt {rtt * 1000:5.0f} ms: CIPSTART->CONNECT {r['connect']:.2f}  request->SEND OK "
              f"{r['send_ok']:.2f}  request->+IPD {r['reply']:.2f}")


if __name__ == "__main__":
    main()
