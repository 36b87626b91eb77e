"""MQTT test helpers: Debian's mosquitto started on a loopback port chosen at run time (with a password file and
persistence, so a restart keeps the subscriber's session), a recording TCP relay between a publisher and the
broker that can cut the link or swallow a packet at a chosen point, and a paho-mqtt subscriber that keeps every
message it was sent. Used by the native and the simavr MQTT tests."""
from __future__ import annotations

import getpass
import json
import shutil
import socket
import subprocess
import threading
import time
from pathlib import Path
from typing import Callable, List, Optional, Tuple

import paho.mqtt.client as paho

USER, PASSWORD = "espat", "s3cr3t-broker"
TOPIC = "espat/test/readings"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Mosquitto:
    """A real mosquitto on 127.0.0.1: only USER/PASSWORD may connect; messages and sessions survive restart()."""

    def __init__(self, workdir: Path):
        exe = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        assert Path(exe).exists(), "mosquitto missing: apt-get install mosquitto (scripts/setup.sh does)"
        self.exe = exe
        self.dir = workdir
        self.dir.mkdir(parents=True, exist_ok=True)
        passwd = self.dir / "passwd"
        done = subprocess.run(["mosquitto_passwd", "-b", "-c", str(passwd), USER, PASSWORD], capture_output=True,
                              text=True)
        assert done.returncode == 0, done.stderr
        self.passwd = passwd
        self.log = self.dir / "mosquitto.log"
        self.proc: Optional[subprocess.Popen] = None
        self.port = 0
        self.starts = 0
        for _ in range(5):  # a port probed free may be taken by someone else before mosquitto binds it
            self.port = _free_port()
            if self._start():
                return
        raise AssertionError("mosquitto would not start:\n" + self._diagnosis())

    def _start(self) -> bool:
        conf = self.dir / "mosquitto.conf"
        conf.write_text(f"listener {self.port} 127.0.0.1\nallow_anonymous false\npassword_file {self.passwd}\n"
                        f"persistence true\npersistence_location {self.dir}/\nlog_dest file {self.log}\n"
                        # as root mosquitto would switch to the `mosquitto` user, who cannot write here
                        f"log_type all\nuser {getpass.getuser()}\n")
        with (self.dir / "stderr.txt").open("ab") as err:
            self.proc = subprocess.Popen([self.exe, "-c", str(conf)], stdin=subprocess.DEVNULL,
                                         stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return False
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                self.starts += 1
                return True
            except OSError:
                time.sleep(0.05)
        self.stop()
        return False

    def _diagnosis(self) -> str:
        return "".join(p.read_text(errors="replace") for p in (self.dir / "stderr.txt", self.log) if p.exists())

    def stop(self) -> None:
        """SIGTERM: mosquitto writes its persistence file (sessions, queued messages) and exits."""
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=20)
        self.proc = None

    def restart(self) -> None:
        self.stop()
        deadline = time.monotonic() + 30
        while not self._start():
            assert time.monotonic() < deadline, "mosquitto would not restart:\n" + self._diagnosis()
            time.sleep(0.2)

    def close(self) -> None:
        self.stop()


def read_packet(buf: bytes) -> Optional[Tuple[int, bytes, int]]:
    """One MQTT packet from the front of `buf`: (first byte, body, total length), or None if incomplete."""
    if len(buf) < 2:
        return None
    length, shift, i = 0, 0, 1
    while True:
        if i >= len(buf):
            return None
        b = buf[i]
        length |= (b & 0x7F) << shift
        shift += 7
        i += 1
        if not b & 0x80:
            break
    if len(buf) < i + length:
        return None
    return buf[0], buf[i:i + length], i + length


def publish_id(first: int, body: bytes) -> Optional[int]:
    """The packet id of a QoS 1 PUBLISH, else None."""
    if first >> 4 != 3 or (first >> 1) & 3 == 0:
        return None
    n = int.from_bytes(body[:2], "big")
    return int.from_bytes(body[2 + n:4 + n], "big")


def publish_payload(first: int, body: bytes) -> bytes:
    n = int.from_bytes(body[:2], "big")
    return body[2 + n + (2 if (first >> 1) & 3 else 0):]


class Relay:
    """A TCP relay on 127.0.0.1 in front of the broker that records every MQTT packet each way.

    `fault(direction, first, body, relay)` is asked about each packet before it is passed on ('up' to the
    broker, 'down' to the publisher); it returns None to pass it, 'cut' to close both sides instead (the link
    dropped), or 'swallow' to let it vanish (the answer lost, the link still up). `faults` records each one."""

    def __init__(self, target_port: int, fault: Optional[Callable] = None):
        self.target = target_port
        self.fault = fault
        self.packets: List[Tuple[str, int, bytes]] = []  # (direction, first byte, body), in order
        self.faults: List[Tuple[str, str, int, bytes]] = []
        self.connections = 0
        self.lock = threading.Lock()
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(("127.0.0.1", self.target), timeout=5)
            except OSError:
                conn.close()  # the broker is down: so is the link, as a real one would be
                continue
            upstream.settimeout(None)  # the 5 s bound was for connecting: an idle MQTT link stays up
            with self.lock:
                self.connections += 1
            pair = [conn, upstream]
            threading.Thread(target=self._pump, args=(conn, upstream, "up", pair), daemon=True).start()
            threading.Thread(target=self._pump, args=(upstream, conn, "down", pair), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, direction: str, pair: list) -> None:
        buf = b""
        try:
            while True:
                chunk = src.recv(4096)
                if not chunk:
                    break
                buf += chunk
                while (p := read_packet(buf)) is not None:
                    first, body, total = p
                    packet, buf = buf[:total], buf[total:]
                    with self.lock:
                        self.packets.append((direction, first, body))
                        action = self.fault(direction, first, body, self) if self.fault else None
                        if action:
                            self.faults.append((action, direction, first, body))
                    if action == "cut":
                        raise OSError("cut")
                    if action != "swallow":
                        dst.sendall(packet)
        except OSError:
            pass
        for s in pair:
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            s.close()

    def sent_up(self, kind: int) -> List[bytes]:
        """Bodies of the packets of type `kind` (high nibble) the publisher sent."""
        with self.lock:
            return [body for d, first, body in self.packets if d == "up" and first >> 4 == kind]

    def close(self) -> None:
        self.sock.close()


class Subscriber:
    """A paho-mqtt client that subscribes to `topics` at QoS 1 with a persistent session (clean_session off), so
    what is published while it reconnects after a broker restart still reaches it."""

    def __init__(self, port: int, topics=(TOPIC,), client_id: str = "espat-test-sub"):
        self.messages: List[Tuple[str, bytes, bool]] = []  # (topic, payload, retain)
        self.redelivered: List[Tuple[str, bytes]] = []      # the broker's own repeats to this subscriber (DUP)
        self.lock = threading.Lock()
        self.topics = topics
        self.subscribed = threading.Event()
        self.client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, clean_session=False,
                                  protocol=paho.MQTTv311)
        self.client.username_pw_set(USER, PASSWORD)
        self.client.reconnect_delay_set(min_delay=0.1, max_delay=0.5)
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        self.client.on_subscribe = lambda *a: self.subscribed.set()
        self.client.connect("127.0.0.1", port, keepalive=30)
        self.client.loop_start()
        assert self.subscribed.wait(20), "the subscriber never got its SUBACK"

    def _on_connect(self, client, userdata, flags, reason_code, properties):
        if not reason_code.is_failure:
            client.subscribe([(t, 1) for t in self.topics])

    def _on_message(self, client, userdata, msg):
        with self.lock:
            if msg.dup:
                # the broker delivering to this subscriber again (its PUBACK was lost in a broker restart): the
                # broker's doing, not the board's; what the board published again comes as a new delivery
                self.redelivered.append((msg.topic, msg.payload))
                return
            self.messages.append((msg.topic, msg.payload, bool(msg.retain)))

    def payloads(self, topic: str = TOPIC) -> List[bytes]:
        with self.lock:
            return [p for t, p, _ in self.messages if t == topic]

    def readings(self, topic: str = TOPIC) -> List[dict]:
        return [json.loads(p) for p in self.payloads(topic)]

    def wait_for(self, done: Callable[[], bool], limit: float) -> bool:
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if done():
                return True
            time.sleep(0.05)
        return done()

    def close(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


def retained(port: int, topic: str, limit: float = 20) -> List[Tuple[bytes, bool]]:
    """What a fresh subscriber (a new session) is given on `topic` at once: the retained message, with its flag."""
    got: List[Tuple[bytes, bool]] = []
    done = threading.Event()
    c = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="espat-test-retained", clean_session=True,
                    protocol=paho.MQTTv311)
    c.username_pw_set(USER, PASSWORD)
    c.on_connect = lambda client, *a: client.subscribe(topic, 1)
    c.on_message = lambda client, u, msg: (got.append((msg.payload, bool(msg.retain))), done.set())
    c.connect("127.0.0.1", port, keepalive=30)
    c.loop_start()
    done.wait(limit)
    c.loop_stop()
    c.disconnect()
    return got
