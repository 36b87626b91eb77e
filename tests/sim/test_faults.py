"""Every fault kind yields what the real module would show, in both dialects, and nothing hangs (every wait is
bounded). Each test proves its fault fired: by bytes that only the fault explains, or by the wire's own count."""
from __future__ import annotations

import pytest
import serial

from esp8266sim.faults import AfterSend, CommandFaults, FaultError, FaultPlan, parse_fault
from simtools import GET_REPLY, Wire, open_sim, ready_and_joined

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\nConnection: close\r\n\r\n"

# The bytes that differ between the dialects here (notes 1.2, 4.1, 4.3), written out as the tests' own evidence.
PROMPT = {"1": b"\r\nOK\r\n> ", "2": b"\r\nOK\r\n\r\n>"}
BUSY_SENDING = {"1": b"\r\nbusy s...\r\n", "2": b"\r\nbusy p...\r\n"}
JOIN = {"1": b"CWJAP_CUR", "2": b"CWJAP"}


@pytest.fixture(params=["1", "2"], ids=["AT1.7", "AT2.x"])
def dialect(request) -> str:
    return request.param


def _open_and_send(wire, dialect, payload=GET, link=0):
    wire.exchange(b'AT+CIPSTART=%d,"TCP","example.com",80\r\n' % link, b"%d,CONNECT\r\n\r\nOK\r\n" % link)
    wire.exchange(b"AT+CIPSEND=%d,%d\r\n" % (link, len(payload)), PROMPT[dialect])
    wire.send(payload)


@pytest.fixture
def server(exact_server):
    return exact_server(lambda request: GET_REPLY)


def _query(server, dialect, *faults):
    return f"dialect={dialect}&network=HomeNet:s3cr3t99&latency_scale=0&host=example.com=127.0.0.1:{server.port}&" + \
        "&".join("fault=" + f for f in faults)


def test_send_fail_then_closed(sim_port, server, dialect):
    wire = sim_port(_query(server, dialect, "send-fail@send=1"))
    ready_and_joined(wire, dialect=dialect)
    _open_and_send(wire, dialect)
    fail = b"SEND FAIL\r\n" if dialect == "1" else b"\r\nSEND FAIL\r\n"     # 1.7: no CR LF before it
    wire.expect(b"\r\nRecv 56 bytes\r\n" + fail + b"0,CLOSED\r\n")
    assert server.requests == []


def test_remote_close_after_send(sim_port, exact_server, dialect):
    silent = exact_server(lambda request: b"")         # reads, answers nothing, closes
    wire = sim_port(_query(silent, dialect, "remote-close@send=1"))
    ready_and_joined(wire, dialect=dialect)
    _open_and_send(wire, dialect)
    wire.expect(b"\r\nRecv 56 bytes\r\n\r\nSEND OK\r\n0,CLOSED\r\n")
    assert wire.quiet() == b""


def test_wifi_lost_closes_links_and_rejoin_works(sim_port, server, dialect):
    wire = sim_port(_query(server, dialect, "wifi-lost@send=1"))
    ready_and_joined(wire, dialect=dialect)
    wire.exchange(b'AT+CIPSTART=1,"TCP","example.com",80\r\n', b"1,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"0,CONNECT\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPSEND=0,56\r\n", PROMPT[dialect])
    wire.send(GET)
    got = wire.read_until(b"1,CLOSED\r\n")
    assert b"WIFI DISCONNECT\r\n" in got and b"SEND OK" in got
    wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"no ip\r\n\r\nERROR\r\n" if dialect == "1"
                  else b"\r\nERROR\r\n")
    wire.exchange(b'AT+%s="HomeNet","s3cr3t99"\r\n' % JOIN[dialect], b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n")


def test_wifi_lost_at_a_moment(sim_port, server, dialect):
    wire = sim_port(_query(server, dialect, "wifi-lost@t=0.3"))
    ready_and_joined(wire, dialect=dialect)
    wire.expect(b"WIFI DISCONNECT\r\n", timeout=3)


def test_busy_storm(sim_port, server, dialect):
    wire = sim_port(_query(server, dialect, "busy:3@cmd=2"))
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    for _ in range(3):
        wire.exchange(b"AT\r\n", b"\r\nbusy p...\r\n")
    wire.exchange(b"AT\r\n", b"\r\nOK\r\n")


def test_slow_answer(sim_port, server, dialect):
    wire = sim_port(_query(server, dialect, "slow:0.5@cmd=2"))
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    wire.send(b"AT\r\n")
    assert wire.quiet(0.2) == b""
    wire.expect(b"\r\nOK\r\n", timeout=3)


def test_a_slow_answer_to_uart_cur_still_comes_at_the_old_rate(sim_port, dialect):
    """The module sends its OK at the old rate and switches once it is out (notes §7), however late the OK comes:
    a module that switched as it took the command, before its held OK left, sent that OK at the new rate."""
    wire = sim_port(f"dialect={dialect}&latency_scale=0&fault=slow:1@cmd=1")
    wire.expect(b"\r\nready\r\n")
    wire.send(b"AT+UART_CUR=9600,8,1,0,0\r\n")
    wire.expect(b"AT+UART_CUR=9600,8,1,0,0\r\r\n")     # the echo is never held
    assert wire.quiet(0.2) == b""
    wire.expect(b"\r\nOK\r\n", timeout=3)
    wire.port.baudrate = 9600                   # and after it, the new rate
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")


def test_reset_in_mid_send(sim_port, server, dialect):
    wire = sim_port(_query(server, dialect, "reset@send=1"))
    ready_and_joined(wire, dialect=dialect)
    _open_and_send(wire, dialect)
    got = wire.read_until(b"\r\nready\r\n", timeout=3)
    assert b"SEND OK" not in got and b"Recv" not in got
    if dialect == "2":                                  # 2.x saved the join (SYSSTORE=1) and joins again
        wire.read_until(b"WIFI GOT IP\r\n", timeout=5)
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")         # echo is back on after the reboot
    wire.exchange(b"AT+CIPMUX?\r\n", b"AT+CIPMUX?\r\r\n+CIPMUX:0\r\n\r\nOK\r\n")
    assert server.requests == []


def test_tcp_wedged_until_the_module_restarts(sim_port, server, dialect):
    wire = sim_port(_query(server, dialect, "tcp-wedged"))
    ready_and_joined(wire, dialect=dialect)
    wire.exchange(b"AT\r\n", b"\r\nOK\r\n")                # the module still answers
    for _ in range(2):                                      # and stays wedged: no link opens
        wire.exchange(b'AT+CIPSTART=0,"TCP","example.com",80\r\n', b"\r\nERROR\r\n0,CLOSED\r\n")
    assert server.requests == []
    wire.send(b"AT+RST\r\n")
    wire.read_until(b"\r\nready\r\n", timeout=5)
    if dialect == "2":                                      # 2.x joins again by itself (SYSSTORE=1)
        wire.read_until(b"WIFI GOT IP\r\n", timeout=5)
    wire.exchange(b"ATE0\r\n", b"ATE0\r\r\n\r\nOK\r\n")
    if dialect == "1":
        wire.exchange(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"\r\n', b"WIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n")
    wire.exchange(b"AT+CIPMUX=1\r\n", b"\r\nOK\r\n")
    _open_and_send(wire, dialect)                           # the restart freed the stack
    wire.read_until(b"SEND OK\r\n", timeout=5)
    assert server.got_request.wait(5) and len(server.requests) == 1


def test_boot_garbage_before_ready(sim_port, dialect):
    wire = sim_port(f"dialect={dialect}&latency_scale=0&fault=boot-garbage&seed=7")
    got = wire.read_until(b"\r\nready\r\n")
    assert len(got) >= 40 + len(b"\r\nready\r\n")
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")


def test_surplus_payload_bytes_get_busy(sim_port, exact_server, dialect):
    slow = exact_server(lambda request: b"")
    wire = sim_port(f"dialect={dialect}&network=HomeNet:s3cr3t99&latency_scale=1&latency_join=0&latency_rtt=0.3"
                    f"&host=example.com=127.0.0.1:{slow.port}")
    ready_and_joined(wire, mux=False, dialect=dialect)
    wire.exchange(b'AT+CIPSTART="TCP","example.com",80\r\n', b"CONNECT\r\n\r\nOK\r\n", timeout=5)
    wire.exchange(b"AT+CIPSEND=5\r\n", PROMPT[dialect])
    # a println after the data: the rest comes with the 5 bytes, is answered busy before their Recv, and dropped
    # (1.x answers the LF, 2.x any bytes: one busy line either way)
    wire.send(b"hello, and more\r\n")
    wire.expect(BUSY_SENDING[dialect] + b"\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n")


# --- bytes lost or changed on the line, module -> host ------------------------------------------------------------


def _twice(query: str, send: bytes) -> list:
    """What the host reads after `send`, in two runs with the same seed, and how often the wire's fault fired."""
    runs = []
    for _ in range(2):
        port = open_sim(query)
        try:
            wire = Wire(port)
            booted = wire.quiet(0.3)                    # ready, as the faults left it
            port.write(send)
            got = booted + wire.quiet(0.3)
            wire_faults = port.simulator.wire
            runs.append((got, wire_faults.faults_down.fired, wire_faults.faults_up.fired))
        finally:
            port.close()
    assert runs[0] == runs[1]                           # the seed decides, nothing else
    return list(runs[0])


@pytest.mark.parametrize("kind", ["drop:0.2", "corrupt:0.2"])
def test_byte_faults_are_deterministic_with_a_seed(kind, dialect):
    got, fired, _ = _twice(f"dialect={dialect}&latency_scale=0&seed=3&fault={kind}", b"AT+GMR\r\n")
    clean = b"\r\nready\r\n" + _clean_gmr(dialect)
    assert fired > 0 and got != clean
    if kind.startswith("drop"):
        assert len(got) == len(clean) - fired
    else:
        assert len(got) == len(clean)
        assert sum(a != b for a, b in zip(got, clean)) == fired


def _clean_gmr(dialect: str) -> bytes:
    port = open_sim(f"dialect={dialect}&latency_scale=0")
    try:
        wire = Wire(port)
        wire.expect(b"\r\nready\r\n")
        port.write(b"AT+GMR\r\n")
        return wire.read_until(b"OK\r\n")
    finally:
        port.close()


def test_one_byte_to_the_host_lost_or_flipped(sim_port, dialect):
    wire = sim_port(f"dialect={dialect}&latency_scale=0&fault=drop@byte=3")     # ready's 'r'
    wire.expect(b"\r\neady\r\n")
    wire = sim_port(f"dialect={dialect}&latency_scale=0&fault=corrupt@byte=3&seed=1")
    got = wire.read_exactly(len(b"\r\nready\r\n"))
    assert got[:2] == b"\r\n" and got[3:] == b"eady\r\n"
    assert bin(got[2] ^ ord("r")).count("1") == 1          # one bit of the r flipped


# --- bytes lost or changed on the line, host -> module ------------------------------------------------------------


def test_a_byte_lost_from_a_command_line(sim_port, dialect, tmp_path):
    log = tmp_path / "wire.log"
    wire = sim_port(f"dialect={dialect}&latency_scale=0&fault=drop-up@byte=4&log={log}")
    wire.expect(b"\r\nready\r\n")
    wire.exchange(b"AT+GMR\r\n", b"AT+MR\r\r\n\r\nERROR\r\n")        # the module never saw the G
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")
    assert wire.port.simulator.wire.faults_up.fired == 1
    assert "] !! drop-up: byte 4 (0x47) lost\n" in log.read_text()      # the transcript says what happened


def test_a_byte_flipped_in_a_command_line(sim_port, dialect):
    wire = sim_port(f"dialect={dialect}&latency_scale=0&fault=corrupt-up@byte=1&seed=2")
    wire.expect(b"\r\nready\r\n")
    wire.send(b"AT\r\n")
    answer = wire.read_until(b"ERROR\r\n")
    # The line has lost its AT head: 1.x's reader echoes it as typed and answers its LF ERROR at once (no line end
    # of its own after the echo, 1.7/bare-line-end-echo); 2.x echoes the line, then refuses it.
    tail = b"\r\r\nERROR\r\n" if dialect == "1" else b"\r\r\n\r\nERROR\r\n"
    assert answer[2:] == tail and answer[1:2] == b"T" and bin(answer[0] ^ ord("A")).count("1") == 1
    wire.exchange(b"AT\r\n", b"AT\r\r\n\r\nOK\r\n")


def test_a_byte_lost_from_a_cipsend_payload(sim_port, exact_server, dialect):
    """The module counts the bytes it got: one short, it waits; the next byte completes the payload."""
    server = exact_server(lambda request: GET_REPLY)
    before = b'AT+CIPSTART=0,"TCP","example.com",80\r\nAT+CIPSEND=0,%d\r\n' % len(GET)
    setup = b"ATE0\r\n" + b'AT+%s="HomeNet","s3cr3t99"\r\n' % JOIN[dialect] + b"AT+CIPMUX=1\r\n" + before
    lost_at = len(setup) + GET.index(b"Host") + 1        # the H of Host
    wire = sim_port(_query(server, dialect, f"drop-up@byte={lost_at}"))
    ready_and_joined(wire, dialect=dialect)
    _open_and_send(wire, dialect)
    assert wire.quiet(0.3) == b""                       # 55 of 56 bytes: still collecting
    wire.send(b"\n")
    wire.expect(b"\r\nRecv 56 bytes\r\n\r\nSEND OK\r\n")
    wire.read_until(b"0,CLOSED\r\n")
    assert server.requests == [GET.replace(b"Host", b"ost") + b"\n"]
    assert wire.port.simulator.wire.faults_up.fired == 1


def test_a_byte_flipped_in_a_cipsend_payload_reaches_the_server_flipped(sim_port, exact_server, dialect):
    server = exact_server(lambda request: GET_REPLY)
    setup = b"ATE0\r\n" + b'AT+%s="HomeNet","s3cr3t99"\r\n' % JOIN[dialect] + b"AT+CIPMUX=1\r\n" + \
        b'AT+CIPSTART=0,"TCP","example.com",80\r\nAT+CIPSEND=0,%d\r\n' % len(GET)
    at = GET.index(b"example") + 1
    wire = sim_port(_query(server, dialect, f"corrupt-up@byte={len(setup) + at}") + "&seed=4")
    ready_and_joined(wire, dialect=dialect)
    _open_and_send(wire, dialect)
    wire.expect(b"\r\nRecv 56 bytes\r\n\r\nSEND OK\r\n")
    wire.read_until(b"0,CLOSED\r\n")
    (got,) = server.requests
    assert len(got) == len(GET) and got != GET
    diff = [i for i in range(len(GET)) if got[i] != GET[i]]
    assert diff == [at - 1] and bin(got[at - 1] ^ GET[at - 1]).count("1") == 1


@pytest.mark.parametrize("kind", ["drop-up:0.3", "corrupt-up:0.3"])
def test_host_to_module_rates_fire_and_are_deterministic(kind, dialect):
    got, _, fired = _twice(f"dialect={dialect}&latency_scale=0&seed=9&fault={kind}", b"AT+GMR\r\n" * 3)
    assert fired > 0
    assert got.count(b"AT version") < 3                 # a damaged command line is not answered with GMR


@pytest.mark.parametrize("spec, message", [
    ("drop", "needs a value"),
    ("drop:x", "is not a float"),
    ("drop:0.1@byte=3", "a rate (drop:0.01) or one byte (drop@byte=N)"),
    ("corrupt-up@byte=0", "N from 1"),
    ("drop-up@cmd=2", "needs a value, as in drop-up:0.01"),
    ("send-fail", "takes the trigger @send=N"),
    ("busy:2@t=1", "takes the trigger @cmd=N"),
    ("reset@send=0", "N from 1"),
    ("wifi-lost:3", "takes no value"),
])
def test_bad_fault_specs(spec, message):
    with pytest.raises(FaultError, match=message.replace("(", r"\(").replace(")", r"\)").replace(".", r"\.")):
        parse_fault(spec)


def test_a_bad_fault_in_a_sim_url_is_a_serial_exception():
    with pytest.raises(serial.SerialException, match="unknown kind 'lose'"):
        serial.serial_for_url("sim://?fault=lose:0.1")


def test_the_plan_answers_each_moment_with_what_fires_then():
    """The module asks the plan at a boot, a command line, a send, a join and for its timers; the plan counts the
    lines and the sends itself, and leaves the wire's byte faults to the wire."""
    specs = ("busy:2@cmd=2", "slow:0.5", "wifi-lost@cmd=4", "send-fail@send=1", "remote-close@send=2",
             "wifi-lost@send=2", "reset@send=3", "ap-refuses@cmd=5", "tcp-wedged@t=5", "wifi-lost@t=2", "drop:0.1")
    plan = FaultPlan(parse_fault(spec) for spec in specs)
    assert not plan.on_boot() and FaultPlan([parse_fault("boot-garbage")]).on_boot()
    assert plan.on_command() == CommandFaults(hold=0.5)
    assert plan.on_command() == CommandFaults(busy=2)           # the busy fault wins: no hold for a swallowed line
    assert plan.on_command() == CommandFaults(hold=0.5)
    assert plan.on_command() == CommandFaults(wifi_lost=True, hold=0.5)
    assert plan.on_command() == CommandFaults(hold=0.5) and plan.commands == 5
    assert plan.on_join(5) == 4 and plan.on_join(4) == 0
    assert FaultPlan([parse_fault("ap-silent")]).on_join(1) == 1
    assert [plan.on_send() for _ in range(3)] == [1, 2, 3]
    assert plan.send_fails(1) and not plan.send_fails(2)
    assert plan.after_send(2) == AfterSend(remote_close=True, wifi_lost=True) and plan.after_send(1) == AfterSend()
    assert not plan.resets_during(3, 4, 10)                     # halfway is 5 bytes in
    assert plan.resets_during(3, 5, 10) and not plan.resets_during(3, 6, 10)    # once
    lose, wedge = object(), object()
    assert sorted(plan.timers(lose, wedge), key=lambda timer: timer[0]) == [(2.0, lose), (5.0, wedge)]
