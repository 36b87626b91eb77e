"""What every module-facing command shares: the port options, the open module, output, and stopping on a signal.

`-p/--port`, `--baud`, `--timeout`, `-v` and `--json` are taken before the command (`espat -p X term`) and after it
(`espat term -p X`); the later one wins. Commands declared with `SessionCommand` get them without listing them.
"""
from __future__ import annotations

import sys
from typing import List, Optional

import click

__all__ = ["Failure", "Session", "SessionCommand", "SessionGroup", "HostPort", "session_options", "checked_url",
           "with_sim_urls"]

SIM_HANDLERS = "esp8266sim.frontends"       # the fake's pyserial handler package (frontends/protocol_sim.py)


def with_sim_urls() -> None:
    """Let serial_for_url open the fake's sim://, found the way pyserial finds its own protocol_* handlers. The
    library never imports the fake; the command line, above both, names the fake's package (imported only when a
    sim:// URL is opened)."""
    import serial
    if SIM_HANDLERS not in serial.protocol_handler_packages:
        serial.protocol_handler_packages.append(SIM_HANDLERS)


class Failure(click.ClickException):
    """A one-line error with its exit status; under --json it is printed as a JSON object."""

    def __init__(self, message: str, code: int, as_json: bool = False) -> None:
        super().__init__(message)
        self.exit_code = code
        self.as_json = as_json

    def show(self, file=None) -> None:
        import json as jsonlib
        file = file or sys.stderr
        if self.as_json:
            click.echo(jsonlib.dumps({"error": self.message, "exit_code": self.exit_code}), file=file)
        else:
            click.echo(f"Error: {self.message}", file=file)


class Session:
    """The options in force and the module opened for this command (so a signal can leave it clean)."""

    def __init__(self) -> None:
        self.port_url: Optional[str] = None
        self.baud = 115200
        self.timeout: Optional[float] = None
        self.verbose = False
        self.as_json = False
        self.modules: List = []             # EspAt objects this command opened
        self.signal: Optional[int] = None   # SIGINT or SIGTERM once one arrived
        self.command = "espat"              # the command running, as typed: `espat http get`

    def require_port(self) -> str:
        if not self.port_url:
            raise Failure("no port: give --port (or set ESPAT_PORT); `espat ports` lists the serial ports", 2)
        return self.port_url

    @property
    def trace(self):
        return sys.stderr if self.verbose else None

    def module(self, sync: bool = True, url: Optional[str] = None, baud: Optional[int] = None):
        """An EspAt on the port (in step and with echo off unless sync=False); close it with `with`."""
        from ..boardwait import resets_on_open, wait_for_board
        from ..client import EspAt
        esp = EspAt(url or self.require_port(), baud or self.baud, timeout=self.timeout, trace=self.trace)
        self.modules.append(esp)
        try:
            if resets_on_open(esp.url):
                wait_for_board(esp, self.timeout)   # the open may have reset a board, whose bootloader eats bytes
            if sync:
                esp.sync()
        except BaseException:
            esp.close()
            raise
        return esp

    def emit(self, data, text: str) -> None:
        import json as jsonlib
        click.echo(jsonlib.dumps(data, indent=2, ensure_ascii=False) if self.as_json else text)

    # --- signals ----------------------------------------------------------------------------------------------------

    CLEANUP_BOUND = 0.4     # seconds each command sent while cleaning up after a signal may take

    def catch_signals(self) -> None:
        """SIGINT and SIGTERM stop the command at once; the cleanup that follows (closing links) is bounded."""
        import signal
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, self._on_signal)

    def _on_signal(self, signum, frame) -> None:
        self.signal = signum
        for esp in self.modules:
            esp.timeout = min(esp.timeout or self.CLEANUP_BOUND, self.CLEANUP_BOUND)
        raise KeyboardInterrupt

    def left_clean(self) -> str:
        """After an interruption: in what state the module was left, in words."""
        if not self.modules:
            return "the module was not touched"
        open_links = sorted({link.id for esp in self.modules for link in esp.links.values() if link.open}
                            | {i for esp in self.modules for i in getattr(esp, "left_open", ())})
        if open_links:
            return (f"link {', '.join(map(str, open_links))} may still be open on the module; the next command "
                    "closes it")
        return "the module was left clean"


def _store(name: str, leaf: bool):
    def callback(ctx: click.Context, param: click.Parameter, value) -> None:
        source = ctx.get_parameter_source(param.name)
        given = source in (click.core.ParameterSource.COMMANDLINE, click.core.ParameterSource.ENVIRONMENT)
        if given or not leaf:
            if value is not None and (value is not False or not leaf):
                setattr(ctx.ensure_object(Session), name, value)
    return callback


def session_options(leaf: bool) -> List[click.Option]:
    """The shared options: on the group with their defaults and environment, on a command only when given."""
    def store(name):
        return _store(name, leaf)
    return [
        click.Option(["-p", "--port"], envvar=None if leaf else "ESPAT_PORT", metavar="URL", expose_value=False,
                     callback=store("port_url"),
                     help="serial port or pyserial URL (/dev/ttyUSB0, socket://h:p, rfc2217://h:p, sim://...); "
                          "$ESPAT_PORT"),
        click.Option(["--baud"], type=click.IntRange(300, 4_500_000), default=None if leaf else 115200,
                     show_default=not leaf, expose_value=False, callback=store("baud"),
                     help="the port's baud rate"),
        click.Option(["--timeout"], type=click.FloatRange(0.1, 3600), expose_value=False, callback=store("timeout"),
                     help="bound the whole operation (and every command in it) by this many seconds; without it, "
                          "an HTTP exchange ends after 30 s with no data from the server"),
        click.Option(["-v", "--verbose"], is_flag=True, expose_value=False, callback=store("verbose"),
                     help="annotated wire trace on stderr (passwords redacted)"),
        click.Option(["--json", "as_json"], is_flag=True, expose_value=False, callback=store("as_json"),
                     help="machine-readable output (errors too)"),
    ]


class SessionCommand(click.Command):
    """A command that talks to the module: takes the shared options after its name, stops cleanly on a signal."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        taken = {opt for param in self.params for opt in getattr(param, "opts", ())}
        clash = sorted(taken & {opt for o in session_options(leaf=True) for opt in o.opts})
        if clash:       # the shared options work after every command (README): none may take their names
            raise TypeError(f"{self.name}: option {', '.join(clash)} is a shared option's name")
        self.params += session_options(leaf=True)

    def invoke(self, ctx: click.Context):
        session = ctx.ensure_object(Session)
        session.command = ctx.command_path
        session.catch_signals()
        with_sim_urls()
        return super().invoke(ctx)


class SessionGroup(click.Group):
    """A group (wifi, http) whose commands are SessionCommands."""
    command_class = SessionCommand


def checked_url(url: str):
    """(host, port, target) of an http:// URL; a usage error (2) for anything else."""
    from ..httpclient import HttpError, split_url
    try:
        return split_url(url)
    except HttpError as exc:
        raise Failure(str(exc), 2) from None


class HostPort(click.ParamType):
    """`HOST:PORT` (the port a number 0-65535; `[::1]:80` for IPv6) to a (host, port) tuple."""
    name = "HOST:PORT"

    def convert(self, value, param, ctx):
        if isinstance(value, tuple):
            return value
        host, sep, port = str(value).rpartition(":")
        host = host[1:-1] if host.startswith("[") and host.endswith("]") else host
        if not sep or not host or not port.isdigit() or int(port) > 65535:
            self.fail(f"{value!r}: expected HOST:PORT, like 127.0.0.1:4000", param, ctx)
        return host, int(port)
