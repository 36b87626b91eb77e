"""The `espat` group: commands imported only when run, and the one place errors become exit statuses.

A library error ends the command with its class's `exit_status` (errors.py); 130 interrupted (SIGINT), 143
terminated (SIGTERM). Every error is one line on stderr (JSON with --json).
"""
from __future__ import annotations

from typing import Dict, Tuple

import click

from .session import Failure, Session, session_options

__all__ = ["LazyGroup", "COMMANDS", "espat"]

# name -> (where the click object lives, its line in `espat --help`, its section)
COMMANDS: Dict[str, Tuple[str, str, str]] = {
    "at": ("espat.cli.raw:at", "Send raw AT commands, show the answers.", "Talk to the module"),
    "term": ("espat.cli.raw:term", "Interactive AT terminal with history.", "Talk to the module"),
    "detect": ("espat.cli.diagnose:detect", "Find the baud rate and firmware dialect.", "Find and fix"),
    "doctor": ("espat.cli.diagnose:doctor", "Diagnose wiring, baud, Wi-Fi, DNS, TCP.", "Find and fix"),
    "baud": ("espat.cli.tools:baud", "Change the module's baud rate safely.", "Find and fix"),
    "ports": ("espat.cli.tools:ports", "List serial ports and guess the adapter.", "Find and fix"),
    "wifi": ("espat.cli.wifi:wifi", "Scan, join, leave, status.", "Network"),
    "http": ("espat.cli.http:http", "HTTP GET and POST through the module.", "Network"),
    "bridge": ("espat.cli.tools:bridge", "Share the port over TCP as RFC 2217.", "Tools"),
    "sim": ("esp8266sim.cli:sim", "Run the fake ESP-01 (options: espat sim --help).", "Tools"),
    "demo": ("espat.cli.tools:demo", "Detect, join, GET and POST, wire shown.", "Tools"),
    "collect": ("espat_collect.cli:collect", "HTTP collector the reporters post to.", "Tools"),
    "uno": ("unosim.cli:uno", "Virtual Uno that PlatformIO uploads to.", "Tools"),
}

class LazyGroup(click.Group):
    """A group whose commands are imported when invoked, listed from the table without importing them."""

    def __init__(self, *args, lazy: Dict[str, Tuple[str, str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx):
        return sorted(set(super().list_commands(ctx)) | set(self.lazy))

    def get_command(self, ctx, name):
        if name not in self.lazy:
            return super().get_command(ctx, name)
        where = self.lazy[name][0]
        module_name, _, attr = where.partition(":")
        try:
            from importlib import import_module
            command = getattr(import_module(module_name), attr)
        except ImportError as exc:
            from .extras import missing_extra
            raise Failure(missing_extra(exc, f"`espat {name}`")
                          or f"`espat {name}` is not available in this installation ({exc})", 1) from None
        return command

    def format_commands(self, ctx, formatter) -> None:
        sections: Dict[str, list] = {section: [] for _, _, section in self.lazy.values()}
        for name in self.list_commands(ctx):
            sections[self.lazy[name][2]].append((name, self.lazy[name][1]))
        for title, rows in sections.items():
            with formatter.section(title):
                formatter.write_dl(rows)

    def parse_args(self, ctx, args):
        ctx.meta["espat.args"] = list(args)
        try:
            return super().parse_args(ctx, args)
        except click.UsageError as exc:
            if _asked_for_json(ctx.meta["espat.args"]):        # (click consumes `args` as it parses)
                raise Failure(exc.format_message(), exc.exit_code, True) from None
            raise

    def invoke(self, ctx):
        session = ctx.ensure_object(Session)
        try:
            return super().invoke(ctx)
        except Failure as failure:
            failure.as_json = session.as_json
            raise
        except click.exceptions.Exit:
            raise
        except click.ClickException as exc:
            if not (session.as_json or _asked_for_json(ctx.meta.get("espat.args", []))):
                raise
            raise Failure(exc.format_message(), exc.exit_code, True) from None
        except (KeyboardInterrupt, click.Abort) as exc:
            raise _stopped(session, exc) from None
        except Exception as exc:
            if session.signal is not None:      # cleaning up after the signal failed: still the signal's exit
                raise _stopped(session, exc) from None
            from ..errors import EspAtError
            from ..hints import fix_for
            if isinstance(exc, EspAtError):
                fix = fix_for(str(exc))
                raise Failure(f"{exc}; {fix}" if fix else str(exc), exc.exit_status, session.as_json) from None
            if isinstance(exc, OSError):
                raise Failure(f"I/O error: {exc}", 1, session.as_json) from None
            if isinstance(exc, ModuleNotFoundError):       # a command that imports its extra's modules as it runs
                from .extras import missing_extra
                line = missing_extra(exc, f"`espat {ctx.invoked_subcommand}`")
                if line:
                    raise Failure(line, 1, session.as_json) from None
            raise


def _stopped(session: Session, exc: BaseException) -> Failure:
    """The one line for a command stopped by a signal, and its status (128 + the signal's number)."""
    import signal
    signum = session.signal or signal.SIGINT
    how = "interrupted" if signum == signal.SIGINT else "terminated"
    state = session.left_clean()
    if not isinstance(exc, (KeyboardInterrupt, click.Abort)):
        state = f"cleanup after it failed ({exc}); the next command gets the module back in step"
    return Failure(f"{how}: {session.command} stopped; {state}", 128 + signum, session.as_json)


def _version(ctx: click.Context, param, value: bool) -> None:
    if value:
        from .. import __version__
        click.echo(f"espat {__version__}")
        ctx.exit()


def _asked_for_json(args) -> bool:
    """Whether --json was among the words, for a usage error found before its option took effect (no command
    has an option of that name: it is the output format after every command)."""
    return "--json" in args


@click.group(cls=LazyGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]},
             params=session_options(leaf=False) + [
                 click.Option(["--version"], is_flag=True, is_eager=True, expose_value=False, callback=_version,
                              help="Show the version and exit.")])
def espat():
    """Drive an ESP-01 (ESP8266 AT firmware) on a USB-serial adapter or behind an Uno.

    Exit status: 0 success, 1 the module or server said no, 2 usage error (bad or busy port), 3 no answer,
    4 a POST that may have been delivered, 5 data damaged in transit, 130/143 interrupted.
    """
