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

from .faults import Fault, parse_fault
from .profiles import Profile, profile

__all__ = ["ConfigError", "Latency", "SimConfig", "parse_network", "parse_host"]


class ConfigError(ValueError):
    """A setting the simulator cannot run with; the message is one line for the user."""


@dataclass(frozen=True)
class Latency:
    """Seconds a real module and network take, before `scale` (0 makes every answer immediate)."""
    join: float = 2.0
    dns: float = 0.05
    connect: float = 0.08
    send: float = 0.01          # from the last payload byte to SEND OK
    boot: float = 0.35          # from AT+RST's OK to `ready`
    scale: float = 1.0

    def __call__(self, name: str) -> float:
        return getattr(self, name) * self.scale


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
    faults: List[str] = field(default_factory=list)
    seed: int = 0
    log_path: Optional[str] = None

    def __post_init__(self) -> None:
        self.profile: Profile = _dialect(self.dialect)
        if self.baud is not None and not 300 <= self.baud <= 4_500_000:
            raise ConfigError(f"baud rate {self.baud} is outside 300-4500000")
        if not 0 <= self.latency_scale <= 100:
            raise ConfigError(f"latency scale {self.latency_scale} is outside 0-100")
        self.latency = Latency(scale=self.latency_scale)
        self.fault_plan: List[Fault] = [parse_fault(spec) for spec in self.faults]
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
