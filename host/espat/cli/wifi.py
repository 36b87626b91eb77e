"""`espat wifi`: scan, join, leave, status. SSIDs are UTF-8 both ways."""
from __future__ import annotations

import os
import sys
from typing import Optional

import click

from .session import Failure, Session, SessionGroup

__all__ = ["wifi", "read_password"]

SSID_ENV, PASSWORD_ENV = "ESPAT_WIFI_SSID", "ESPAT_WIFI_PASS"     # the names the firmware's build uses too


@click.group(cls=SessionGroup)
def wifi():
    """Scan, join, leave, status."""


@wifi.command("scan")
@click.pass_obj
def wifi_scan(obj: Session):
    """List access points in range."""
    with obj.module() as esp:
        aps = esp.scan()
    rows = [{"ssid": a.ssid, "rssi": a.rssi, "channel": a.channel, "mac": a.mac, "ecn": a.ecn} for a in aps]
    obj.emit(rows, "\n".join(f"{r['rssi']:>4} dBm  ch {r['channel'] or '?':>2}  {r['ssid']}" for r in rows)
             or "no access points found")


def read_password(password_file: Optional[str]) -> str:
    """From --password-file (`-` is stdin), else $ESPAT_WIFI_PASS, else a hidden prompt on a terminal."""
    if password_file == "-":
        return sys.stdin.readline().rstrip("\r\n")
    if password_file:
        try:
            with open(password_file, encoding="utf-8") as f:
                return f.read().rstrip("\r\n")
        except OSError as exc:
            raise Failure(f"cannot read the password file: {exc.strerror}", 2) from None
    if PASSWORD_ENV in os.environ:
        return os.environ[PASSWORD_ENV]
    if not sys.stdin.isatty():
        raise Failure(f"no password: use --password-file (- for stdin), ${PASSWORD_ENV}, or run in a terminal", 2)
    return click.prompt("Wi-Fi password", hide_input=True)


@wifi.command("join")
@click.argument("ssid", envvar=SSID_ENV, required=False)
@click.option("--password-file", type=click.Path(dir_okay=False, allow_dash=True),
              help="read the password from this file (- reads it from stdin)")
@click.option("--persist", is_flag=True, help="save the network so the module rejoins after a reset")
@click.pass_obj
def wifi_join(obj: Session, ssid: Optional[str], password_file: Optional[str], persist: bool):
    """Join SSID ($ESPAT_WIFI_SSID if left out; password from --password-file, $ESPAT_WIFI_PASS or a hidden
    prompt)."""
    if not ssid:
        raise click.UsageError(f"no SSID: give it (espat wifi join SSID) or set ${SSID_ENV}")
    password = read_password(password_file)
    with obj.module() as esp:
        esp.join(ssid, password, persist)
        ip = esp.addresses().get("STAIP", "?")
    obj.emit({"ssid": ssid, "ip": ip}, f"joined {ssid!r}, address {ip}")


@wifi.command("leave")
@click.pass_obj
def wifi_leave(obj: Session):
    """Leave the access point."""
    with obj.module() as esp:
        esp.leave()
    obj.emit({"joined": False}, "left the access point")


@wifi.command("status")
@click.pass_obj
def wifi_status(obj: Session):
    """Which access point, which addresses."""
    with obj.module() as esp:
        ap = esp.station()
        addresses = esp.addresses()
    data = {"joined": ap is not None, "ssid": ap.ssid if ap else None, "rssi": ap.rssi if ap else None,
            "ip": addresses.get("STAIP"), "mac": addresses.get("STAMAC")}
    text = (f"joined {ap.ssid!r}, RSSI {ap.rssi} dBm, address {data['ip']}, MAC {data['mac']}" if ap
            else f"not joined, MAC {data['mac']}")
    obj.emit(data, text)
