"""The `espat` command line: find, diagnose, configure and use an ESP-01 from a shell.

Exit status: 0 success, 1 the module said no or failed, 2 a usage error, 3 no answer (timeout). A user's mistake
gets one clear line on stderr, never a traceback. Modules are imported inside the commands so that
`espat --help` starts about as fast as Python itself.
"""
from __future__ import annotations

import json as jsonlib
import os
import sys
from typing import Optional

import click

RATES = (9600, 19200, 38400, 57600, 74880, 115200, 230400, 460800, 921600)


class Failure(click.ClickException):
    """A one-line error with its exit status."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.exit_code = code


def _fail_from(exc: Exception) -> Failure:
    from .client import BusyError, CommandTimeout
    from .errors import LocalProtocolError
    from .transport import PortError
    if isinstance(exc, (CommandTimeout, BusyError)):
        return Failure(str(exc), 3)
    if isinstance(exc, (PortError, LocalProtocolError)):
        return Failure(str(exc), 2)
    return Failure(str(exc), 1)


class Ctx:
    def __init__(self, port: Optional[str], baud: int, timeout: Optional[float], verbose: bool, as_json: bool):
        self.port_url, self.baud, self.timeout, self.verbose, self.as_json = port, baud, timeout, verbose, as_json

    def require_port(self) -> str:
        if not self.port_url:
            raise Failure("no port: give --port (or set ESPAT_PORT); `espat ports` lists the serial ports", 2)
        return self.port_url

    def module(self, sync: bool = True):
        from .client import EspAt
        esp = EspAt(self.require_port(), self.baud, timeout=self.timeout,
                    trace=sys.stderr if self.verbose else None)
        if sync:
            try:
                esp.sync()
            except Exception:
                esp.close()
                raise
        return esp

    def emit(self, data, text: str) -> None:
        click.echo(jsonlib.dumps(data, indent=2) if self.as_json else text)


def run_guarded(fn):
    """Turn the client's typed errors into one-line messages and exit statuses."""
    from functools import wraps

    @wraps(fn)
    def wrapper(*args, **kwargs):
        from .errors import EspAtError
        try:
            return fn(*args, **kwargs)
        except EspAtError as exc:
            raise _fail_from(exc) from None
        except OSError as exc:
            raise Failure(f"I/O error: {exc}", 1) from None
    return wrapper


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-p", "--port", envvar="ESPAT_PORT", metavar="URL",
              help="serial port or pyserial URL (/dev/ttyUSB0, socket://h:p, rfc2217://h:p, sim://...); $ESPAT_PORT")
@click.option("--baud", type=click.IntRange(300, 4_500_000), default=115200, show_default=True,
              help="the port's baud rate")
@click.option("--timeout", type=click.FloatRange(0.1, 600), help="bound every command by this many seconds")
@click.option("-v", "--verbose", is_flag=True, help="annotated wire trace on stderr (passwords redacted)")
@click.option("--json", "as_json", is_flag=True, help="machine-readable output")
@click.version_option(package_name="espat")
@click.pass_context
def main(ctx, port, baud, timeout, verbose, as_json):
    """Drive an ESP-01 (ESP8266 AT firmware) on a USB-serial adapter or behind an Uno."""
    ctx.obj = Ctx(port, baud, timeout, verbose, as_json)


# --- ports, raw commands, terminal ---------------------------------------------------------------------------------

ADAPTERS = {
    (0x2341, 0x0043): "Arduino Uno", (0x2341, 0x0001): "Arduino Uno", (0x2A03, 0x0043): "Arduino Uno",
    (0x1A86, 0x7523): "CH340", (0x1A86, 0x55D4): "CH9102", (0x10C4, 0xEA60): "CP210x",
    (0x0403, 0x6001): "FTDI FT232R", (0x0403, 0x6015): "FTDI FT231X", (0x067B, 0x2303): "Prolific PL2303",
}


@main.command(short_help="List serial ports and guess the adapter.")
@click.pass_obj
def ports(obj: Ctx):
    """List serial ports with VID:PID and a guess at the adapter or board."""
    from serial.tools import list_ports
    found = []
    for info in sorted(list_ports.comports(), key=lambda i: i.device):
        vidpid = f"{info.vid:04x}:{info.pid:04x}" if info.vid is not None else None
        guess = ADAPTERS.get((info.vid, info.pid), "") if info.vid is not None else ""
        found.append({"device": info.device, "vid_pid": vidpid, "adapter": guess, "description": info.description})
    text = "\n".join(f"{p['device']:<16} {p['vid_pid'] or '-':<10} {p['adapter'] or p['description']}"
                     for p in found) or "no serial ports found"
    obj.emit(found, text)


@main.command(short_help="Send raw AT commands, show the answers.")
@click.argument("lines", nargs=-1, required=True)
@click.pass_obj
@run_guarded
def at(obj: Ctx, lines):
    """Send raw AT commands and show the module's answers: espat at AT+GMR 'AT+CWMODE_CUR?'"""
    from .commands import raw
    from .wiretext import redact
    commands_ = [raw(line) for line in lines]          # all checked before any is sent
    answers = []
    with obj.module(sync=False) as esp:
        esp.port.write(b"\r\n")
        esp.drain(0.2)
        heard = esp.port = _Heard(esp.port)
        for cmd in commands_:
            heard.data.clear()
            reply = esp.command(cmd)
            answers.append({"command": redact(cmd.line).decode().strip(), "lines": heard.lines(cmd.line),
                            "result": type(reply.final).__name__})
    obj.emit(answers, "\n".join("\n".join([f"> {a['command']}"] + [f"  {line}" for line in a["lines"]])
                                for a in answers))


class _Heard:
    """A port that keeps what it read, so `espat at` shows the module's own words, not what espat made of them."""

    def __init__(self, port) -> None:
        self._port = port
        self.data = bytearray()

    def __getattr__(self, name):
        return getattr(self._port, name)

    @property
    def in_waiting(self) -> int:
        return self._port.in_waiting

    def read(self, size: int = 1) -> bytes:
        data = self._port.read(size)
        self.data += data
        return data

    def lines(self, sent: bytes) -> list:
        """The reply's lines: no blank lines, no echo of the command, a join's password as ***."""
        from .wiretext import escape_bytes, redact
        echo = redact(sent.rstrip(b"\r\n"))
        found = (line.rstrip(b"\r") for line in redact(bytes(self.data)).split(b"\n"))
        return [escape_bytes(line) for line in found if line and line != echo]


@main.command(short_help="Interactive AT terminal with history.")
@click.pass_obj
@run_guarded
def term(obj: Ctx):
    """Interactive AT terminal: CR LF line ends, history (Up/Down), <XX> for non-printable bytes, Ctrl-] quits."""
    from .term import run_terminal
    from .transport import open_port
    port = open_port(obj.require_port(), obj.baud)
    click.echo(f"--- {obj.port_url} at {obj.baud} baud; Up/Down for history, Ctrl-] quits ---", err=True)
    try:
        run_terminal(port)
    except KeyboardInterrupt:
        pass
    finally:
        port.close()


# --- finding and fixing ----------------------------------------------------------------------------------------------

@main.command(short_help="Find the baud rate and firmware dialect.")
@click.pass_obj
@run_guarded
def detect(obj: Ctx):
    """Find the module's baud rate and firmware dialect."""
    from .baud import diagnose, survey
    from .client import EspAt
    url = obj.require_port()
    trace = sys.stderr if obj.verbose else None
    probes = survey(url, trace=trace)
    if not probes[-1].answered:
        raise Failure(f"no answer to AT on {url}: {diagnose(probes)}", 3)
    rate = probes[-1].rate
    with EspAt(url, rate, trace=trace) as esp:
        esp.sync()
        info = esp.version()
    result = {"baud": rate, "dialect": esp.dialect.name, **info}
    obj.emit(result, f"module answers at {rate} baud, AT {esp.dialect.name}\n" +
             "\n".join(f"  {k}: {v}" for k, v in info.items()))


@main.command(short_help="Diagnose wiring, baud, Wi-Fi, DNS, TCP.")
@click.option("--softserial/--hwserial", default=True, show_default=True,
              help="how the Uno will talk to the module (SoftwareSerial cannot read 115200)")
@click.option("--url", "check_url", default="http://example.com/", show_default=True,
              help="fetched through the module to check DNS and a TCP round trip")
@click.pass_obj
@run_guarded
def doctor(obj: Ctx, softserial: bool, check_url: str):
    """Check baud, dialect, echo, Wi-Fi, DNS and a TCP round trip, and say in plain words what to fix."""
    import shlex
    from .baud import diagnose, survey
    from .client import EspAt
    from .httpclient import HttpError, split_url
    url = obj.require_port()
    try:
        split_url(check_url)
    except HttpError as exc:
        raise Failure(str(exc), 2) from None
    trace = sys.stderr if obj.verbose else None
    findings = []
    probes = survey(url, trace=trace)
    if not probes[-1].answered:
        findings.append(("fail", diagnose(probes)))
    else:
        rate = probes[-1].rate
        fix = f"espat -p {shlex.quote(url)} --baud {rate}"
        findings.append(("ok", f"answers AT at {rate} baud"))
        if softserial and rate > 57600:
            findings.append(("fix", f"{rate} baud is too fast for SoftwareSerial on an Uno: {fix} baud 9600 --persist"))
        with EspAt(url, rate, trace=trace) as esp:
            esp.sync()
            findings.append(("ok", f"AT {esp.dialect.name} ({esp.firmware.get('AT version', '?')})"))
            findings.append(("ok", "echo was on, as after every reset; a sketch sends ATE0 first, as espat does"
                             if esp.echoed else "echo is off"))
            findings += _doctor_network(esp, fix, check_url)
    obj.emit([{"status": s, "finding": f} for s, f in findings],
             "\n".join(f"[{s.upper():>4}] {f}" for s, f in findings))
    if any(s == "fail" for s, _ in findings):
        raise Failure("the module could not be reached", 3)


def _doctor_network(esp, fix: str, check_url: str) -> list:
    """Wi-Fi, address, DNS and a TCP round trip, each only when the one before it worked."""
    import time
    from .client import ModuleError
    from .errors import EspAtError
    from .httpclient import request, split_url
    ap = esp.station()
    if ap is None:
        return [("fix", f"not joined to Wi-Fi: {fix} wifi join SSID")]
    ip = esp.addresses().get("STAIP", "0.0.0.0")
    found = [("ok", f"joined {ap.ssid!r} (RSSI {ap.rssi} dBm)")]
    if ip == "0.0.0.0":
        return found + [("fix", f"joined but no address: the access point's DHCP did not answer; {fix} wifi leave, "
                                "then join again")]
    found.append(("ok", f"station address {ip}"))
    host, port, _ = split_url(check_url)
    started = time.monotonic()
    try:
        response = request(esp, "GET", check_url, timeout=15)
    except ModuleError as exc:
        if "DNS Fail" in exc.detail:
            dns = "CIPDNS_CUR" if esp.dialect.major < 2 else "CIPDNS"     # 1.7 names it with the suffix
            return found + [("fix", f"the module cannot look up {host}: the network gives it no working DNS "
                                    f"server; set one with {fix} at 'AT+{dns}=1,\"8.8.8.8\"'")]
        return found + [("fix", f"no TCP link to {host}:{port} ({exc}): is the server up and reachable from "
                                "this network?")]
    except EspAtError as exc:
        return found + [("fix", f"TCP round trip to {host}:{port} failed: {exc}")]
    ms = (time.monotonic() - started) * 1000
    return found + [("ok", f"DNS and a TCP round trip: GET {check_url} answered HTTP {response.status} "
                           f"in {ms:.0f} ms")]


@main.command(short_help="Change the module's baud rate safely.")
@click.argument("rate", type=int)
@click.option("--persist", is_flag=True, help="also save it (UART_DEF), so it survives a reset")
@click.pass_obj
@run_guarded
def baud(obj: Ctx, rate: int, persist: bool):
    """Change the module's baud rate safely: UART_CUR, reopen, verify, then UART_DEF if --persist."""
    if rate not in RATES:
        raise Failure(f"rate {rate} is not one of {', '.join(map(str, RATES))}", 2)
    with obj.module() as esp:
        esp.set_baud(rate, persist)
    obj.emit({"baud": rate, "persisted": persist},
             f"module now at {rate} baud" + (" (saved)" if persist else " (until reset; --persist saves it)"))


# --- Wi-Fi -----------------------------------------------------------------------------------------------------------

@main.group()
def wifi():
    """Scan, join, leave, status."""


@wifi.command("scan")
@click.pass_obj
@run_guarded
def wifi_scan(obj: Ctx):
    """List access points in range."""
    with obj.module() as esp:
        aps = esp.scan()
    rows = [{"ssid": a.ssid, "rssi": a.rssi, "channel": a.channel, "mac": a.mac, "ecn": a.ecn} for a in aps]
    obj.emit(rows, "\n".join(f"{r['rssi']:>4} dBm  ch {r['channel'] or '?':>2}  {r['ssid']}" for r in rows)
             or "no access points found")


def _password(password_file: Optional[str]) -> str:
    if password_file:
        try:
            with open(password_file, encoding="utf-8") as f:
                return f.read().rstrip("\r\n")
        except OSError as exc:
            raise Failure(f"cannot read the password file: {exc.strerror}", 2) from None
    if "ESPAT_WIFI_PASSWORD" in os.environ:
        return os.environ["ESPAT_WIFI_PASSWORD"]
    if not sys.stdin.isatty():
        raise Failure("no password: use --password-file, ESPAT_WIFI_PASSWORD, or run in a terminal", 2)
    return click.prompt("Wi-Fi password", hide_input=True)


@wifi.command("join")
@click.argument("ssid")
@click.option("--password-file", type=click.Path(dir_okay=False), help="read the password from this file")
@click.option("--persist", is_flag=True, help="save the network so the module rejoins after a reset")
@click.pass_obj
@run_guarded
def wifi_join(obj: Ctx, ssid: str, password_file: Optional[str], persist: bool):
    """Join SSID (password from --password-file, $ESPAT_WIFI_PASSWORD or a hidden prompt)."""
    password = _password(password_file)
    with obj.module() as esp:
        esp.join(ssid, password, persist)
        ip = esp.addresses().get("STAIP", "?")
    obj.emit({"ssid": ssid, "ip": ip}, f"joined {ssid!r}, address {ip}")


@wifi.command("leave")
@click.pass_obj
@run_guarded
def wifi_leave(obj: Ctx):
    """Leave the access point."""
    with obj.module() as esp:
        esp.leave()
    obj.emit({"joined": False}, "left the access point")


@wifi.command("status")
@click.pass_obj
@run_guarded
def wifi_status(obj: Ctx):
    """Which access point, which addresses."""
    with obj.module() as esp:
        ap = esp.station()
        addresses = esp.addresses()
    data = {"joined": ap is not None, "ssid": ap.ssid if ap else None, "rssi": ap.rssi if ap else None,
            "ip": addresses.get("STAIP"), "mac": addresses.get("STAMAC")}
    text = (f"joined {ap.ssid!r}, RSSI {ap.rssi} dBm, address {data['ip']}, MAC {data['mac']}" if ap
            else f"not joined, MAC {data['mac']}")
    obj.emit(data, text)


# --- HTTP -------------------------------------------------------------------------------------------------------------

@main.group()
def http():
    """HTTP GET and POST through the module."""


def _fetch(obj: Ctx, method: str, url: str, body: bytes, headers, output: Optional[str], passive: bool = False):
    from .httpclient import HttpError, request, split_url
    try:
        split_url(url)
    except HttpError as exc:
        raise Failure(str(exc), 2) from None
    out = open(output, "wb") if output else None
    chunks = []
    bar = None

    def sink(data: bytes) -> None:
        (out.write if out else chunks.append)(data)

    def progress(done: int, total: Optional[int]) -> None:
        nonlocal bar
        if (total or done) > 4096 and bar is None and sys.stderr.isatty():
            bar = click.progressbar(length=total or 0, label="receiving", file=sys.stderr)
        if bar is not None:
            bar.update(done - bar.pos)
    try:
        with obj.module() as esp:
            if passive:
                _passive(esp)
            response = request(esp, method, url, body, headers, sink, progress=progress)
    except BaseException:
        if out:
            out.close()
            os.unlink(output)            # never leave a short file behind
        raise
    finally:
        if bar is not None:
            bar.render_finish()
    if out:
        out.close()
    return response, b"".join(chunks)


def _headers(raw_headers) -> list:
    headers = []
    for text in raw_headers:
        name, sep, value = text.partition(":")
        if not sep or not name.strip() or any(c in text for c in "\r\n"):
            raise Failure(f"header {text!r} is not 'Name: value'", 2)
        headers.append((name.strip(), value.strip()))
    return headers


def _passive(esp) -> None:
    from .client import ModuleError
    try:
        esp.set_passive(True)
    except ModuleError:
        raise Failure("this firmware has no passive receive (AT+CIPRECVMODE); leave out --passive", 1) from None


PASSIVE_HELP = ("receive with AT+CIPRECVDATA, asked for piece by piece (the way an Uno keeps up), instead of +IPD "
                "pushed by the module")


@http.command("get")
@click.argument("url")
@click.option("--passive", is_flag=True, help=PASSIVE_HELP)
@click.option("-H", "--header", "raw_headers", multiple=True, help="an extra header, 'Name: value'")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="write the body here")
@click.pass_obj
@run_guarded
def http_get(obj: Ctx, url: str, raw_headers, output: Optional[str], passive: bool):
    """GET URL (http:// only) and print the body, or write it with -o."""
    response, body = _fetch(obj, "GET", url, b"", _headers(raw_headers), output, passive)
    _report(obj, response, body, output)


@http.command("post")
@click.argument("url")
@click.option("--passive", is_flag=True, help=PASSIVE_HELP)
@click.option("--json", "json_body", help="a JSON body (sent as application/json)")
@click.option("--data", help="a raw body (sent as application/x-www-form-urlencoded)")
@click.option("-H", "--header", "raw_headers", multiple=True, help="an extra header, 'Name: value'")
@click.option("-o", "--output", type=click.Path(dir_okay=False, writable=True), help="write the body here")
@click.pass_obj
@run_guarded
def http_post(obj: Ctx, url: str, json_body: Optional[str], data: Optional[str], raw_headers,
              output: Optional[str], passive: bool):
    """POST a body to URL."""
    if (json_body is None) == (data is None):
        raise Failure("give exactly one of --json or --data", 2)
    if json_body is not None:
        try:
            jsonlib.loads(json_body)
        except ValueError as exc:
            raise Failure(f"--json is not valid JSON: {exc}", 2) from None
        body, ctype = json_body.encode("utf-8"), "application/json"
    else:
        body, ctype = data.encode("utf-8"), "application/x-www-form-urlencoded"
    response, payload = _fetch(obj, "POST", url, body, [("Content-Type", ctype)] + _headers(raw_headers), output,
                               passive)
    _report(obj, response, payload, output)


def _report(obj: Ctx, response, body: bytes, output: Optional[str]) -> None:
    location = response.header("Location")
    if obj.as_json:
        click.echo(jsonlib.dumps({"status": response.status, "reason": response.reason, "length": response.length,
                                  "headers": dict(response.headers), "location": location,
                                  "body": None if output else body.decode("utf-8", "replace")}, indent=2))
    else:
        click.echo(f"HTTP {response.status} {response.reason}, {response.length} bytes"
                   + (f" written to {output}" if output else ""), err=True)
        if not output:
            sys.stdout.buffer.write(body)
            sys.stdout.flush()
    if 300 <= response.status < 400 and location:
        raise Failure(f"redirected to {location} (not followed; fetch that URL if you trust it)", 1)
    if response.status >= 400:
        raise Failure(f"server answered {response.status} {response.reason}", 1)


# --- bridge, simulator, demo -----------------------------------------------------------------------------------------

@main.command(short_help="Share the port over TCP as RFC 2217.")
@click.option("--tcp", "address", required=True, metavar="HOST:PORT", help="where to listen for RFC 2217 clients")
@click.pass_obj
@run_guarded
def bridge(obj: Ctx, address: str):
    """Share the module's serial port over the network as RFC 2217 (one client at a time)."""
    from .bridge import serve
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit():
        raise Failure(f"--tcp {address!r}: expected HOST:PORT", 2)
    serve(obj.require_port(), obj.baud, host, int(port), verbose=obj.verbose)


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True, "help_option_names": []})
@click.argument("args", nargs=-1, type=click.UNPROCESSED)
def sim(args):
    """Run the fake ESP-01 (all options: espat sim --help)."""
    from esp8266sim.cli import main as sim_main
    sys.exit(sim_main(list(args), prog="espat sim"))


@main.command(short_help="Detect, join, GET and POST, wire shown.")
@click.option("--ssid", help="with --port: the network to join")
@click.option("--password-file", type=click.Path(dir_okay=False), help="with --port: the network's password")
@click.option("--get", "get_url", help="with --port: the URL to GET")
@click.option("--post", "post_url", help="with --port: the URL to POST a reading to")
@click.pass_obj
@run_guarded
def demo(obj: Ctx, ssid, password_file, get_url, post_url):
    """The whole path in one go: detect, join, GET and POST, with the wire transcript."""
    from .demo import run_demo
    if obj.port_url and not (ssid and get_url and post_url):
        raise Failure("against a real module, demo needs --ssid, --get and --post (and a password)", 2)
    password = _password(password_file) if obj.port_url else None
    sys.exit(run_demo(obj.port_url, obj.baud, ssid, password, get_url, post_url, obj.verbose))


# `espat collect` lives in its own package; its module imports only click, the server loads when it runs.
from .collect.cli import collect as _collect  # noqa: E402
main.add_command(_collect)


if __name__ == "__main__":
    main()

