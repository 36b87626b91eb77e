"""The MQTT firmware compiled for the Uno and run in simavr, wired to the fake ESP-01 (pins 2/3, 9600 baud) whose
host map sends the broker's name to a recording relay in front of a real Debian mosquitto; a paho-mqtt subscriber
checks what arrives: reporter_mqtt (every reading once, oldest first; a link cut at a PUBACK and a broker restart
in the middle) and the library's MqttPublish example (built with the real `pio ci`, as a user would).
Needs gcc-avr, simavr, libsimavr-dev and mosquitto: a missing one fails these tests, it does not skip them."""
from __future__ import annotations

import json
import os
from collections import Counter

import jinja2
import pytest

import builds
from workers import shared_artifact

from esp8266sim import SimConfig, Simulator
from unosim import Uno
from mqtttools import PASSWORD, USER, Mosquitto, Relay, Subscriber, retained

from test_reporter_mqtt import (BROKER, CONFIGS, DEVICE, MQTT_SETTINGS, STATE, VALUES, check_discovery,
                                cut_at_puback_of, in_order_once, same_reading_again, seqs)

pytestmark = pytest.mark.slow     # tests/README.md: the tiers (each runs a simulated Uno)


@pytest.fixture(scope="session")
def reporter_elf(tmp_path_factory):
    # once per run for all workers: this module's tests need not share one, so they run side by side
    folder = shared_artifact(tmp_path_factory, "reporter-mqtt", lambda out: builds.build_envs(
        tmp_path_factory, ["reporter_mqtt"], {**os.environ, **MQTT_SETTINGS}, out))
    return folder / "reporter_mqtt" / "firmware.elf"


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path / "broker")
    yield b
    b.close()


def run_uno(elf, broker, until, tmp_path, fault=None, restart_after=None, configs=len(VALUES), limit=180,
            wait_usb=None):
    """Runs `elf` in simavr until the subscriber has readings 1..until (and the discovery configs); returns
    (payloads on the state topic, relay, USB text)."""
    relay = Relay(broker.port, fault)
    sub = Subscriber(broker.port, topics=(STATE, CONFIGS))
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={f"{BROKER}:1883": ("127.0.0.1", relay.port)},
                       baud=9600, latency_scale=0.1)
    try:
        with Simulator(config) as sim:
            with Uno.sketch(elf, esp=sim.serve_tcp().split("//", 1)[1], eeprom=tmp_path / "eeprom.bin") as uno:
                if restart_after:
                    assert sub.wait_for(lambda: len(set(seqs(sub))) >= restart_after, limit), uno.output[-500:]
                    broker.restart()
                done = sub.wait_for(lambda: set(range(1, until + 1)) <= set(seqs(sub)) and len(
                    {t for t, _, _ in list(sub.messages) if t.endswith("/config")}) >= configs, limit)
                if done and wait_usb:
                    uno.wait_for(wait_usb, timeout=60)  # the board hears the PUBACK a moment after the subscriber
                usb = uno.output
        assert done, usb.decode(errors="replace")[-1500:]
        sub.wait_for(lambda: False, 0.3)  # a repeat would come right behind
        return sub.payloads(STATE), relay, usb
    finally:
        sub.close()
        relay.close()


def test_reporter_mqtt_on_the_uno_every_reading_once_and_the_sensor_discovered(reporter_elf, broker, tmp_path):
    payloads, relay, usb = run_uno(reporter_elf, broker, 4, tmp_path)
    readings = in_order_once(payloads, 4)
    assert relay.connections == 1 and b"mqtt connected 1" in usb
    check_discovery(broker.port, readings)


def test_reporter_mqtt_on_the_uno_a_dropped_link_sends_that_reading_again(reporter_elf, broker, tmp_path):
    payloads, relay, usb = run_uno(reporter_elf, broker, 5, tmp_path, fault=cut_at_puback_of(2))
    assert [a for a, *_ in relay.faults] == ["cut"] and relay.connections >= 2 and b"mqtt lost" in usb
    in_order_once(payloads, 5, repeats={2})
    twos = [p for p in payloads if json.loads(p)["seq"] == 2]
    same_reading_again(*twos)


def test_reporter_mqtt_on_the_uno_a_broker_restart_loses_no_reading(reporter_elf, broker, tmp_path):
    payloads, relay, usb = run_uno(reporter_elf, broker, 6, tmp_path, restart_after=2)
    assert broker.starts == 2 and b"mqtt lost" in usb
    counts = Counter(json.loads(p)["seq"] for p in payloads)
    assert set(range(1, 7)) <= set(counts) and sum(counts.values()) - len(counts) <= 1, counts


def test_the_mqtt_publish_example_on_the_uno(broker, tmp_path, tmp_path_factory):
    settings = {"ESPAT_WIFI_SSID": "HomeNet", "ESPAT_WIFI_PASS": "s3cr3t", "ESPAT_SERVER_HOST": BROKER,
                "ESPAT_SERVER_PORT": "1883", "ESPAT_DEVICE": DEVICE, "ESPAT_MQTT_USER": USER,
                "ESPAT_MQTT_PASS": PASSWORD}
    _, _, elf = builds.build_example(tmp_path_factory, "MqttPublish", "soft", tmp_path / "fw", settings)
    payloads, relay, usb = run_uno(elf, broker, 2, tmp_path, configs=1, wait_usb=b"published seq 2\r\n")
    got = [json.loads(p) for p in payloads]
    assert [r["seq"] for r in got] == [1, 2] and all(set(r) == {"seq", "a0"} for r in got)  # the topic: the device
    assert b"published seq 1\r\n" in usb and b"published seq 2\r\n" in usb
    assert relay.connections == 1, usb  # one session: idle between readings, the link stays up
    config = retained(broker.port, f"homeassistant/sensor/{DEVICE}_a0/config")
    assert len(config) == 1 and config[0][1] is True
    full = ha_expanded(json.loads(config[0][0]))
    assert full["state_topic"] == STATE and full["unique_id"] == f"{DEVICE}_a0"
    assert set(full) == {"name", "unique_id", "state_topic", "value_template"}
    template = jinja2.Environment().from_string(full["value_template"])
    assert [template.render(value_json=r) for r in got] == [str(r["a0"]) for r in got]


# Home Assistant's documented abbreviations of discovery keys (its MQTT discovery docs; the integration's
# abbreviations.py) that the example uses: HA reads the short key as the long one.
HA_ABBREVIATIONS = {"uniq_id": "unique_id", "stat_t": "state_topic", "val_tpl": "value_template"}


def ha_expanded(config):
    """A discovery config with its abbreviated keys written out, as Home Assistant reads it."""
    return {HA_ABBREVIATIONS.get(k, k): v for k, v in config.items()}
