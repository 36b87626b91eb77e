"""What a fake ESP-01 is set up with: Wi-Fi networks, the host map, dialect, baud rate, latencies and faults.

The host map is the simulator's whole Internet. `example.com=127.0.0.1:8080` sends every port of example.com to
127.0.0.1:8080; `example.com:80=127.0.0.1:8080` maps one port, and wins over the name's catch-all. A name the map
lacks fails DNS as the firmware reports it; an address it lacks cannot be connected to. Nothing ever resolves
outside 127.0.0.0/8.
"""
from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .faults import BYTE_KINDS, Fault, parse_fault
from .profiles import Profile, profile

__all__ = ["ADAPTERS", "ConfigError", "LATENCY_KNOBS", "Latency", "SimConfig", "parse_network", "parse_host"]


class ConfigError(ValueError):
    """A setting the simulator cannot run with; the message is one line for the user."""


# name -> (default seconds, what it is). Defaults: an ESP-01 on a home 2.4 GHz Wi-Fi network reaching a server on
# the Internet. rtt: home broadband round trips to a nearby server are ~10-40 ms by access technology (cable/DSL/
# fibre; FCC "Measuring Broadband America" fixed reports), plus a few ms for the Wi-Fi hop; join: a WPA2 join with
# DHCP takes seconds (WiFiEspAT notes ~5 s); boot: ready comes well within the 3 s libraries wait (notes 1.5, 9).
LATENCY_KNOBS = {
    "rtt": (0.03, "network round trip: a reply reaches the module at least one rtt after the request left it, "
                  "SEND OK waits for the ACK (one rtt), CIPSTART for the handshake (one rtt)"),
    "join": (2.0, "CWJAP until WIFI CONNECTED / WIFI GOT IP"),
    "dns": (0.05, "a name lookup at CIPSTART (the router's resolver)"),
    "connect": (0.05, "the module's own work at CIPSTART before the handshake"),
    "send": (0.01, "from the last payload byte until the segment leaves the module"),
    "boot": (0.35, "from AT+RST's OK to ready"),
}


@dataclass(frozen=True)
class Latency:
    """Seconds a real module and network take (LATENCY_KNOBS), before `scale` (0 makes every answer immediate)."""
    rtt: float = LATENCY_KNOBS["rtt"][0]
    join: float = LATENCY_KNOBS["join"][0]
    dns: float = LATENCY_KNOBS["dns"][0]
    connect: float = LATENCY_KNOBS["connect"][0]
    send: float = LATENCY_KNOBS["send"][0]
    boot: float = LATENCY_KNOBS["boot"][0]
    scale: float = 1.0

    def __call__(self, name: str) -> float:
        return getattr(self, name) * self.scale


# A USB-serial adapter hands received bytes to the host in USB packets: when a packet is full or when its latency
# timer runs out. FTDI (AN232B-04): 64-byte packets of which 2 are status, latency timer 16 ms by default.
ADAPTERS = {"none": (0.0, 0), "ftdi": (16.0, 62)}


def _loopback(host: str, port: int, where: str) -> Tuple[str, int]:
    try:
        address = ipaddress.IPv4Address(host)
    except ValueError:
        raise ConfigError(f"{where}: {host!r} is not an IPv4 address") from None
    if not address.is_loopback:
        raise ConfigError(f"{where}: {host} is not on loopback (127.0.0.0/8); the simulator reaches nothing else")
    if not 1 <= port <= 65535:
        raise ConfigError(f"{where}: port {port} is outside 1-65535")
    return str(address), port


def parse_host(spec: str) -> Tuple[str, Tuple[str, int]]:
    """`NAME=127.0.0.1:PORT` or `NAME:PORT=127.0.0.1:PORT` to a host-map entry."""
    name, sep, target = spec.partition("=")
    host, colon, port = target.rpartition(":")
    if not sep or not name or not colon or not port.isdigit():
        raise ConfigError(f"--host {spec!r}: expected NAME=127.0.0.1:PORT or NAME:PORT=127.0.0.1:PORT")
    key_name, key_colon, key_port = name.rpartition(":")
    if key_colon and not (key_port.isdigit() and 1 <= int(key_port) <= 65535 and key_name):
        raise ConfigError(f"--host {spec!r}: the port after the name must be 1-65535")
    return name.lower(), _loopback(host, int(port), f"--host {spec!r}")


def parse_network(spec: str) -> Tuple[str, str]:
    """`SSID:PASSWORD` (the SSID may not hold a colon; the password may)."""
    ssid, sep, password = spec.partition(":")
    if not sep or not ssid:
        raise ConfigError(f"--network {spec!r}: expected SSID:PASSWORD")
    if len(ssid.encode()) > 32 or len(password.encode()) > 64:
        raise ConfigError(f"--network {spec!r}: SSID is at most 32 bytes and the password at most 64")
    if password and len(password) < 8:
        raise ConfigError(f"--network {spec!r}: a WPA2 password has 8 to 64 characters (empty for an open network)")
    return ssid, password


@dataclass
class SimConfig:
    networks: Dict[str, str] = field(default_factory=dict)
    hosts: Dict[str, Tuple[str, int]] = field(default_factory=dict)
    dialect: str = "1"
    baud: Optional[int] = None          # None: no pacing; else the module's UART rate at boot
    latency_scale: float = 1.0
    latency_times: Dict[str, float] = field(default_factory=dict)     # LATENCY_KNOBS name -> seconds
    adapter: str = "none"               # ADAPTERS: how the host receives the module's bytes
    latency_timer_ms: Optional[float] = None    # overrides the adapter's latency timer
    faults: List[str] = field(default_factory=list)
    seed: int = 0
    log_path: Optional[str] = None

    def __post_init__(self) -> None:
        self.profile: Profile = _dialect(self.dialect)
        if self.baud is not None and not 300 <= self.baud <= 4_500_000:
            raise ConfigError(f"baud rate {self.baud} is outside 300-4500000")
        if not 0 <= self.latency_scale <= 100:
            raise ConfigError(f"latency scale {self.latency_scale} is outside 0-100")
        for name, seconds in self.latency_times.items():
            if name not in LATENCY_KNOBS:
                raise ConfigError(f"latency {name!r}: known are {', '.join(LATENCY_KNOBS)}")
            if not 0 <= seconds <= 600:
                raise ConfigError(f"latency {name} {seconds} s is outside 0-600")
        self.latency = Latency(scale=self.latency_scale, **self.latency_times)
        if self.adapter not in ADAPTERS:
            raise ConfigError(f"adapter {self.adapter!r}: known are {', '.join(ADAPTERS)}")
        timer, self.usb_packet = ADAPTERS[self.adapter]
        self.latency_timer = (timer if self.latency_timer_ms is None else self.latency_timer_ms) / 1000
        if not 0 <= self.latency_timer <= 0.255:
            raise ConfigError(f"latency timer {self.latency_timer_ms} ms is outside 0-255")
        if self.latency_timer and not self.usb_packet:
            self.usb_packet = ADAPTERS["ftdi"][1]
        plan = [parse_fault(spec) for spec in self.faults]
        self.wire_faults: List[Fault] = [f for f in plan if f.kind in BYTE_KINDS]     # wire.py's
        self.fault_plan: List[Fault] = [f for f in plan if f.kind not in BYTE_KINDS]  # the module's
        normalized = {}
        for name, target in self.hosts.items():
            host, port = target
            normalized[name.lower()] = _loopback(host, int(port), f"host {name!r}")
        self.hosts = normalized

    def resolve(self, name: str, port: int) -> Optional[Tuple[str, int]]:
        """Where a connection to `name`:`port` goes, or None when the map has no entry."""
        name = name.lower()
        return self.hosts.get(f"{name}:{port}") or self.hosts.get(name)

    def knows_name(self, name: str) -> bool:
        """DNS: whether `name` resolves at all (any port of it is mapped)."""
        name = name.lower()
        return any(key == name or key.rsplit(":", 1)[0] == name for key in self.hosts)


def _dialect(name: str) -> Profile:
    try:
        return profile(name)
    except ValueError as exc:
        raise ConfigError(str(exc)) from None
