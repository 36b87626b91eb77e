"""EspAtMqtt, the library's MQTT 3.1.1 publisher, compiled with g++ over a real TCP socket (host_client.h) and run
against a real Debian mosquitto (password file, persistence) through a recording relay; a paho-mqtt subscriber
checks what arrives. Every reading must reach the subscriber; a reading is sent again only when its PUBACK never
reached the publisher, and then byte for byte the same (its key in the payload lets a consumer drop the repeat).
And every packet it writes, compared byte for byte with the standard's layouts (no broker: a Client that prints).
Needs g++ and mosquitto: a missing one fails these tests, it does not skip them."""
import json
import os
import socket
import subprocess
import time
from collections import Counter

import pytest

import native_cc
from fw_native import ROOT, SHIM
from mqtttools import PASSWORD, TOPIC, USER, Mosquitto, Relay, Subscriber, publish_id, publish_payload, retained

LIB = ROOT / "firmware" / "lib" / "EspAt" / "src"
HERE = ROOT / "tests" / "firmware"
CONFIG_TOPIC = "homeassistant/sensor/native-1_t/config"


@pytest.fixture(scope="module")
def publisher():
    return native_cc.program("mqtt_publisher", ["-std=gnu++11", "-O1", "-g", "-Wall", "-Werror", "-fpermissive",
                                                f"-I{SHIM}", f"-I{LIB}", f"-I{HERE}"],
                             [HERE / "mqtt_publisher.cpp", LIB / "EspAtMqtt.cpp", LIB / "EspAtStr.cpp", SHIM / "shim.cpp"])


@pytest.fixture
def broker(tmp_path):
    b = Mosquitto(tmp_path / "broker")
    yield b
    b.close()


def remaining_length(n):
    """MQTT 3.1.1 section 2.2.3: seven bits a byte, low first, the top bit saying another follows."""
    out = b""
    while True:
        n, digit = n >> 7, n & 0x7F
        out += bytes([digit | (0x80 if n else 0)])
        if not n:
            return out


def field(text):
    """A length-prefixed string (section 1.5.3)."""
    data = text.encode() if isinstance(text, str) else text
    return len(data).to_bytes(2, "big") + data


def connect_packet(client_id, keep_alive, user=None, password=None):
    """CONNECT (section 3.1): protocol name and level 4, the flags (clean session, user name, password), the
    keep-alive, then the client id and the user name and password that are given."""
    flags = 0x02 | (0x80 if user else 0) | (0x40 if user and password else 0)
    body = field("MQTT") + bytes([4, flags]) + keep_alive.to_bytes(2, "big") + field(client_id)
    body += (field(user) if user else b"") + (field(password) if user and password else b"")
    return bytes([0x10]) + remaining_length(len(body)) + body


def publish_packet(topic, payload, packet_id=None, retain=False):
    """PUBLISH (section 3.3): QoS 1 when it has a packet id."""
    first = 0x30 | (0x02 if packet_id else 0) | (0x01 if retain else 0)
    body = field(topic) + (packet_id.to_bytes(2, "big") if packet_id else b"") + payload
    return bytes([first]) + remaining_length(len(body)) + body


def letters(n):
    return bytes(ord("a") + i % 26 for i in range(n))


def test_every_packet_is_the_standards_byte_for_byte():
    """Each packet the publisher writes (tests/firmware/mqtt_packets.cpp: each call, then the line its flush
    ends), against the layouts of MQTT 3.1.1 section 3 built here."""
    program = native_cc.program("mqtt_packets", ["-std=gnu++11", "-O1", "-g", "-Wall", "-Werror", "-fpermissive",
                                                 f"-I{SHIM}", f"-I{LIB}", f"-I{HERE}"],
                                [HERE / "mqtt_packets.cpp", LIB / "EspAtMqtt.cpp", LIB / "EspAtStr.cpp",
                                 SHIM / "shim.cpp"])
    done = subprocess.run([str(program)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    expected = [
        connect_packet("uno-1", 60), "= 1",
        connect_packet("uno-1", 0, user="user"), "= 1",
        connect_packet("uno-1", 300, user="user", password="pw"), "= 1",
        connect_packet("", 7), "= 1",
        publish_packet("home/t", b"21.5"), "= 1",
        publish_packet("home/t", b"x", retain=True), "= 1",
        publish_packet("home/t", b'{"v":-42}', packet_id=1), "= 1",
        publish_packet("t/b", bytes([0, 1, 2, 0xFF]), packet_id=2, retain=True), "= 2",
        publish_packet('{"v":7}', letters(130), packet_id=3), "= 3",
        publish_packet("tt", letters(15998)), "= 1",
        "= 0",
        publish_packet("t", b"q", packet_id=4), "= 4",
        "= 1",  # a packet no publisher is sent, short: let go, and the PUBACK after it read
        "= 4",  # one past 127 bytes: Error::Protocol, the session ended
        connect_packet("uno-1", 60), "= 1",
        bytes([0xE0, 0]),  # DISCONNECT
    ]
    assert done.stdout.splitlines() == [e.hex() if isinstance(e, bytes) else e for e in expected]


def start(publisher, port, **env):
    full = {**os.environ, "MQTT_PORT": str(port), "MQTT_USER": USER, "MQTT_PASS": PASSWORD,
            "MQTT_CLIENT": "espat-native-1", **{f"MQTT_{k.upper()}": str(v) for k, v in env.items()}}
    return subprocess.Popen([str(publisher)], env=full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, limit=60):
    try:
        out, err = proc.communicate(timeout=limit)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f"the publisher did not finish:\n{out}\n{err}")
    return proc.returncode, out.splitlines()


def seqs(sub):
    return [r["seq"] for r in sub.readings()]


def test_readings_arrive_once_each_with_user_and_password(publisher, broker):
    relay = Relay(broker.port)
    sub = Subscriber(broker.port)
    try:
        status, lines = finish(start(publisher, relay.port, count=20))
        assert status == 0, lines
        assert sub.wait_for(lambda: len(seqs(sub)) >= 20, 20)
        time.sleep(0.3)  # a repeat would come right behind
        assert seqs(sub) == list(range(1, 21))
        assert lines[0] == "connected" and lines[1:21] == [f"acked {n}" for n in range(1, 21)]
        # What went up: one CONNECT with the user and password flags, QoS 1 PUBLISHes with distinct ids, DISCONNECT.
        connect = relay.sent_up(1)
        assert len(connect) == 1 and connect[0][7] == 0xC2  # user, password, clean session
        assert USER.encode() in connect[0] and PASSWORD.encode() in connect[0]
        ups = [(first, body) for d, first, body in relay.packets if d == "up" and first >> 4 == 3]
        assert [first for first, _ in ups] == [0x32] * 20
        assert len({publish_id(f, b) for f, b in ups}) == 20
        assert relay.sent_up(14) == [b""]
    finally:
        sub.close()
        relay.close()


def test_a_wrong_password_is_refused_with_the_brokers_code(publisher, broker):
    status, lines = finish(start(publisher, broker.port, count=1, **{"pass": "wrong"}))
    assert status == 3
    assert lines == ["refused 5"]  # 3.1.1's "not authorised": mosquitto's answer to a bad password


def test_a_user_without_a_password_sends_no_password_field(publisher, broker):
    """3.1.1: the user name flag alone, the user name the last field; mosquitto's password file refuses it."""
    relay = Relay(broker.port)
    try:
        status, lines = finish(start(publisher, relay.port, count=1, **{"pass": ""}))
        assert status == 3 and lines == ["refused 5"], lines
        connect = relay.sent_up(1)
        assert len(connect) == 1 and connect[0][7] == 0x82  # user, clean session; no password
        assert connect[0].endswith(len(USER).to_bytes(2, "big") + USER.encode())
    finally:
        relay.close()


@pytest.mark.parametrize("config", [1, 2], ids=["flash-string", "ram-bytes"])
def test_qos0_readings_and_a_retained_discovery_config(publisher, broker, config):
    sub = Subscriber(broker.port)
    try:
        status, lines = finish(start(publisher, broker.port, count=5, qos=0, config=config))
        assert status == 0, lines
        assert lines[:2] == ["connected", "config acked"] and lines[2:7] == [f"sent {n}" for n in range(1, 6)]
        assert sub.wait_for(lambda: len(seqs(sub)) >= 5, 20)
        assert seqs(sub) == [1, 2, 3, 4, 5]
    finally:
        sub.close()
    # A subscriber that comes later (Home Assistant starting up) is handed the config at once, flagged retained.
    got = retained(broker.port, CONFIG_TOPIC)
    assert len(got) == 1 and got[0][1] is True
    config = json.loads(got[0][0])
    assert config["state_topic"] == TOPIC and config["unit_of_measurement"] == "°C"


@pytest.mark.slow  # tests/README.md: the tiers (waits out the keep-alive)
def test_the_keep_alive_pings_an_idle_link_so_the_broker_keeps_it(publisher, broker):
    """Keep-alive 2 s and 5 s between readings: without PINGREQ mosquitto would close the link after 3 s."""
    relay = Relay(broker.port)
    try:
        status, lines = finish(start(publisher, relay.port, count=3, keepalive=2, idle_ms=5000))
        assert status == 0, lines
        assert relay.connections == 1 and not any(line.startswith("lost") for line in lines), lines
        pings = relay.sent_up(12)
        answers = [body for d, first, body in relay.packets if d == "down" and first >> 4 == 13]
        assert len(pings) >= 4 and len(answers) == len(pings), (len(pings), len(answers))
    finally:
        relay.close()


def cut_at_puback_of(seq, action):
    """A relay fault: the PUBACK that answers reading `seq`'s first PUBLISH is cut (the link drops) or swallowed."""
    wanted = {}

    def fault(direction, first, body, relay):
        if direction == "up" and publish_id(first, body) is not None and not wanted:
            if json.loads(publish_payload(first, body))["seq"] == seq:
                wanted["id"] = publish_id(first, body)
        elif direction == "down" and first >> 4 == 4 and wanted and not relay.faults:
            if int.from_bytes(body[:2], "big") == wanted["id"]:
                return action
        return None

    return fault


@pytest.mark.parametrize("action", ["cut", pytest.param("swallow", marks=pytest.mark.slow)])  # 3.6 s on its own
def test_a_lost_puback_sends_that_reading_again_and_nothing_is_lost(publisher, broker, action):
    """The broker has reading 5 but its PUBACK never reaches the publisher: the link drops right then ('cut'), or
    the answer just never comes ('swallow', ended by the publisher's 2 s bound). Reading 5 goes again, byte for
    byte the same, on a new session; every reading is there and only 5 is there twice."""
    relay = Relay(broker.port, cut_at_puback_of(5, action))
    sub = Subscriber(broker.port)
    try:
        status, lines = finish(start(publisher, relay.port, count=10, timeout_ms=2000))
        assert status == 0, lines
        assert [a for a, *_ in relay.faults] == [action]  # the fault fired, once
        assert relay.connections == 2
        lost = [line for line in lines if line.startswith("lost")]
        assert lost == (["lost 5"] if action == "cut" else ["lost 3"])  # Closed, or Timeout
        assert lines.index(lost[0]) == lines.index("acked 4") + 1  # before reading 5 was acked
        assert sub.wait_for(lambda: len(seqs(sub)) >= 11, 20)
        time.sleep(0.3)
        assert Counter(seqs(sub)) == Counter({**{n: 1 for n in range(1, 11)}, 5: 2})
        fives = [p for p in sub.payloads() if json.loads(p)["seq"] == 5]
        assert fives[0] == fives[1]
    finally:
        sub.close()
        relay.close()


@pytest.mark.slow
def test_a_broker_restart_mid_way_loses_no_reading(publisher, broker):
    sub = Subscriber(broker.port)
    try:
        proc = start(publisher, broker.port, count=30, idle_ms=100)
        assert sub.wait_for(lambda: len(seqs(sub)) >= 8, 30)
        broker.restart()
        status, lines = finish(proc, 90)
        assert status == 0, lines
        assert broker.starts == 2
        assert any(line.startswith("lost") for line in lines) and lines.count("connected") >= 2, lines
        assert sub.wait_for(lambda: set(seqs(sub)) >= set(range(1, 31)), 30)
        time.sleep(0.3)
        counts = Counter(seqs(sub))
        assert set(counts) == set(range(1, 31))
        # A repeat happens only for the reading in flight when a session ended (the broker went away, or on a
        # loaded host a PUBACK came after the publisher's bound): one repeat at most per session lost.
        lost = sum(line.startswith("lost") for line in lines)
        assert sum(counts.values()) - 30 <= lost, (counts, lines)
    finally:
        sub.close()


def test_a_broker_that_never_answers_connect_ends_the_try_within_the_bound(publisher, tmp_path):
    """A server that takes the connection and the CONNECT and says nothing: the publisher gives up on its own
    1 s bound (Timeout), closes, and tries again."""
    silent = socket.socket()
    silent.bind(("127.0.0.1", 0))
    silent.listen(4)
    silent.settimeout(30)
    out = tmp_path / "out.txt"
    with out.open("w") as f:
        proc = subprocess.Popen([str(publisher)], env={**os.environ, "MQTT_PORT": str(silent.getsockname()[1]),
                                                       "MQTT_CLIENT": "x", "MQTT_TIMEOUT_MS": "1000"},
                                stdout=f, stderr=subprocess.DEVNULL)
    try:
        first, _ = silent.accept()
        first.settimeout(30)
        assert first.recv(1) == b"\x10"  # CONNECT
        second, _ = silent.accept()  # it came back: the first try is over
        rest = b""
        while chunk := first.recv(100):  # the publisher closed the silent link: EOF after the CONNECT
            rest += chunk
        assert rest[1:7] == b"\x00\x04MQTT"
        assert "lost 3" in out.read_text()  # ... ended by Timeout
        second.close()
        first.close()
    finally:
        proc.kill()
        proc.wait()
        silent.close()
