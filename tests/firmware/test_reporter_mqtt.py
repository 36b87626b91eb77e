"""reporter_mqtt end to end: the sketch (compiled with g++ against the Arduino shim, and for the Uno in simavr)
talks through the fake ESP-01 (9600 baud) to a real Debian mosquitto behind a recording relay; a paho-mqtt
subscriber checks what arrives. Every reading reaches the broker, oldest first; a reading is published a second
time only when its PUBACK never reached the board (then the same reading, its key (device, incarnation, boot,
seq) in it; only age_ms and the diag counters, true at each send, move on). The Home Assistant discovery configs
are retained and their value_template, rendered with Jinja2 as Home Assistant does, picks each value out of the
readings that arrived.
Needs g++, mosquitto, gcc-avr, simavr: a missing one fails these tests, it does not skip them."""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import jinja2
import pytest

from esp8266sim import SimConfig, Simulator
from unosim import Uno
from mqtttools import PASSWORD, USER, Mosquitto, Relay, Subscriber, publish_id, publish_payload, retained

from fw_native import SETTINGS, Run, build

pytestmark = pytest.mark.slow     # tests/README.md: the tiers (native reporter_mqtt runs)

ROOT = Path(__file__).resolve().parents[2]
DEVICE = "bench-7"
STATE = f"espat/{DEVICE}/reading"
VALUES = {"a0_c": ("°C", "temperature"), "chip_c": ("°C", "temperature"), "vcc_mv": ("mV", "voltage")}
CONFIGS = "homeassistant/sensor/+/config"
BROKER = "broker.example"
MQTT_SETTINGS = {**SETTINGS, "ESPAT_SERVER_HOST": BROKER, "ESPAT_SERVER_PORT": "1883", "ESPAT_DEVICE": DEVICE,
                 "ESPAT_MQTT_USER": USER, "ESPAT_MQTT_PASS": PASSWORD}
CLOCK_SCALE = 2.0


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path / "broker")
    yield b
    b.close()


def cut_at_puback_of(seq):
    """A relay fault: the link drops just as the broker's PUBACK for reading `seq` comes back."""
    wanted = {}

    def fault(direction, first, body, relay):
        if direction == "up" and publish_id(first, body) is not None and not wanted:
            payload = publish_payload(first, body)
            if payload.startswith(b'{"device"') and json.loads(payload)["seq"] == seq:
                wanted["id"] = publish_id(first, body)
        elif direction == "down" and first >> 4 == 4 and wanted and not relay.faults:
            if int.from_bytes(body[:2], "big") == wanted["id"]:
                return "cut"
        return None

    return fault


def seqs(sub):
    return [r["seq"] for r in sub.readings(STATE)]


def check_discovery(port, readings):
    """Every value's config is retained and its template, rendered as Home Assistant renders it, gives the
    reading's own value."""
    env = jinja2.Environment()
    for key, (unit, device_class) in VALUES.items():
        got = retained(port, f"homeassistant/sensor/{DEVICE}_{key}/config")
        assert len(got) == 1 and got[0][1] is True, key
        config = json.loads(got[0][0])
        assert config["state_topic"] == STATE and config["unique_id"] == f"{DEVICE}_{key}"
        assert (config["unit_of_measurement"], config["device_class"]) == (unit, device_class)
        assert config["device"]["identifiers"] == [f"espat_{DEVICE}"]
        template = env.from_string(config["value_template"])
        for reading in readings:
            assert template.render(value_json=reading) == str(reading["readings"][key])


def run_native(tmp_path, broker, until, dialect="1", fault=None, restart_after=None, limit=120, settings=None):
    """Runs the native reporter_mqtt until the subscriber has readings 1..until; returns (subscriber
    payloads, relay, USB text)."""
    binary = build("reporter_mqtt", {**MQTT_SETTINGS, **(settings or {})})
    relay = Relay(broker.port, fault)
    sub = Subscriber(broker.port, topics=(STATE, CONFIGS))
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={f"{BROKER}:1883": ("127.0.0.1", relay.port)},
                       baud=9600, latency_scale=0.1, dialect=dialect)
    try:
        with Simulator(config) as sim:
            with Run(binary, sim.serve_tcp().split("//", 1)[1], tmp_path, clock_scale=CLOCK_SCALE) as run:
                if restart_after:
                    assert sub.wait_for(lambda: len(set(seqs(sub))) >= restart_after, limit), run.usb()[-500:]
                    broker.restart()
                # every reading, and the discovery configs (they go once the ring is empty)
                done = sub.wait_for(lambda: set(range(1, until + 1)) <= set(seqs(sub)) and len(
                    {t for t, _, _ in sub.messages if t.endswith("/config")}) == len(VALUES), limit)
                status, err, usb = run.stop()
        assert done, usb.decode(errors="replace")[-1500:]
        assert status is None, err
        sub.wait_for(lambda: False, 0.3)  # a repeat would come right behind
        return sub.payloads(STATE), relay, usb
    finally:
        sub.close()
        relay.close()


def in_order_once(payloads, until, repeats=()):
    got = [json.loads(p) for p in payloads]
    counts = Counter(r["seq"] for r in got)
    for n in range(1, until + 1):
        assert counts[n] == (2 if n in repeats else 1), (n, counts)
    firsts = []
    for r in got:
        if r["seq"] not in firsts:
            firsts.append(r["seq"])
    assert firsts[:until] == list(range(1, until + 1))  # oldest first
    for r in got:
        assert (r["device"], r["boot"]) == (DEVICE, 1) and len(r["incarnation"]) == 8
    return got


def same_reading_again(first: bytes, again: bytes) -> None:
    """`again` is `first` published a second time: the same key, sampled values and dropped count, the same fields
    in the same order; only what is true at each send moves on: age_ms (how long ago it was sampled) grows, and the
    diag counters (since this boot) do not go back."""
    a, b = json.loads(first), json.loads(again)
    moving = ("age_ms", "diag")
    assert {k: v for k, v in a.items() if k not in moving} == {k: v for k, v in b.items() if k not in moving}
    assert list(a) == list(b)  # the same fields, in the same order
    assert b["age_ms"] > a["age_ms"]
    assert all(b["diag"][k] >= a["diag"][k] for k in a["diag"])


def test_native_the_configs_go_while_readings_pile_up(tmp_path, broker):
    """Readings sampled faster than the 9600-baud link publishes them (one every 0.3 board-seconds): the queue never
    empties, and the discovery configs still reach the broker (they take turns with the readings; they once waited
    for an empty queue, which a busy machine's slower runs never gave them)."""
    payloads, _, usb = run_native(tmp_path, broker, 4, settings={"ESPAT_INTERVAL_MS": "300"})
    text = usb.decode(errors="replace")
    sampled = [int(n) for n in re.findall(r"sample (\d+)", text)]
    published = [int(n) for n in re.findall(r"published seq (\d+)", text)]
    assert max(sampled) > max(published) + 5, text[-800:]      # the queue never emptied
    in_order_once(payloads, 4)


@pytest.mark.parametrize("dialect", ["1", "2"], ids=["at1.7", "at2"])
def test_native_every_reading_reaches_the_broker_once_and_home_assistant_finds_the_sensor(tmp_path, broker, dialect):
    payloads, relay, usb = run_native(tmp_path, broker, 4, dialect)
    readings = in_order_once(payloads, 4)
    assert relay.connections == 1
    connect = relay.sent_up(1)[0]
    assert connect[7] == 0xC2 and DEVICE.encode() in connect and PASSWORD.encode() in connect
    check_discovery(broker.port, readings)
    assert b"mqtt connected 1" in usb


def test_native_a_dropped_link_sends_the_unacknowledged_reading_again(tmp_path, broker):
    payloads, relay, usb = run_native(tmp_path, broker, 5, fault=cut_at_puback_of(2))
    assert [a for a, *_ in relay.faults] == ["cut"]  # the fault fired
    assert relay.connections >= 2 and b"mqtt lost" in usb
    got = in_order_once(payloads, 5, repeats={2})
    twos = [p for p in payloads if json.loads(p)["seq"] == 2]
    same_reading_again(*twos)  # the same reading, not a new one with the same seq


def test_native_a_broker_restart_loses_no_reading(tmp_path, broker):
    payloads, relay, usb = run_native(tmp_path, broker, 6, restart_after=2)
    assert broker.starts == 2 and relay.connections >= 2 and b"mqtt lost" in usb
    counts = Counter(json.loads(p)["seq"] for p in payloads)
    assert set(range(1, 7)) <= set(counts) and sum(counts.values()) - len(counts) <= 1, counts
