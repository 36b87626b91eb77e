"""Around the module: `ports`, `baud`, `bridge`, `demo` (`sim` is the fake's own command, esp8266sim.cli)."""
from __future__ import annotations

import sys

import click

from .session import Failure, HostPort, Session, SessionCommand

__all__ = ["ports", "baud", "bridge", "demo"]


@click.command(cls=SessionCommand)
@click.pass_obj
def ports(obj: Session):
    """List serial ports with VID:PID and a guess at the adapter or board."""
    from ..adapters import serial_ports
    found = serial_ports()
    text = "\n".join(f"{p.device:<16} {p.vid_pid or '-':<10} {p.adapter or p.description}" for p in found)
    obj.emit([p.as_dict() for p in found], text or "no serial ports found")


@click.command(cls=SessionCommand)
@click.argument("rate", type=int)
@click.option("--persist", is_flag=True, help="also save it (UART_DEF), so it survives a reset")
@click.pass_obj
def baud(obj: Session, rate: int, persist: bool):
    """Change the module's baud rate safely: UART_CUR, reopen, verify, then UART_DEF if --persist."""
    from ..baud import RATES
    if rate not in RATES:
        raise Failure(f"rate {rate} is not one of {', '.join(map(str, sorted(RATES)))}", 2)
    with obj.module() as esp:
        esp.set_baud(rate, persist)
    obj.emit({"baud": rate, "persisted": persist},
             f"module now at {rate} baud" + (" (saved)" if persist else " (until reset; --persist saves it)"))


@click.command(cls=SessionCommand)
@click.option("--tcp", "address", required=True, type=HostPort(),
              help="where to listen for RFC 2217 clients (a loopback address unless --allow-remote)")
@click.option("--allow-remote", is_flag=True,
              help="listen on an address other machines reach: they get raw AT access (no password)")
@click.pass_obj
def bridge(obj: Session, address, allow_remote: bool):
    """Share the module's serial port over the network as RFC 2217 (one client at a time); a pty works too."""
    from ..tools.bridge import serve
    host, port = address
    if not allow_remote and not is_loopback(host):
        raise Failure(f"--tcp {host}:{port} would give anyone who reaches this machine raw AT access to the module "
                      "(its Wi-Fi password, every link; RFC 2217 has no password): listen on 127.0.0.1, or add "
                      "--allow-remote", 2)
    serve(obj.require_port(), obj.baud, host, port, verbose=obj.verbose)


def is_loopback(host: str) -> bool:
    """Whether only this machine reaches `host` (localhost, 127.0.0.0/8, ::1)."""
    import ipaddress
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False            # a name: it may resolve to anything


@click.command(cls=SessionCommand)
@click.option("--ssid", envvar="ESPAT_WIFI_SSID", help="with --port: the network to join ($ESPAT_WIFI_SSID)")
@click.option("--password-file", type=click.Path(dir_okay=False, allow_dash=True),
              help="with --port: the network's password (- reads stdin; or $ESPAT_WIFI_PASS)")
@click.option("--get", "get_url", help="with --port: the URL to GET")
@click.option("--post", "post_url", help="with --port: the URL to POST a reading to")
@click.pass_obj
def demo(obj: Session, ssid, password_file, get_url, post_url):
    """The whole path in one go: detect, join, GET and POST, with the wire transcript."""
    from ..tools.demo import run_demo
    from .wifi import read_password
    if obj.port_url and not (ssid and get_url and post_url):
        raise Failure("against a real module, demo needs --ssid, --get and --post (and a password)", 2)
    password = read_password(password_file) if obj.port_url else None
    sys.exit(run_demo(obj.port_url, obj.baud, ssid, password, get_url, post_url, obj.verbose))
