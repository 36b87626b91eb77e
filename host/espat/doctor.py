"""What is wrong between the host and the network, in plain words: baud, dialect, echo, Wi-Fi, DNS, TCP.

Each check runs only when the one before it worked, and a finding that needs action names the command that fixes
it. The command line only prints these.
"""
from __future__ import annotations

import shlex
import time
from dataclasses import dataclass
from typing import List

__all__ = ["Finding", "examine"]


@dataclass(frozen=True)
class Finding:
    status: str         # "ok", "fix" (works, but do this) or "fail" (cannot go on)
    text: str


def examine(url: str, softserial: bool = True, check_url: str = "http://example.com/", trace=None) -> List[Finding]:
    """Findings for the module on `url`; a `fail` is last when there is one."""
    from .baud import diagnose, survey
    from .boardwait import resets_on_open, wait_for_board
    from .client import EspAt
    probes = survey(url, trace=trace)
    if not probes[-1].answered:
        return [Finding("fail", diagnose(probes))]
    rate = probes[-1].rate
    fix = f"espat -p {shlex.quote(url)} --baud {rate}"
    found = [Finding("ok", f"answers AT at {rate} baud")]
    if softserial and rate > 57600:
        found.append(Finding("fix", f"{rate} baud is too fast for SoftwareSerial on an Uno: {fix} baud 9600 --persist"))
    with EspAt(url, rate, trace=trace) as esp:
        if resets_on_open(url):
            wait_for_board(esp)         # this opening reset the board again
        esp.sync()
        found.append(Finding("ok", f"AT {esp.dialect.name} ({esp.firmware.get('AT version', '?')})"))
        found.append(Finding("ok", "echo was on, as after every reset; a sketch sends ATE0 first, as espat does"
                             if esp.echoed else "echo is off"))
        found += _network(esp, fix, check_url)
    return found


def _network(esp, fix: str, check_url: str) -> List[Finding]:
    """Wi-Fi, address, DNS and a TCP round trip, each only when the one before it worked."""
    from .client import ModuleError
    from .errors import EspAtError
    from .httpclient import request, split_url
    ap = esp.station()
    if ap is None:
        return [Finding("fix", f"not joined to Wi-Fi: {fix} wifi join SSID")]
    ip = esp.addresses().get("STAIP", "0.0.0.0")
    found = [Finding("ok", f"joined {ap.ssid!r} (RSSI {ap.rssi} dBm)")]
    if ip == "0.0.0.0":
        return found + [Finding("fix", f"joined but no address: the access point's DHCP did not answer; {fix} "
                                       "wifi leave, then join again")]
    found.append(Finding("ok", f"station address {ip}"))
    host, port, _ = split_url(check_url)
    started = time.monotonic()
    try:
        response = request(esp, "GET", check_url, timeout=15)
    except ModuleError as exc:
        if "DNS Fail" in exc.detail:
            dns = "CIPDNS_CUR" if esp.dialect.major < 2 else "CIPDNS"     # 1.7 names it with the suffix
            return found + [Finding("fix", f"the module cannot look up {host}: the network gives it no working "
                                           f"DNS server; set one with {fix} at 'AT+{dns}=1,\"8.8.8.8\"'")]
        return found + [Finding("fix", f"no TCP link to {host}:{port} ({exc}): is the server up and reachable "
                                       "from this network?")]
    except EspAtError as exc:
        return found + [Finding("fix", f"TCP round trip to {host}:{port} failed: {exc}")]
    ms = (time.monotonic() - started) * 1000
    return found + [Finding("ok", f"DNS and a TCP round trip: GET {check_url} answered HTTP {response.status} "
                                  f"in {ms:.0f} ms")]
