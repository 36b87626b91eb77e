"""The reporter on the days it exists for (issue 15), compiled with g++ against the Arduino shim and run against the
fake ESP-01: a server that is down (back off to minutes, leave Wi-Fi alone), readings kept across a reset through
an outage (EEPROM, not RAM), a boot counter started over with the same incarnation (the collector's 409, a new
incarnation, the reading sent again), and the diagnostics each reading carries. The runs of minutes of board time
are on the virtual clock (fw_vclock.py: idle time skipped, the collector's delays virtual); the rest on the shim's
scaled host clock, which the watchdog test needs.
Needs g++: a missing compiler fails these tests."""
import json
import re
import socket

import pytest

from esp8266sim import SimConfig, Simulator

from fw_native import SETTINGS, Collector, Run, build, identity_image, read_wire_log
from fw_vclock import VirtualCollector, run_board_virtual

pytestmark = pytest.mark.slow     # tests/README.md: the tiers (native reporter, 10s of board-s)


def closed_port() -> int:
    """A loopback port nobody listens on: a server that is down."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_board(workdir, port, *, seconds, clock_scale, settings=SETTINGS, flags=(), stop_when=None, eeprom=None,
              env=None, faults=()):
    """Runs the softserial reporter until `seconds` board-seconds pass (or stop_when() holds); returns (USB text,
    what it sent the module, the EEPROM after)."""
    binary = build("reporter_softserial", settings, flags)
    workdir.mkdir(parents=True, exist_ok=True)
    if eeprom is not None:
        (workdir / "eeprom.bin").write_bytes(eeprom)
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", port)}, baud=9600,
                       latency_scale=0.1, seed=5, faults=list(faults))
    with Simulator(config) as sim:
        esp = sim.serve_tcp().split("//", 1)[1]
        with Run(binary, esp, workdir, clock_scale=clock_scale,
                 env={"ESPAT_SHIM_RUN_MS": str(int(seconds * 1000)), **(env or {})}) as program:
            program.wait_until(lambda: stop_when is not None and stop_when(), seconds / clock_scale + 30)
            status, err, usb = program.stop()
    assert status in (None, 0), err
    sent = b"".join(data for d, _, data in read_wire_log(workdir / "wire.bin") if d == "T")
    return usb, sent, (workdir / "eeprom.bin").read_bytes()


def test_a_server_that_is_down_is_backed_off_and_wifi_left_alone(tmp_path):
    """Measured before the fix, 160 board-seconds: 16 AT+CWJAP, 48 AT+CIPSTART (three failed posts forced a resync,
    which reset the back-off and re-joined Wi-Fi). Now: one join, pauses doubling towards 5 minutes, no reset of
    a module that answers."""
    usb, sent, _ = run_board_virtual(tmp_path, closed_port(), seconds=240)
    joins = len(re.findall(rb"AT\+CWJAP(?:_CUR)?=", sent))
    queries = len(re.findall(rb"AT\+CWJAP(?:_CUR)?\?", sent))
    connects, resets = sent.count(b"AT+CIPSTART"), sent.count(b"AT+RST")
    print(f"240 board-seconds, server down: {joins} joins, {connects} connects, {resets} resets, "
          f"{queries} station queries")
    assert joins == 1 and resets == 0
    # Refused twice running, the board asks whether the station is still joined (the module says it is).
    assert connects // 2 - 1 <= queries <= connects // 2, (queries, connects)
    # 1, 2, 4 ... 128 s ceilings with half-to-full jitter: at most 10 tries in 240 s, at least 6
    assert 6 <= connects <= 10, connects
    pauses = [int(line.split()[-1]) for line in usb.decode().splitlines() if line.startswith("back off ms")]
    assert pauses == sorted(pauses) or all(b >= a // 2 for a, b in zip(pauses, pauses[1:])), pauses
    assert max(pauses) >= 32000


def test_readings_taken_in_an_outage_survive_a_reset_and_arrive_once(tmp_path):
    """Server down for the first boot, the board reset (the process killed at an arbitrary moment, as a power cut),
    then the server back: every reading of both boots arrives, in order, once; the first boot's without an age
    (no clock outlives a reset), the second's with one."""
    _, _, eeprom = run_board(tmp_path / "1", closed_port(), seconds=11, clock_scale=2)
    collector = Collector(by_key=True)
    try:
        def first_boot_and_two_more():
            with collector.lock:
                keys = list(collector.stored)
            return sum(1 for _, boot, _ in keys if boot == 2) >= 2
        usb, _, _ = run_board(tmp_path / "2", collector.port, seconds=60, clock_scale=2, eeprom=eeprom,
                              stop_when=first_boot_and_two_more)
    finally:
        collector.close()
    readings = [json.loads(body) for _, _, body in collector.posts]
    boot1 = [r["seq"] for r in readings if r["boot"] == 1]
    assert boot1[:5] == [1, 2, 3, 4, 5], boot1  # 11 s at one reading in 2 s: five or six kept through the reset
    assert all("age_ms" not in r for r in readings if r["boot"] == 1)
    # The second boot's ages are board time from sampling to the post, on the host's clock (scaled): a loaded host
    # lengthens the wait behind the first boot's readings, and the ages with it. What load cannot change: each
    # reading went out age_ms after it was sampled, the posts in order, all inside the board's 60-second run.
    posted_at = [r["uptime_ms"] + r["age_ms"] for r in readings if r["boot"] == 2]
    assert all(r["age_ms"] >= 0 for r in readings if r["boot"] == 2)
    assert posted_at == sorted(posted_at) and posted_at[-1] <= 60 * 1000, posted_at
    assert all(r["dropped"] == 0 for r in readings)
    assert collector.statuses.count(409) == 0 and set(collector.statuses) <= {200, 201}
    firsts = [(r["boot"], r["seq"]) for r in readings]
    assert firsts == sorted(firsts)
    assert b"reporter boot 2\r\nqueued " in usb


def test_a_boot_counter_started_over_costs_a_resend_not_the_readings(tmp_path):
    """The board's identity starts over with the same incarnation (what a blank EEPROM and an ADC without noise
    did): the collector has other readings under the same keys and answers 409; the board draws a new
    incarnation and sends again. Before, the collector answered 200 and the new readings were thrown away."""
    collector = Collector(by_key=True)
    try:
        def stored(n):
            return lambda: len(collector.stored) >= n
        _, _, eeprom = run_board(tmp_path / "1", collector.port, seconds=60, clock_scale=2, stop_when=stored(3))
        first = json.loads(collector.posts[0][2])
        # The identity as a blank start would make it with the same noise: generation 0, the same incarnation.
        blank_again = identity_image(0, int(first["incarnation"], 16))
        # Another day, another temperature: what was sampled differs (the shim's ADC has no noise of its own).
        usb, _, _ = run_board(tmp_path / "2", collector.port, seconds=60, clock_scale=2, eeprom=blank_again,
                              stop_when=stored(6), env={"ESPAT_SHIM_A0_MV": "230"})
    finally:
        collector.close()
    assert 409 in collector.statuses, [(s, json.loads(b)) for s, (_, _, b) in zip(collector.statuses, collector.posts)]
    assert b"new incarnation" in usb
    second = [json.loads(body) for _, _, body in collector.posts][3:]
    assert second[0]["boot"] == 1 and second[0]["incarnation"] == first["incarnation"]  # the collision
    stored_second = [r for k, r in collector.stored.items() if k[0] != first["incarnation"]]
    assert [r["seq"] for r in stored_second][:3] == [1, 2, 3]  # the colliding reading was kept and sent again
    assert 200 not in collector.statuses  # no reading taken for a repeat it was not


def test_every_reading_carries_the_diagnostics(tmp_path):
    collector = Collector(by_key=True, answers={2: 503})
    try:
        run_board(tmp_path, collector.port, seconds=60, clock_scale=2, stop_when=lambda: len(collector.stored) >= 3)
    finally:
        collector.close()
    readings = [json.loads(body) for _, _, body in collector.posts]
    for r in readings:
        assert set(r["diag"]) == {"reset_cause", "esp_reboots", "wifi_joins", "link_failures"}
        assert r["diag"]["wifi_joins"] == 1
    assert readings[0]["diag"]["reset_cause"] == 0  # the shim's MCUSR: nothing set


def test_the_watchdog_is_fed_only_while_the_reporter_makes_progress(tmp_path):
    """An operation that outlasts its bound starves the watchdog (the shim ends the program as the chip would reset
    it). The bound is shortened here (ESPAT_STALL_MS) so a slow server's answer plays the stall; with the default
    bound the same server is only slow. Before, loop() fed the watchdog on every pass, stalled or not."""
    for flags, stalls in (((), False), (("-DESPAT_STALL_MS=100UL",), True)):
        # 8.5 s: inside the reply's own bound (10 s), past the shortened one plus the watchdog's 7.7 s
        collector = Collector(by_key=True, delay=8.5)
        binary = build("reporter_softserial", SETTINGS, flags)
        config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", collector.port)},
                           baud=9600, latency_scale=0.1, seed=5)
        workdir = tmp_path / str(stalls)
        workdir.mkdir()
        try:
            with Simulator(config) as sim:
                esp = sim.serve_tcp().split("//", 1)[1]
                with Run(binary, esp, workdir, clock_scale=1) as program:
                    program.wait_until(lambda: len(collector.stored) >= 1 or program.proc.poll() is not None, 60)
                    status, err, _ = program.stop()
        finally:
            collector.close()
        if stalls:
            assert status == 86 and "watchdog" in err, (status, err)
        else:
            assert status is None and len(collector.stored) >= 1, (status, err)


@pytest.mark.parametrize("status, header, want", [(429, 20, 20000), (503, 7, 7000), (429, None, None),
                                                  (503, "Fri, 31 Dec 1999 23:59:59 GMT", None), (404, 20, None),
                                                  (429, 4294968, 3600000)])
def test_retry_after_is_honoured_for_429_and_503(tmp_path, status, header, want):
    """The contract's "backoff" answers (429, 503) wait at least Retry-After (delta-seconds); without one, or with
    the HTTP-date form, the back-off's own pause (at most 1 s after a first failure); "keep" answers (404) ignore it.
    Before, every such answer waited 1 s. An absurd Retry-After is an hour (the back-off's bound): 4,294,968 s once
    came out as 704 ms, its milliseconds past 32 bits. On the virtual clock with a server that answers at once:
    before, the shim handed the module each request as its first byte left, the answer came while the board was
    still sending and all but its first bytes overflowed the receive buffer -- the Retry-After header lost (a
    pause of 892 ms for 20 s) and every exchange ended by the 15 s reply bound."""
    collector = VirtualCollector(answers={2: status}, retry_after={2: header})
    try:
        usb, sent, _ = run_board_virtual(tmp_path, collector, seconds=60, stop_when=lambda: len(collector.posts) >= 3)
    finally:
        collector.close()
    pauses = [int(line.split()[-1]) for line in usb.decode().splitlines() if line.startswith("back off ms")]
    assert pauses, usb.decode()
    at = collector.answered_at
    if want:
        assert pauses[0] == want, pauses
        if want <= 60000:
            assert len(at) == 3 and at[2] - at[1] >= want / 1000, at
        else:
            assert len(at) == 2, at  # an hour's pause: nothing more in the run's minute
    else:
        assert pauses[0] <= 1000, pauses
        assert len(at) == 3 and at[2] - at[1] < 5, at
    # Every answer read whole: the server closed each link, none ran into the reply bound and was closed by the board.
    assert b"AT+CIPCLOSE" not in sent, usb.decode()


def test_a_14_second_server_is_waited_for(tmp_path):
    """A server that takes 14 s to answer (a cold serverless function): the default reply bound (ESPAT_REPLY_MS,
    15 s) takes its answer; at 10 s (the former fixed bound) every try is a failure, backed off like any other,
    never resent at the same pace. Measured before: the same reading posted 12 times in 180 board-seconds."""
    for flags, delivered in (((), True), (("-DESPAT_REPLY_MS=10000",), False)):
        collector = VirtualCollector(by_key=True, delay=14.0)  # board-seconds, on the virtual clock
        try:
            usb, _, _ = run_board_virtual(tmp_path / str(delivered), collector, seconds=100, flags=flags,
                                          stop_when=lambda: len(collector.stored) >= 2)
        finally:
            collector.close()
        posts = [json.loads(body)["seq"] for _, _, body in collector.posts]
        if delivered:
            assert len(collector.stored) >= 2 and posts[:2] == [1, 2], posts
        else:
            assert b"post status 9000" in usb or b"post status 2000" in usb, usb.decode()
            # 100 board-seconds: each try ~12 s (the 10 s bound), pauses doubling from 1 s: at most 6, all reading 1
            assert set(posts) == {1} and len(posts) <= 6, posts
            pauses = [int(line.split()[-1]) for line in usb.decode().splitlines() if line.startswith("back off ms")]
            assert len(pauses) >= 3 and pauses[-1] > pauses[0], pauses


def test_a_module_whose_links_keep_failing_is_reset(tmp_path):
    """The module answers AT, but every link command is answered `busy p...` (a wedged TCP stack): after four
    such failures in a row the board sends AT+RST, and once the module is itself again the readings go through.
    Before, the board resynced (which works), re-joined Wi-Fi and never reset the module."""
    collector = VirtualCollector(by_key=True)
    try:
        usb, sent, _ = run_board_virtual(tmp_path, collector, seconds=240, faults=["busy:150@cmd=7"],
                                         stop_when=lambda: len(collector.stored) >= 2)
    finally:
        collector.close()
    assert b"AT+RST\r\n" in sent, usb.decode()
    before_reset = sent[:sent.index(b"AT+RST\r\n")]
    assert before_reset.count(b"AT+CIPSTART") >= 4 * 21 // 2, before_reset.count(b"AT+CIPSTART")
    # The reset came from the link failures (four in a row), not from a sync that failed.
    assert b"reset module 1" in usb and b"sync failed" not in usb[:usb.index(b"reset module 1")], usb.decode()
    assert len(collector.stored) >= 2


def test_a_module_that_reboots_is_resynced_at_once_not_backed_off(tmp_path):
    """The module reboots halfway through each of the first three sends (a sagging 3.3 V rail): a reboot is the
    module's doing, not the server refusing, so the board resyncs and sends again at once, the server's back-off
    untouched. Before, each reboot counted as a server failure: pauses of 1, 2 and 4 s, doubling on into minutes in
    a brown-out loop, and the field week's brown-out delivered 86 of its 120 readings (the rest overflowed the
    queue). Past ESPAT_REBOOT_RETRIES reboots with no answer from the server between them, the board backs off
    again (a module that cannot stay up must not make it join the access point every few seconds)."""
    faults = ["reset@send=1", "reset@send=2", "reset@send=3"]
    collector = Collector(by_key=True)
    try:
        usb, _, _ = run_board(tmp_path / "3", collector.port, seconds=60, clock_scale=2, faults=faults,
                              stop_when=lambda: len(collector.stored) >= 2)
    finally:
        collector.close()
    text = usb.decode()
    assert len(collector.stored) >= 2, text
    before_first = text[:text.index("post status 201")]  # (status Ok and HTTP 201: stored)
    assert before_first.count("module ready") >= 4 and "back off ms" not in before_first, text
    readings = [json.loads(body) for _, _, body in collector.posts]
    assert readings[0]["diag"]["esp_reboots"] >= 3, readings[0]
    # the bound: with ESPAT_REBOOT_RETRIES=1, the second reboot in a row backs off as before
    collector = Collector(by_key=True)
    try:
        usb, _, _ = run_board(tmp_path / "1", collector.port, seconds=60, clock_scale=2, faults=faults,
                              flags=("-DESPAT_REBOOT_RETRIES=1",), stop_when=lambda: len(collector.stored) >= 2)
    finally:
        collector.close()
    text = usb.decode()
    pauses = [int(line.split()[-1]) for line in text.splitlines() if line.startswith("back off ms")]
    assert len(pauses) >= 2, text
