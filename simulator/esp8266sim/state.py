"""What the module keeps in flash and what only in RAM, written down once.

Every setting is a field here with its factory value and where it lives:
- "ram": lost at every reset (CIPMUX, CIPMODE, ...);
- "flash": RAM holds the working value; a saving set (1.x `_DEF` or the deprecated bare name, 2.x with
  AT+SYSSTORE=1) also writes flash, and a reset rebuilds RAM from flash (CWMODE, the joined AP, UART_DEF, ...);
- "always": every set writes flash too (CWAUTOCONN, SAVETRANSLINK).
AT+RST is `boot()`: RAM from flash. AT+RESTORE is `restore()`: flash back to factory, then boot.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Dict

__all__ = ["Field", "FIELDS", "State", "STATION_MAC", "SOFTAP_MAC"]

STATION_MAC = "5c:cf:7f:a1:b2:c3"
SOFTAP_MAC = "5e:cf:7f:a1:b2:c3"


@dataclass(frozen=True)
class Field:
    key: str
    default: Any
    kept: str               # "ram" | "flash" | "always"


FIELDS: Dict[str, Field] = {f.key: f for f in (
    # basic
    Field("echo", 1, "ram"),
    Field("uart", (115200, 8, 1, 0, 0), "flash"),
    Field("sleep", 2, "ram"),                   # modem sleep, the SDK's default
    Field("rfpower", 78, "ram"),
    Field("sysmsg", 0, "flash"),
    Field("sysstore", 1, "ram"),
    Field("syslog", 0, "ram"),
    Field("sysiocfg", (), "ram"),               # per-pin (pin, mode, pull-up) set by SYSIOSETCFG
    # Wi-Fi
    Field("mode", 1, "flash"),
    Field("join", None, "flash"),               # (ssid, password) of the AP to join at boot
    Field("autoconn", 1, "always"),
    Field("lapopt", (0, 0x7FF), "ram"),
    Field("softap", ("ESP_A1B2C3", "", 1, 0, 4, 0), "flash"),   # ssid, pwd, channel, ecn, max conn, hidden
    Field("dhcp", 3, "flash"),                  # bit 0 SoftAP DHCP server, bit 1 station DHCP client
    Field("dhcps", (1, 120, "192.168.4.2", "192.168.4.101"), "flash"),   # enabled, lease min, first, last
    Field("sta_mac", STATION_MAC, "flash"),
    Field("ap_mac", SOFTAP_MAC, "flash"),
    Field("sta_ip", None, "flash"),             # (ip, gateway, netmask) when static; None: DHCP's
    Field("ap_ip", ("192.168.4.1", "192.168.4.1", "255.255.255.0"), "flash"),
    Field("hostname", "ESP_A1B2C3", "ram"),
    Field("country", (0, "CN", 1, 13), "flash"),
    Field("reconncfg", (0, 0), "flash"),        # 2.x CWRECONNCFG interval, repeat count
    Field("mdns", None, "ram"),
    Field("staproto", 7, "flash"),              # 2.x: bit 0 802.11b, 1 g, 2 n
    Field("approto", 7, "flash"),
    # TCP/IP
    Field("mux", 0, "ram"),
    Field("cipmode", 0, "ram"),
    Field("recvmode", 0, "ram"),
    Field("dinfo", 0, "ram"),
    Field("server_max", 5, "ram"),
    Field("server_timeout", 180, "ram"),
    Field("closemode", (0, 0, 0, 0, 0), "ram"),
    Field("savetranslink", None, "always"),     # (type, host, port, keepalive or local port)
    Field("dns", (0, "208.67.222.222", ""), "flash"),
    Field("sntp", (0, 8, "cn.ntp.org.cn", "ntp.sjtu.edu.cn", "us.pool.ntp.org"), "ram"),
    Field("reconnintv", 1, "ram"),
    Field("tcpopt", (0, -1, 0, 1, 0), "ram"),
    # SSL
    Field("sslsize", 2048, "ram"),
    Field("sslconf", 0, "flash"),               # 1.x CIPSSLCCONF: 0 no certificate check
    Field("sslcconf", (0, 0, 0), "ram"),        # 2.x per link: auth mode, pki index, ca index
    Field("sslcsni", "", "ram"),
    Field("sslccn", "", "ram"),
    Field("sslcalpn", (), "ram"),
    Field("sslcpsk", ("", ""), "ram"),
)}


class State:
    """The module's settings: `ram` is what it runs with, `flash` what survives a reset."""

    def __init__(self, factory: Dict[str, Any] = None) -> None:
        # `factory` overrides defaults for this board (its UART rate, say): what RESTORE returns to.
        self.factory = dict(factory or {})
        self.flash: Dict[str, Any] = {}
        self.ram: Dict[str, Any] = {}
        self.boot()

    def default(self, key: str) -> Any:
        return self.factory.get(key, FIELDS[key].default)

    def saved(self, key: str) -> Any:
        return self.flash.get(key, self.default(key))

    def boot(self) -> None:
        """After a reset: RAM-only settings back to factory, the rest as flash holds them."""
        self.ram = {key: self.default(key) if f.kept == "ram" else self.saved(key) for key, f in FIELDS.items()}

    def restore(self) -> None:
        """AT+RESTORE: flash back to factory (the module then resets)."""
        self.flash.clear()

    def __getitem__(self, key: str) -> Any:
        return self.ram[key]

    def set(self, key: str, value: Any, persist: bool = False) -> None:
        kept = FIELDS[key].kept
        self.ram[key] = value
        if kept == "always" or (kept == "flash" and persist):
            self.flash[key] = value
