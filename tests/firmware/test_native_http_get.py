"""The http_get sketch compiled with g++ against the Arduino shim, in both dialects: its request is a proper HTTP/1.1
GET, byte for byte, announced with its exact length, and an answer many times the driver's read buffer reaches USB
whole -- as +IPD (active receive) and, built with ESPAT_PASSIVE_RX=1, read with AT+CIPRECVDATA never more than the
serial buffer holds. Needs g++: a missing compiler fails these tests, it does not skip them.
"""
import os
import re
import signal
import threading

import pytest

from esp8266sim import SimConfig, Simulator
from simtools import ExactServer

from fw_native import SETTINGS, Run, build, read_wire_log

BODY = bytes(range(48, 123)) * 8  # 600 bytes: more than one +IPD's worth of the driver's 32-byte buffer
REPLY = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(BODY) + BODY
REQUEST = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"


def get(tmp_path, reply, flags=(), dialect="1", limit=30, env=None, on_request=None):
    """Runs http_get against a server that answers `reply` to one request; returns (USB text, wire log, the
    requests the server saw). `on_request(run)` is called as the request arrives, before the answer goes out."""
    binary = build("http_get", SETTINGS, flags)
    current = {}

    def answer(request):
        if on_request:
            on_request(current["run"])
        return reply

    server = ExactServer(answer)     # one request in, the fixed reply out
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1, dialect=dialect)
    try:
        with Simulator(config) as sim:
            with Run(binary, sim.serve_tcp().split("//", 1)[1], tmp_path, clock_scale=2.0, env=env) as run:
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
    """10 KB at 9600 baud is about 11 s of wire (22 s on the sketch's doubled clock), past the reply step's own
    10 s: the step is extended while bytes keep coming, so nothing is cut."""
    body = bytes(range(48, 123)) * 137  # 10,275 bytes
    reply = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n" % len(body) + body
    usb, wire, _ = get(tmp_path, reply, limit=60)
    heard = [us for d, us, _ in wire if d == "R"]
    assert (heard[-1] - heard[0]) / 1e6 * 2.0 > 10.0, "the answer came faster than the step's 10 s: no proof"
    assert usb.startswith(reply), (len(usb), len(reply))
    assert usb[len(reply):] == b"\r\nHTTP status 200\r\n"


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

    usb, _, requests = get(tmp_path, REPLY, on_request=freeze)
    assert stopped.is_set() and requests == [REQUEST]
    assert usb.startswith(REPLY), usb
    assert usb[len(REPLY):] == b"\r\nHTTP status 200\r\n"
