"""The reporter sketch and the EspAt library, compiled with g++ against the Arduino shim, run against the fake ESP-01
(9600 baud, as SoftwareSerial needs) and a loopback HTTP server, all on one virtual clock (fw_vclock).

Every reading must reach the server with the right JSON, oldest first; every CIPSEND announces exactly the bytes
that follow it; every injected fault ends with every reading stored exactly once. A reading is sent a second time
only when the fault hid the server's answer (the server stores by (boot, seq), so it still counts once).
The scenarios are independent programs, so they run side by side (one module fixture) and each test reads its own.
Needs g++: a missing compiler fails these tests, it does not skip them.
"""
import json
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import pytest

from espat.proto.wiretext import escape_bytes

from fw_native import SETTINGS, build, identity_copies
from fw_vclock import ADC_MV, VirtualCollector, run_virtual

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

INTERVAL_MS = int(SETTINGS["ESPAT_INTERVAL_MS"])


@dataclass
class Scenario:
    until_seq: int = 4
    faults: list = field(default_factory=list)
    answers: dict = None          # request number -> HTTP status other than 201
    dialect: str = "1"
    baud: int = 9600
    env: str = "reporter_softserial"
    settings: dict = None         # build settings other than SETTINGS
    flags: tuple = ()             # extra compiler flags
    may_repeat: int = 0           # readings the fault may make the server take twice (its answer was lost)
    # (where, bytes, at least how often): proof that the fault happened and how it was handled, found on "usb"
    # (the reporter's debug lines), "heard" (what the module said) or "sent" (what the board sent it)
    evidence: tuple = ()
    lossy: bool = False           # the ring overflows on purpose: done once reading until_seq is stored
    keep_alive: bool = False      # ESPAT_KEEP_ALIVE=1, against a server that keeps connections open
    refused: frozenset = frozenset()  # seqs the server refuses for good (400/413/422): never stored
    adc: dict = None              # the shim's ADC inputs (ESPAT_SHIM_A0_MV ...), other than its defaults
    limit: float = 120            # board-seconds the run may take
    port_loss: bool = False       # the ESP port's 64-byte buffer may overflow (ESPAT_SHIM_LOSSY), as on a board


# The commands of a clean start, numbered as the fake's cmd=N triggers count them: 1 AT, 2 ATE0, 3 AT+GMR,
# 4 AT+CIPMUX=1, 5 AT+CWMODE_CUR=1, 6 AT+CWJAP_CUR, 7 AT+CIPSTART, 8 AT+CIPSEND (the first reading's).
SCENARIOS = {
    "plain-1.7": Scenario(until_seq=3),
    "plain-2.x": Scenario(until_seq=3, dialect="2", adc={"ESPAT_SHIM_A0_MV": "216"}),
    "send-fail": Scenario(faults=["send-fail@send=2"], evidence=(("heard", b"SEND FAIL", 1),
                                                                 ("usb", b"post status 7000", 1))),
    "wifi-lost": Scenario(faults=["wifi-lost@send=2"], may_repeat=1,
                          evidence=(("heard", b"WIFI DISCONNECT", 1), ("usb", b"wifi joined 2", 1))),
    # The module reboots halfway through the payload; its `ready` may come while the board is still sending
    # (lost then, as on a real board), so either way the proof is a second sync.
    "reset-mid-send": Scenario(faults=["reset@send=2"], may_repeat=1,
                               evidence=(("heard", b"ready", 1), ("usb", b"module ready", 2))),
    "remote-close": Scenario(faults=["remote-close@send=2"], may_repeat=1,
                             evidence=(("usb", b"post status 9000", 1),)),
    # The first reading's CIPSEND is refused three times and said again after each.
    "busy": Scenario(faults=["busy:3@cmd=8"], evidence=(("heard", b"busy p...", 3), ("sent", b"AT+CIPSEND=", 7))),
    "server-5xx": Scenario(answers={2: 500, 3: 503}, evidence=(("usb", b"post status 500\r\n", 1),
                                                               ("usb", b"post status 503\r\n", 1))),
    # The first AT is answered after the driver gave up on it and asked again: two OKs for one question
    # (test_two_oks_for_one_question checks the driver waits for both).
    "slow-answer": Scenario(faults=["slow:1.2@cmd=1"], evidence=(("sent", b"AT\r\n", 2),)),
    # ROM-loader noise, then `ready`, at every boot. The first comes while setup() formats the blank EEPROM (3.3 ms
    # a byte, the port unread): it overflows the port's buffer, as it would on a board, and its `ready` may be lost
    # (the sync's AT finds the module). The module reboots halfway through the second reading: that boot's `ready`
    # is heard through its noise (module ready 1: one reboot counted).
    "boot-garbage": Scenario(faults=["boot-garbage", "reset@send=2"], may_repeat=1, port_loss=True,
                             evidence=(("heard", b"ready", 1), ("usb", b"module ready 1", 1))),
    "garbage": Scenario(faults=["corrupt:0.003"], may_repeat=1),
    # Answers that keep the reading (the server is being deployed, the token rotated, it is busy): sent again.
    "http-keeps": Scenario(answers={2: 404, 3: 401, 4: 408}, evidence=tuple(
        ("usb", b"post status %d\r\n" % code, 1) for code in (404, 401, 408))),
    "http-keeps-too": Scenario(answers={2: 403, 3: 429, 4: 502}, evidence=tuple(
        ("usb", b"post status %d\r\n" % code, 1) for code in (403, 429, 502))),
    # Answers that blame the reading itself: it leaves, is counted, and never blocks the ones after it.
    "http-refuses": Scenario(until_seq=6, answers={2: 422, 3: 400, 4: 413}, refused=frozenset({2, 3, 4}),
                             evidence=(("usb", b"refused 3\r\n", 1),)),
    # A bearer token: every request carries it.
    "token": Scenario(until_seq=2, settings={**SETTINGS, "ESPAT_TOKEN": "tok-4f9a_B.c~d+e/f="}),
    # The module goes quiet (everything it says held back 50 s) just as it is asked to join: the join times
    # out, and the recovery ladder runs: resync, then AT+RST, until the module answers again. What it held comes
    # at once when the hold ends, more than the port's buffer holds while the board is busy: lost, as on a board.
    "mute-module": Scenario(until_seq=3, faults=["slow:50@cmd=6"], limit=180, port_loss=True,
                            settings={**SETTINGS, "ESPAT_INTERVAL_MS": "20000"},
                            evidence=(("usb", b"join failed 2\r\n", 1), ("usb", b"sync failed 2\r\n", 1),
                                      ("usb", b"reset module 1\r\n", 1), ("sent", b"AT+RST\r\n", 1))),
    # The hwserial reporter: the ESP-01 on Serial at 115200, nothing else on that port.
    "hwserial": Scenario(until_seq=3, env="reporter_hwserial", baud=115200),
    # HTTP/1.1 keep-alive: one link carries every post, even through a server that closes it now and then.
    "keep-alive": Scenario(keep_alive=True, flags=("-DESPAT_KEEP_ALIVE=1", "-DESPAT_CLIENTS=1")),
    "keep-alive-remote-close": Scenario(keep_alive=True, flags=("-DESPAT_KEEP_ALIVE=1", "-DESPAT_CLIENTS=1"),
                                        faults=["remote-close@send=2"], may_repeat=1,
                                        evidence=(("heard", b"0,CLOSED", 1), ("sent", b"AT+CIPSTART", 2))),
    # Passive receive: the answers are read with AT+CIPRECVDATA.
    "passive-1.7": Scenario(until_seq=3, flags=("-DESPAT_PASSIVE_RX=1", "-DESPAT_CLIENTS=1")),
    "passive-2.x": Scenario(until_seq=3, dialect="2", flags=("-DESPAT_PASSIVE_RX=1", "-DESPAT_CLIENTS=1")),
    "passive-reset-mid-send": Scenario(faults=["reset@send=2"], may_repeat=1, flags=("-DESPAT_PASSIVE_RX=1", "-DESPAT_CLIENTS=1"),
                                       evidence=(("heard", b"ready", 1), ("usb", b"module ready", 2))),
    # The driver's tracing, on: every line from the module and every step, on the USB port.
    "trace": Scenario(until_seq=1, flags=("-DESPAT_DEBUG=Serial",)),
    # A queue of two and a server out for a while: the oldest readings give way, the rest still go out in order.
    "queue-overflow": Scenario(until_seq=12, answers={n: 503 for n in range(2, 6)}, baud=115200,
                               settings={**SETTINGS, "ESPAT_INTERVAL_MS": "500"}, flags=("-DESPAT_QUEUE_SLOTS=3",),
                               lossy=True),
}


@dataclass
class Result:
    connections: int     # TCP connections the server accepted
    readings: list       # every POSTed reading, in arrival order
    accepted: list       # (boot, seq) of every POST answered 201
    stored: set          # seqs the server stored
    posts: list          # (path, headers, body)
    usb: bytes
    wire: list           # the shim's wire log
    exit: object         # None: still running when stopped, as it should be
    err: str
    eeprom: bytes
    said: str            # what the fake module said before any fault touched it, escaped (its --log)

    def sent(self) -> bytes:
        return b"".join(data for d, _, data in self.wire if d == "T")

    def heard(self) -> bytes:
        return b"".join(data for d, _, data in self.wire if d == "R")


def run(scenario: Scenario, workdir) -> Result:
    """The scenario on the virtual clock (fw_vclock): the board, the fake and the collector share one clock, so
    what the board sees of the module's and the server's timing is the scenario's, however loaded the machine is
    (in real time a loaded host made answers late enough for the board to send a reading again, and a test saw a
    repeat no fault had caused)."""
    collector = VirtualCollector(scenario.answers, keep_alive=scenario.keep_alive)
    want = set(range(1, scenario.until_seq + 1)) - scenario.refused
    hwserial = scenario.env == "reporter_hwserial"

    # Done when the readings are stored and the reporter has heard each answer (SEND OK may trail the server's own
    # answer on a slow wire); the hwserial reporter says nothing, so stored is done.
    def done(usb: bytes) -> bool:
        stored = collector.seqs_stored()
        enough = max(stored, default=0) >= scenario.until_seq if scenario.lossy else want <= stored
        return enough and (hwserial or usb.count(b"post status 201\r\n") >= len(stored))
    adc = (int((scenario.adc or {}).get("ESPAT_SHIM_A0_MV", ADC_MV[0])), *ADC_MV[1:])
    try:
        usb, wire, eeprom = run_virtual(
            scenario.env, workdir, collector.loop, collector.port, seconds=scenario.limit, step=0.25,
            settings=scenario.settings or SETTINGS, flags=scenario.flags, faults=scenario.faults,
            dialect=scenario.dialect, baud=scenario.baud, seed=3, adc=adc, stop_when=done,
            program_env={"ESPAT_SHIM_SERIAL_IS_ESP": "1" if hwserial else "0",
                         "ESPAT_SHIM_LOSSY": "1" if scenario.port_loss else "0"},
            module_log=workdir / "module.log")
        return Result(collector.connections, [json.loads(b) for _, _, b in collector.posts],
                      list(collector.accepted), {seq for _, seq in collector.stored}, list(collector.posts), usb,
                      wire, None, "", eeprom,
                      "".join(line.split(" <- ", 1)[1].rstrip("\n")
                              for line in (workdir / "module.log").read_text().splitlines(True) if " <- " in line))
    finally:
        collector.close()


@pytest.fixture(scope="module")
def results(tmp_path_factory):
    for scenario in SCENARIOS.values():  # built one by one first, so no program starts while a build writes
        build(scenario.env, scenario.settings or SETTINGS, scenario.flags)
    with ThreadPoolExecutor(4) as pool:     # each waits on its program's pipe half the time
        futures = {name: pool.submit(run, s, tmp_path_factory.mktemp(name)) for name, s in SCENARIOS.items()}
        return {name: f.result() for name, f in futures.items()}


def assert_stored_in_order(result, until_seq, refused=frozenset()):
    seqs = [r["seq"] for r in result.readings]
    assert result.exit is None, f"the reporter stopped ({result.exit}): {result.err}"
    want = set(range(1, until_seq + 1)) - refused
    assert want <= result.stored, f"missing readings: posts {seqs}\n{result.usb.decode()}"
    firsts = [s for i, s in enumerate(seqs) if s not in seqs[:i]]
    assert firsts == sorted(firsts), f"out of order: {seqs}"
    assert {r["boot"] for r in result.readings} == {1}


@pytest.mark.parametrize("name", ["plain-1.7", "plain-2.x", "hwserial", "passive-1.7", "passive-2.x"])
def test_readings_arrive_once_with_the_right_json(results, name):
    result = results[name]
    assert_stored_in_order(result, 3)
    seqs = [r["seq"] for r in result.readings]
    assert len(seqs) == len(set(seqs)), f"a reading was sent twice with no fault: {seqs}"
    path, headers, body = result.posts[0]
    assert path == "/api/readings"
    assert headers["Host"] == "example.com"
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    first = result.readings[0]
    assert list(first) == ["device", "incarnation", "boot", "seq", "uptime_ms", "readings", "dropped", "age_ms", "diag"]
    assert list(first["diag"]) == ["reset_cause", "esp_reboots", "wifi_joins", "link_failures"]
    assert first["diag"]["wifi_joins"] == 1 and first["diag"]["link_failures"] == 0
    assert 0 <= first["age_ms"] < 5000
    assert (first["device"], first["boot"], first["seq"], first["dropped"]) == ("bench-7", 1, 1, 0)
    assert re.fullmatch("[0-9a-f]{8}", first["incarnation"])
    assert {r["incarnation"] for r in result.readings} == {first["incarnation"]}
    assert list(first["readings"]) == ["a0_c", "chip_c", "vcc_mv"]
    # The shim's ADC sees 215 mV on A0 (21.5 °C from an LM35), 314 mV from the chip's sensor (25 °C) and a 5.0 V
    # supply; one ADC step (4.9 mV, or 1.1 mV against the bandgap) bounds what the sketch can report.
    # The LM35 is read against 1.1 V: steps of 1.07 mV, 0.1 °C (against 5 V they would be 4.9 mV).
    a0_mv = 216 if name == "plain-2.x" else 215
    assert abs(first["readings"]["a0_c"] - a0_mv / 10) <= 0.15
    assert abs(first["readings"]["chip_c"] - 25.0) <= 1.5
    assert abs(first["readings"]["vcc_mv"] - 5000) <= 10
    # Sampled on schedule, never early: the schedule is a grid (reading n is due one interval after reading n-1 was
    # due, not after it was taken), and the grid starts no earlier than the board's power-on, so reading n is never
    # taken before (n - 1) intervals of uptime. A gap between two readings proves nothing here: a loaded host takes
    # one late and the next on time, a gap short by the lateness. (How late one pass of loop() may make a reading,
    # and the grid itself, are checked on the virtual clock, test_native_lockstep.py.)
    early = [(r["seq"], r["uptime_ms"]) for r in result.readings if r["uptime_ms"] < (r["seq"] - 1) * INTERVAL_MS]
    assert not early, f"taken before their slot on the grid (seq, uptime_ms): {early}"


def test_debug_text_goes_to_usb_only_in_the_softserial_variant(results):
    assert b"reporter boot 1\r\n" in results["plain-1.7"].usb
    assert results["hwserial"].usb == b""
    # and nothing but AT traffic went to the module on the shared port
    sent = b"".join(data for d, _, data in results["hwserial"].wire if d == "T")
    assert sent.startswith(b"AT\r\n") and b"reporter" not in sent


@pytest.mark.parametrize("name", ["plain-1.7", "plain-2.x", "keep-alive", "passive-1.7", "passive-2.x"])
def test_every_cipsend_announces_exactly_the_bytes_that_follow(results, name):
    result = results[name]
    sent = b"".join(data for d, _, data in result.wire if d == "T")
    heard = b"".join(data for d, _, data in result.wire if d == "R")
    lengths = []
    for m in re.finditer(rb"AT\+CIPSEND=0,(\d+)\r\n", sent):
        n = int(m.group(1))
        payload = sent[m.end():m.end() + n]
        after = sent[m.end() + n:m.end() + n + 2]
        assert after in (b"", b"AT"), f"bytes after the announced {n}: {sent[m.end():m.end() + n + 20]!r}"
        head, _, body = payload.partition(b"\r\n\r\n")
        assert int(re.search(rb"Content-Length: (\d+)", head).group(1)) == len(body)
        assert body.startswith(b"{") and body.endswith(b"}")
        lengths.append(n)
    assert len(lengths) >= 3
    assert [int(n) for n in re.findall(rb"Recv (\d+) bytes", heard)] == lengths
    assert heard.count(b"SEND OK") == len(lengths)
    assert b"busy s..." not in heard and b"busy p..." not in heard


FAULTS = ["keep-alive-remote-close", "passive-reset-mid-send", "send-fail", "wifi-lost", "reset-mid-send",
          "remote-close", "busy", "server-5xx", "slow-answer", "boot-garbage", "garbage", "http-keeps",
          "http-keeps-too", "http-refuses", "mute-module"]


@pytest.mark.parametrize("name", FAULTS)
def test_every_reading_is_stored_once_through_a_fault(results, name):
    scenario, result = SCENARIOS[name], results[name]
    assert_stored_in_order(result, scenario.until_seq, scenario.refused)
    accepted = [seq for _, seq in result.accepted]
    assert len(accepted) - len(set(accepted)) <= scenario.may_repeat, f"readings taken twice: {accepted}"
    places = {"usb": result.usb, "heard": result.heard(), "sent": result.sent()}
    assert scenario.evidence or name == "garbage"
    for where, needle, times in scenario.evidence:
        assert places[where].count(needle) >= times, f"{where}: {needle!r} < {times}x\n{result.usb.decode(errors='replace')}"


@pytest.mark.parametrize("name", ["garbage", "boot-garbage"])
def test_garbage_on_the_wire_was_there_and_was_survived(results, name):
    """Bit flips at 0.3 %, or the ROM loader's 74880-baud text read at 9600: bytes no clean AT exchange has
    reached the board, and every reading still arrived once (above)."""
    result = results[name]
    if name == "garbage":  # what the board heard is not what the module said
        assert not result.said.startswith(escape_bytes(result.heard())), "no byte was corrupted"
        assert escape_bytes(results["plain-1.7"].heard()) in results["plain-1.7"].said
    else:
        assert any(b >= 0x80 for b in result.heard()), "no boot noise reached the board"


def test_refused_readings_leave_and_are_never_sent_again(results):
    result = results["http-refuses"]
    seqs = [r["seq"] for r in result.readings]
    assert all(seqs.count(seq) == 1 for seq in (2, 3, 4)), seqs
    assert not ({2, 3, 4} & result.stored)
    assert b"refused 1\r\n" in result.usb and b"refused 3\r\n" in result.usb


def test_readings_kept_through_4xx_and_5xx_are_sent_again_until_stored(results):
    for name in ("http-keeps", "http-keeps-too"):
        result = results[name]
        seqs = [r["seq"] for r in result.readings]
        assert seqs[:5] == [1, 2, 2, 2, 2], seqs  # reading 2 waits through three answers that keep it
        assert b"refused" not in result.usb


def test_a_bearer_token_goes_with_every_request_and_only_when_set(results):
    result = results["token"]
    assert result.posts and all(h.get("Authorization") == "Bearer tok-4f9a_B.c~d+e/f=" for _, h, _ in result.posts)
    assert all("Authorization" not in h for _, h, _ in results["plain-1.7"].posts)
    assert_stored_in_order(result, 2)


def test_the_incarnation_is_written_to_eeprom_and_sent(results):
    result = results["plain-1.7"]
    incarnation = result.readings[0]["incarnation"]
    assert identity_copies(result.eeprom) == [(1, int(incarnation, 16))]  # boot 1, in copy 1 of 4
    # Another board (another blank EEPROM, other noise and timing) draws another id.
    assert results["plain-2.x"].readings[0]["incarnation"] != incarnation


def test_the_mute_module_was_reset_not_only_waited_for(results):
    """Before the ladder, a join that got no answer only backed off and asked again."""
    usb = results["mute-module"].usb
    assert usb.index(b"join failed 2") < usb.index(b"sync failed 2") < usb.index(b"reset module 1")


def test_a_full_queue_lets_only_the_oldest_waiting_readings_go(results):
    """While the server is out, a queue of two keeps the newest two; once it is back every later reading arrives,
    in order. Each reading says in `dropped` how many the queue had let go by then: at least every reading missing
    before it (one more when the queue let go of a reading whose post was already out and then got through)."""
    result = results["queue-overflow"]
    assert result.exit is None, result.err
    stored = sorted(result.stored)
    missing = sorted(set(range(1, stored[-1] + 1)) - result.stored)
    assert missing, "the outage was meant to overflow the queue"
    assert stored[-1] >= 12
    seqs = [r["seq"] for r in result.readings]
    firsts = [s for i, s in enumerate(seqs) if s not in seqs[:i]]
    assert firsts == sorted(firsts)
    dropped = {r["seq"]: r["dropped"] for r in result.readings}
    for seq in stored:
        lost_before = sum(1 for m in missing if m < seq)
        assert lost_before <= dropped[seq] <= lost_before + 1, (seq, dropped[seq], missing)
    assert [dropped[s] for s in stored] == sorted(dropped[s] for s in stored)  # cumulative


def test_two_oks_for_one_question(results):
    """The first AT is answered late, after the driver asked again: ATE0 goes out only once both ATs had their
    OK, so no answer is taken for the command after it."""
    chunks = results["slow-answer"].wire
    sent = b"".join(d for w, _, d in chunks if w == "T")
    assert sent.startswith(b"AT\r\nAT\r\n"), sent[:40]
    heard_before_ate0, sent_so_far = b"", b""
    for direction, _, data in chunks:
        if direction == "T":
            sent_so_far += data
            if b"ATE0" in sent_so_far:
                break
        else:
            heard_before_ate0 += data
    assert heard_before_ate0.count(b"OK\r\n") == 2, heard_before_ate0


def test_keep_alive_sends_every_reading_on_one_link(results):
    result = results["keep-alive"]
    assert_stored_in_order(result, 4)
    sent = b"".join(data for d, _, data in result.wire if d == "T")
    assert sent.count(b"AT+CIPSTART") == 1 and result.connections == 1
    assert sent.count(b"AT+CIPSEND") >= 4
    assert b"Connection: close" not in sent
    accepted = [seq for _, seq in result.accepted]
    assert len(accepted) == len(set(accepted))
    # Without the knob every post opens its own link and asks the server to close it.
    plain = b"".join(data for d, _, data in results["plain-1.7"].wire if d == "T")
    assert plain.count(b"AT+CIPSTART") == plain.count(b"AT+CIPSEND") == plain.count(b"Connection: close")


def test_keep_alive_opens_a_new_link_when_the_server_closed_the_old_one(results):
    result = results["keep-alive-remote-close"]
    sent = b"".join(data for d, _, data in result.wire if d == "T")
    assert sent.count(b"AT+CIPSTART") >= 2 and result.connections >= 2


def test_the_debug_macro_traces_the_module_lines_and_the_driver_steps(results):
    usb = results["trace"].usb
    assert b"< WIFI GOT IP\r\n" in usb and b"< SEND OK\r\n" in usb
    assert b"> Send\r\n" in usb and b"> Gmr\r\n" in usb  # the steps, by name
    assert b"= 0\r\n" in usb  # EspStatus::Ok
    assert b"< " not in results["plain-1.7"].usb and b"> Send" not in results["plain-1.7"].usb


@pytest.mark.parametrize("name", ["passive-1.7", "passive-2.x"])
def test_passive_receive_reads_each_answer_with_ciprecvdata(results, name):
    result = results[name]
    sent = b"".join(data for d, _, data in result.wire if d == "T")
    heard = b"".join(data for d, _, data in result.wire if d == "R")
    assert b"AT+CIPRECVMODE=1\r\n" in sent
    assert sent.count(b"AT+CIPRECVDATA=0,") >= 3
    assert re.search(rb"\+IPD,0,\d+\r\n", heard) and not re.search(rb"\+IPD,0,\d+:", heard)


# The port setting is text; HTTP's Host header carries the number it reads as, and no port for 80 (RFC 9110 §7.2).
@pytest.mark.parametrize("port, host", [("8080", "example.com:8080"), ("08080", "example.com:8080"),
                                        ("080", "example.com")])
def test_the_host_header_carries_the_port_as_its_number_reads(tmp_path, port, host):
    """post_exchange.h writes a port with no leading zero as its setting's text inside a flash string, one with
    leading zeros as the number printed, and none for 80: each way the same Host header."""
    result = run(Scenario(until_seq=1, settings={**SETTINGS, "ESPAT_SERVER_PORT": port}), tmp_path)
    assert_stored_in_order(result, 1)
    assert {headers["Host"] for _, headers, _ in result.posts} == {host}
    assert f'"example.com",{int(port)}\r\n'.encode() in result.sent()   # AT+CIPSTART's port, the number
