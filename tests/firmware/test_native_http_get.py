"""The http_get sketch compiled with g++ against the Arduino shim, in both dialects: its request is a proper HTTP/1.1
GET, byte for byte, announced with its exact length, and an answer many times the driver's read buffer reaches USB
whole -- as +IPD (active receive) and, built with ESPAT_PASSIVE_RX=1, read with AT+CIPRECVDATA never more than the
serial buffer holds. Needs g++: a missing compiler fails these tests, it does not skip them.

The sketch runs on the virtual clock (fw_vclock.py), where the module's bytes reach it at the wire's rate in the
sketch's own time. On the host clock a loaded machine that left the fake (or the sketch) unscheduled for 50 ms put a
gap into a payload that a module never makes: the driver took it for lost bytes (its 100 ms payload gap, on the
doubled clock) and dropped the rest of that +IPD, so pages came out short. Only what the host's scheduling does to
the shim's port is tested on the host clock (the last test).
"""
import os
import re
import signal
import threading

import pytest

from esp8266sim import SimConfig, Simulator
from esp8266sim.vclock import VirtualLoop
from simtools import ExactServer, serve_exact

from fw_native import SETTINGS, Run, build, read_wire_log
from fw_vclock import run_virtual

BODY = bytes(range(48, 123)) * 8  # 600 bytes: more than one +IPD's worth of the driver's 32-byte buffer
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY
REQUEST = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"


def get(tmp_path, reply, flags=(), dialect="1", seconds=120):
    """Runs http_get on the virtual clock against a server that answers `reply` to one request, until it has
    printed its outcome (or `seconds` of its time passed); returns (USB text, wire log in the sketch's time, the
    requests the server saw)."""
    loop = VirtualLoop()
    port, requests = serve_exact(loop, lambda request: reply)
    try:
        usb, wire, _ = run_virtual("http_get", tmp_path, loop, port, seconds=seconds, flags=flags,
                                   dialect=dialect, stop_when=lambda usb: b"HTTP status" in usb and usb.endswith(b"\n"))
    finally:
        loop.close()
    return usb, wire, requests


def get_on_the_host_clock(tmp_path, reply, on_request, limit=30):
    """get() on the host clock (doubled): `on_request(run)` is called as the request arrives, before the answer
    goes out."""
    binary = build("http_get", SETTINGS)
    current = {}

    def answer(request):
        on_request(current["run"])
        return reply

    server = ExactServer(answer)     # one request in, the fixed reply out
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1)
    try:
        with Simulator(config) as sim:
            with Run(binary, sim.serve_tcp().split("//", 1)[1], tmp_path, clock_scale=2.0) as run:
                current["run"] = run
                run.wait_until(lambda: b"HTTP status" in run.usb() and run.usb().endswith(b"\n"), limit)
                status, err, usb = run.stop()
    finally:
        server.close()
    assert status is None, err
    return usb, read_wire_log(run.wire_log), server.requests


@pytest.mark.parametrize("passive", [False, True], ids=["active", "passive"])
@pytest.mark.parametrize("dialect", ["1", "2"])
def test_get_is_exact_and_the_answer_reaches_usb_whole(tmp_path, dialect, passive):
    usb, wire, requests = get(tmp_path, REPLY, ("-DESPAT_PASSIVE_RX=1", "-DESPAT_CLIENTS=1") if passive else (), dialect)
    assert requests == [REQUEST]
    assert usb.startswith(REPLY), usb
    assert usb[len(REPLY):] == b"\r\nHTTP status 200\r\n"
    sent = b"".join(data for d, _, data in wire if d == "T")
    announced = re.search(rb"AT\+CIPSEND=0,(\d+)\r\n", sent)
    assert int(announced.group(1)) == len(REQUEST)
    assert sent[announced.end():announced.end() + len(REQUEST) + 2] in (REQUEST, REQUEST + b"AT")
    heard = b"".join(data for d, _, data in wire if d == "R")
    asked = [int(n) for n in re.findall(rb"AT\+CIPRECVDATA=0,(\d+)\r\n", sent)]
    if passive:
        assert b"AT+CIPRECVMODE=1\r\n" in sent
        # The sketch's sink prints each byte at once (room 64): never more than the Uno's serial buffer holds.
        assert asked and max(asked) <= 64, asked
        assert b"+IPD,0," in heard and b"+IPD,0,%d:" % len(REPLY) not in heard
    else:
        assert not asked and b"CIPRECVMODE" not in sent


@pytest.mark.slow
def test_a_page_that_takes_longer_than_the_reply_step_arrives_whole(tmp_path):
    """20 KB at 9600 baud is about 22 s of wire, twice the reply step's own 10 s: the step is extended while bytes
    keep coming, so nothing is cut."""
    body = bytes(range(48, 123)) * 274  # 20,550 bytes
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    usb, wire, _ = get(tmp_path, reply)
    heard, times = b"", []      # what the module said, and when (µs of the sketch's time) each byte was read
    for d, us, data in wire:
        if d == "R":
            heard += data
            times += [us] * len(data)
    took = (times[-1] - times[heard.index(b"+IPD")]) / 1e6     # from the answer's first +IPD to its CLOSED
    assert took > 20.0, f"the answer took {took:.1f} s, not twice the step's 10 s: no proof"
    assert usb.startswith(reply), (len(usb), len(reply))
    assert usb[len(reply):] == b"\r\nHTTP status 200\r\n"


@pytest.mark.slow
def test_a_host_that_leaves_the_program_unscheduled_loses_nothing(tmp_path):
    """The shim's port models the Uno's 64-byte receive buffer, but a loaded test machine may leave the program
    unscheduled while the whole answer piles up in its socket: that says nothing of the sketch (a board's receive
    interrupt never falls behind), so nothing may be lost. The program is stopped outright while the answer (ten
    times the buffer) arrives."""
    stopped = threading.Event()

    def freeze(run):
        os.kill(run.proc.pid, signal.SIGSTOP)
        stopped.set()
        threading.Timer(2.0, os.kill, (run.proc.pid, signal.SIGCONT)).start()   # 600 B take 0.7 s at 9600 baud

    usb, _, requests = get_on_the_host_clock(tmp_path, REPLY, freeze)
    assert stopped.is_set() and requests == [REQUEST]
    assert usb.startswith(REPLY), usb
    assert usb[len(REPLY):] == b"\r\nHTTP status 200\r\n"
