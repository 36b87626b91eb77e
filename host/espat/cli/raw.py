"""Talking to the module in its own words: `espat at` and `espat term`."""
from __future__ import annotations

import click

from .session import Session, SessionCommand


@click.command(cls=SessionCommand)
@click.argument("lines", nargs=-1, required=True)
@click.option("--keep-going", is_flag=True, help="after a command the module refuses, send the rest anyway")
@click.pass_obj
def at(obj: Session, lines, keep_going: bool):
    """Send raw AT commands and show the module's own answers: espat at AT+GMR 'AT+CWMODE_CUR?'

    The module's lines are shown as it sent them, ERROR and FAIL included; a join's or soft AP's password as ***.
    The exit status is that of the first command that failed.
    """
    from ..proto.commands import raw
    from ..errors import CommandTimeout, EspAtError
    from ..hints import silence
    commands_ = [raw(line) for line in lines]          # all checked before any is sent
    answers, failure = [], None
    with obj.module(sync=False) as esp:
        esp.end_line()                  # its ERROR is owed: never taken for (nor shown as) the first command's answer
        esp.await_line(1.0)
        esp.drain(0.2)
        heard = esp.port = _Heard(esp.port)
        for cmd in commands_:
            heard.data.clear()
            try:
                result = type(esp.command(cmd).final).__name__
            except EspAtError as exc:
                if isinstance(exc, CommandTimeout) and not answers:     # the first command: is anyone there?
                    exc = CommandTimeout(f"{exc}: {silence(bool(esp.garbled or esp.heard))}")
                result, failure = type(exc).__name__, failure or exc
                if not keep_going:
                    answers.append(_answer(cmd, heard, result))
                    break
            answers.append(_answer(cmd, heard, result))
    obj.emit(answers, "\n".join("\n".join([f"> {a['command']}"] + [f"  {line}" for line in a["lines"]])
                                for a in answers))
    if failure is not None:
        raise failure


def _answer(cmd, heard: "_Heard", result: str) -> dict:
    return {"command": cmd.redacted().decode("utf-8", "replace").strip(), "lines": heard.lines(cmd.line),
            "result": result}


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
        """The reply's lines: no blank lines, no echo of the command, passwords as ***."""
        from ..proto.wiretext import redact
        echo = redact(sent.rstrip(b"\r\n"))
        found = (line.rstrip(b"\r") for line in redact(bytes(self.data)).split(b"\n"))
        return [_shown(line) for line in found if line and line != echo]


def _shown(line: bytes) -> str:
    """A line as text: UTF-8 (an SSID may be any) where it is, escapes for the bytes that are not."""
    from ..proto.wiretext import escape_bytes
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError:
        return escape_bytes(line)
    return text if text.isprintable() else escape_bytes(line)


@click.command(cls=SessionCommand)
@click.pass_obj
def term(obj: Session):
    """Interactive AT terminal: CR LF line ends, history (Up/Down), Left/Right/Home/End to edit, <XX> for
    non-printable bytes; Ctrl-] quits."""
    from ..tools.term import run_terminal
    from ..transport import open_port
    port = open_port(obj.require_port(), obj.baud)
    click.echo(f"--- {obj.port_url} at {obj.baud} baud; Up/Down for history, Ctrl-] quits ---", err=True)
    try:
        run_terminal(port)
    finally:
        port.close()


__all__ = ["at", "term"]
