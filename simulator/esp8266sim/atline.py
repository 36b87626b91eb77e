"""The fake module's own reader of one AT command line: `AT+NAME=args` to (name, form, arguments).

Kept apart from the client's command builders (espat.proto.commands) so that a mistake in one is not copied into the
other. Forms are the firmware's four: `AT+X` execute, `AT+X?` query, `AT+X=?` test, `AT+X=...` set [doc].
Arguments are numbers or quoted strings; inside quotes a backslash takes the next character as it is (`\\"`, `\\,`,
`\\\\`) [notes 2.4]. An empty argument (`1,,2`) is kept as None: only commands with optional middle parameters
take it.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import List, Tuple, Union

from .error_codes import E_COUNT, E_NO_AT, E_PARSE, E_TYPE, E_UNKNOWN

__all__ = ["Arg", "Line", "LineError", "quote", "read_line"]

Arg = Union[int, str, None]
_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_NUMBER = re.compile(r"-?[0-9]+")
_BASIC = re.compile(r"(E[01]|)")        # the commands written without '+': AT, ATE0, ATE1


class LineError(ValueError):
    """The line is not an AT command at all; `code` is 2.x's error subcategory for it."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True)
class Line:
    name: str                   # as typed, upper-cased: "CWMODE_CUR", "E0", "" for plain AT
    form: str                   # "exec" | "query" | "test" | "set"
    args: Tuple[Arg, ...] = ()


def read_line(line: bytes) -> Line:
    """One line without its CR LF; LineError when the firmware could not even tell which command it was."""
    try:
        text = line.decode("utf-8")         # SSIDs and passwords may be UTF-8 inside their quotes
    except UnicodeDecodeError:
        raise LineError("not UTF-8", E_PARSE) from None
    if text[:2] != "AT":
        raise LineError("no leading AT", E_NO_AT)
    rest = text[2:]
    if not rest.startswith("+"):
        if not _BASIC.fullmatch(rest):
            raise LineError(f"unknown basic command {rest!r}", E_UNKNOWN)
        return Line(rest, "exec")
    m = _NAME.match(rest, 1)
    if not m:
        raise LineError("no command name after '+'", E_UNKNOWN)
    name, tail = m.group(0).upper(), rest[m.end():]
    if tail == "":
        return Line(name, "exec")
    if tail == "?":
        return Line(name, "query")
    if tail == "=?":
        return Line(name, "test")
    if tail[0] != "=":
        raise LineError(f"{name}: junk after the name", E_PARSE)
    return Line(name, "set", tuple(_arguments(tail[1:])))


def _arguments(text: str) -> List[Arg]:
    args: List[Arg] = []
    i, n = 0, len(text)
    while True:
        if i < n and text[i] == '"':
            value, i = _quoted(text, i + 1)
            args.append(value)
        else:
            j = text.find(",", i)
            j = n if j < 0 else j
            token = text[i:j]
            if token == "":
                args.append(None)
            elif _NUMBER.fullmatch(token):
                args.append(int(token))
            else:
                raise LineError(f"argument {token!r} is neither a number nor quoted", E_TYPE)
            i = j
        if i == n:
            if args[-1] is None:
                raise LineError("empty last argument", E_COUNT)
            return args
        if text[i] != ",":
            raise LineError("junk after a quoted argument", E_PARSE)
        i += 1


def _quoted(text: str, i: int) -> Tuple[str, int]:
    out: List[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == "\\" and i + 1 < n:
            out.append(text[i + 1])
            i += 2
        elif c == '"':
            return "".join(out), i + 1
        else:
            out.append(c)
            i += 1
    raise LineError("unterminated quote", E_PARSE)


def quote(value: str) -> str:
    """A string as the firmware prints it inside quotes: `\\`, `"` and `,` escaped."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace(",", "\\,")

