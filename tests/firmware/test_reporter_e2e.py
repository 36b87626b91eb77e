"""The compiled reporter, run in the AVR emulator against the fake ESP-01, posting to a loopback HTTP server.

The firmware is the real reporter_softserial build (firmware/tools/build.py, settings from environment variables as
platformio.ini feeds them: tests/builds.py's, the build every such module shares); simavr runs it through
simulator/unosim/harness.py with the ESP-01 on pins 2/3 at 9600 baud. Every reading must reach the server with the right JSON, in order, none missing; a reading is posted
twice only when the module lost the server's answer (the server sees (boot, seq) again and can drop it).
Needs gcc-avr, arduino-core-avr, simavr and libsimavr-dev: missing tools fail these tests, they do not skip.
"""
import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from builds import SETTINGS, build_envs
from esp8266sim import SimConfig, Simulator
from unosim import Uno

from fw_native import identity_copies, identity_image

pytestmark = pytest.mark.slow     # tests/README.md: the tiers

INTERVAL_MS = int(SETTINGS["ESPAT_INTERVAL_MS"])    # `built`'s settings (tests/builds.py)


class Collector:
    """A loopback HTTP/1.1 server that keeps every POST; `fail` lists request numbers (from 1) answered 500."""

    def __init__(self, fail=()):
        self.posts = []
        self.fail = set(fail)
        self.count = 0
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                with collector.lock:
                    collector.count += 1
                    failed = collector.count in collector.fail
                    if not failed:
                        collector.posts.append((self.path, dict(self.headers), body))
                self.send_response(500 if failed else 201)
                self.send_header("Content-Length", "0")
                self.send_header("Connection", "close")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def readings(self):
        with self.lock:
            return [json.loads(body) for _, _, body in self.posts]

    def close(self):
        self.server.shutdown()
        self.server.server_close()


# A user's settings (issue 10's realistic ones, with a 2 s interval so the test is short).
USER_SETTINGS = {"ESPAT_WIFI_SSID": "HomeNetwork-2G", "ESPAT_WIFI_PASS": "correct-horse-battery",
                 "ESPAT_SERVER_HOST": "sensors.example.org", "ESPAT_SERVER_PORT": "8080",
                 "ESPAT_SERVER_PATH": "/api/readings", "ESPAT_DEVICE": "greenhouse-uno-1",
                 "ESPAT_INTERVAL_MS": str(INTERVAL_MS), "ESPAT_TOKEN": "Zm9vYmFyLXRva2VuLTEyMzQ1Njc4OTBhYg"}


def build_env(tmp_path_factory, out, env, settings):
    build_envs(tmp_path_factory, [env], {**os.environ, "ESPAT_TOKEN": "", **settings}, out)
    return out / env / "firmware.elf"


@pytest.fixture(scope="session")
def elf(built):
    return built / "reporter_softserial" / "firmware.elf"


def run_reporter(elf, eeprom, until_seq, faults=(), fail=(), limit=90.0, log=None, settings=SETTINGS,
                 wiring="softserial", baud=9600):
    """Runs the reporter until readings 1..until_seq of its boot reached the server (or `limit` s passed);
    `log` names a file for the fake module's transcript of the wire."""
    collector = Collector(fail)
    config = SimConfig(networks={settings["ESPAT_WIFI_SSID"]: settings["ESPAT_WIFI_PASS"]},
                       hosts={settings["ESPAT_SERVER_HOST"]: ("127.0.0.1", collector.port)},
                       baud=baud, latency_scale=0.1, faults=list(faults), log_path=str(log) if log else None)
    try:
        with Simulator(config) as sim:
            esp = sim.serve_tcp().split("//", 1)[1]
            with Uno.sketch(elf, esp=esp, wiring=wiring, esp_baud=baud, eeprom=eeprom) as uno:
                deadline = time.monotonic() + limit
                while time.monotonic() < deadline:
                    if {r["seq"] for r in collector.readings()} >= set(range(1, until_seq + 1)):
                        break
                    time.sleep(0.25)
                usb = uno.output
        return collector, usb
    finally:
        collector.close()


def assert_complete_in_order(readings, until_seq, boot):
    seqs = [r["seq"] for r in readings]
    assert set(range(1, until_seq + 1)) <= set(seqs), f"missing readings: {seqs}"
    assert all(r["boot"] == boot for r in readings)
    firsts = [s for i, s in enumerate(seqs) if s not in seqs[:i]]
    assert firsts == sorted(firsts), f"out of order: {seqs}"


def test_readings_arrive_once_with_the_right_json(elf, tmp_path):
    collector, usb = run_reporter(elf, tmp_path / "eeprom.bin", until_seq=3)
    readings = collector.readings()
    assert_complete_in_order(readings, 3, boot=1)
    assert len(readings) == len({r["seq"] for r in readings}), "a reading arrived twice without any fault"
    path, headers, body = collector.posts[0]
    assert path == "/api/readings"
    assert headers["Host"] == "example.com"
    assert headers["Content-Type"] == "application/json"
    assert int(headers["Content-Length"]) == len(body)
    first = readings[0]
    assert list(first) == ["device", "incarnation", "boot", "seq", "uptime_ms", "readings", "dropped", "age_ms", "diag"]
    assert first["diag"]["reset_cause"] & 1  # simavr starts the Uno as a power-on
    assert first["device"] == SETTINGS["ESPAT_DEVICE"]
    assert list(first["readings"]) == ["a0_c", "chip_c", "vcc_mv"]
    # The harness feeds 215 mV on A0 (21.5 °C for an LM35), 314 mV from the chip's sensor (25 °C), Vcc 5.0 V, each
    # conversion with up to 2 mV of noise either way (simulator/unosim/randomness.c, a new seed each run), and the
    # ADC truncates to a 1.1 V / 1024 step: the chip's sensor (1 mV a degree) may read 2 °C high or 3.1 °C low, as
    # the one conversion the reporter makes of it says (the old 1.5 °C bound failed whenever that conversion drew
    # -2 or +2 mV, 2 draws in 9: 22.5 or 26.8 °C).
    step_mv = 1100 / 1024
    assert abs(first["readings"]["a0_c"] - 21.5) <= 1.0
    assert 25.0 - 2 - step_mv <= first["readings"]["chip_c"] <= 25.0 + 2, first["readings"]
    assert abs(first["readings"]["vcc_mv"] - 5000) <= 50
    uptimes = [r["uptime_ms"] for r in readings[:3]]
    # Sampled when due, give or take one pass of loop(): at 9600 baud a pass that writes a request to the module
    # takes up to a few hundred ms (the soft UART sends with interrupts off, a byte per ms).
    assert all(abs(b - a - INTERVAL_MS) <= 300 for a, b in zip(uptimes, uptimes[1:])), uptimes
    assert b"reporter boot 1" in usb


def test_boot_counts_on_from_what_eeprom_holds(elf, tmp_path):
    """A board that booted 41 times reports boot 42, seq again from 1 (boot_identity.h: the highest of four CRC'd
    copies, plus one, written into the next copy); its incarnation id is kept with it."""
    eeprom = tmp_path / "eeprom.bin"
    eeprom.write_bytes(identity_image(41, 0x1234abcd))
    collector, usb = run_reporter(elf, eeprom, until_seq=1)
    first = collector.readings()[0]
    assert (first["boot"], first["seq"], first["incarnation"]) == (42, 1, "1234abcd")
    assert b"reporter boot 42" in usb
    assert sorted(identity_copies(eeprom.read_bytes())) == [(41, 0x1234abcd), (42, 0x1234abcd)]
    # Kept: the next boot sends the same id. (It first sends boot 42's reading again: a delivery is written to
    # EEPROM only with the next reading, and the server answers a repeat.)
    collector, usb = run_reporter(elf, eeprom, until_seq=2)
    readings = collector.readings()
    assert [(r["boot"], r["seq"]) for r in readings[:3]] == [(42, 1), (43, 1), (43, 2)]
    assert readings[1]["incarnation"] == first["incarnation"]


def test_the_hwserial_reporter_with_a_users_settings(tmp_path, tmp_path_factory):
    """reporter_hwserial as a user builds it (their SSID, a 21-character password, host:8080, a device name and a
    bearer token), the ESP-01 on UART0 at 115200: readings arrive with the token and the right Host."""
    elf = build_env(tmp_path_factory, tmp_path / "fw", "reporter_hwserial", USER_SETTINGS)
    collector, usb = run_reporter(elf, tmp_path / "eeprom.bin", until_seq=2, settings=USER_SETTINGS,
                                  wiring="hwserial", baud=115200)
    readings = collector.readings()
    assert_complete_in_order(readings, 2, boot=1)
    _, headers, _ = collector.posts[0]
    assert headers["Host"] == "sensors.example.org:8080"
    assert headers["Authorization"] == "Bearer " + USER_SETTINGS["ESPAT_TOKEN"]
    assert readings[0]["device"] == "greenhouse-uno-1"
    assert usb == b""  # nothing but AT traffic on the shared port


# evidence: (where, text, at least how often) proving the fault took effect and how it was handled: "usb" is the
# board's debug lines ("post status" is EspStatus * 1000 + HTTP status), "wire" the fake module's transcript
# (`<-` what it said, `->` what it was sent). Commands of a clean start, as cmd=N counts them: 1 AT, 2 ATE0,
# 3 AT+GMR, 4 AT+CIPMUX=1, 5 AT+CWMODE_CUR=1, 6 AT+CWJAP_CUR, 7 AT+CIPSTART.
@pytest.mark.parametrize("faults, fail, may_repeat, evidence", [
    (["send-fail@send=2"], (), 0, [("wire", "SEND FAIL", 1), ("usb", "post status 7000", 1)]),
    # the server got reading 2; its answer was lost
    (["wifi-lost@send=2"], (), 1, [("wire", "WIFI DISCONNECT", 1), ("usb", "wifi joined", 2)]),
    # the module reboots halfway through the payload; its `ready` may arrive while the board is still sending
    # (and be lost, as on a real Uno), so the proof of the handling is a second sync
    (["reset@send=2"], (), 1, [("wire", "ready", 2), ("usb", "module ready", 2)]),
    # the first CIPSTART is refused three times and said again after each
    (["busy:3@cmd=7"], (), 0, [("wire", "<- \\r\\nbusy p...", 3), ("wire", "-> AT+CIPSTART=", 4)]),
    ([], (2, 3), 0, [("usb", "post status 500", 2)]),          # server errors: back off, send again
], ids=["send-fail", "wifi-lost", "reset-mid-send", "busy", "server-500"])
def test_every_reading_arrives_through_a_fault(elf, tmp_path, faults, fail, may_repeat, evidence):
    log = tmp_path / "module.log"
    collector, usb = run_reporter(elf, tmp_path / "eeprom.bin", until_seq=4, faults=faults, fail=fail, log=log)
    readings = collector.readings()
    assert_complete_in_order(readings, 4, boot=1)
    seqs = [r["seq"] for r in readings]
    assert len(seqs) - len(set(seqs)) <= may_repeat, f"readings repeated: {seqs}"
    places = {"usb": usb.decode(errors="replace"), "wire": log.read_text()}
    for where, needle, times in evidence:
        assert places[where].count(needle) >= times, f"{where}: {needle!r} < {times}x\n{places['usb']}"
