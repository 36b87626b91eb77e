"""`espat term`: an interactive AT terminal with line editing and history.

The module's bytes are shown as they come: printable ASCII and line ends as they are, anything else as <XX>, so
boot noise and a wrong baud rate are visible. Typed lines go out with CR LF; Up and Down walk the history,
Backspace edits, Ctrl-] quits (Ctrl-D on an empty line too). With stdin not a terminal, each line read is sent and
the terminal ends at end of input, after the module has been quiet for a moment.
"""
from __future__ import annotations

import os
import select
import sys
import threading
import time
from typing import List

__all__ = ["run_terminal", "hex_view"]

QUIT = b"\x1d"                  # Ctrl-]
EOF_KEY = b"\x04"               # Ctrl-D
UP, DOWN = b"\x1b[A", b"\x1b[B"


def hex_view(data: bytes) -> str:
    return "".join(chr(b) if b in (9, 10, 13) or 0x20 <= b < 0x7F else f"<{b:02X}>" for b in data)


class _Screen:
    """What the terminal shows; the reader thread and the typing side share it."""

    def __init__(self, out) -> None:
        self.out = out
        self.lock = threading.Lock()

    def write(self, text: str) -> None:
        with self.lock:
            self.out.write(text)
            self.out.flush()


def _show_module(port, screen: _Screen, alive: threading.Event) -> None:
    while alive.is_set():
        try:
            data = port.read(max(1, port.in_waiting))
        except Exception as exc:        # the port went away: say so once and stop
            screen.write(f"\r\n--- port error: {exc} ---\r\n")
            alive.clear()
            return
        if data:
            screen.write(hex_view(data))


def run_terminal(port, stdin=None, out=None) -> None:
    stdin = stdin or sys.stdin
    screen = _Screen(out or sys.stdout)
    alive = threading.Event()
    alive.set()
    reader = threading.Thread(target=_show_module, args=(port, screen, alive), daemon=True)
    reader.start()
    try:
        if stdin.isatty():
            _interactive(port, stdin.fileno(), screen, alive)
        else:
            for line in stdin:
                port.write(line.rstrip("\r\n").encode("latin-1") + b"\r\n")
                time.sleep(0.3)         # a piped script has no eyes: give each answer time to show
            time.sleep(0.5)
    finally:
        alive.clear()
        reader.join(timeout=2)


def _interactive(port, fd: int, screen: _Screen, alive: threading.Event) -> None:
    import termios
    import tty
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)                   # key by key, no local echo; Ctrl-C still interrupts
    history: List[bytes] = []
    line = bytearray()
    index = 0                           # position in history while walking it; len(history) = the new line
    try:
        while alive.is_set():
            if not select.select([fd], [], [], 0.2)[0]:
                continue                # look again whether the port is still there
            typed = os.read(fd, 64)
            if not typed:
                return
            for key in _keys(typed):
                if key == QUIT or (key == EOF_KEY and not line):
                    return
                index = _key(key, line, history, index, port, screen)
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _keys(typed: bytes):
    """Bytes as typed (a paste may bring many) to keys: an arrow's escape sequence is one key."""
    i = 0
    while i < len(typed):
        size = 3 if typed[i:i + 3] in (UP, DOWN) else 1
        yield typed[i:i + size]
        i += size


def _key(key: bytes, line: bytearray, history: List[bytes], index: int, port, screen: _Screen) -> int:
    """One key's effect on the line being typed; returns the new history position."""
    if key in (b"\r", b"\n"):
        screen.write("\r\n")
        port.write(bytes(line) + b"\r\n")
        if line and (not history or history[-1] != line):
            history.append(bytes(line))
        line.clear()
        return len(history)
    if key in (b"\x7f", b"\x08"):
        if line:
            line.pop()
            screen.write("\b \b")
    elif key in (UP, DOWN):
        index = max(0, index - 1) if key == UP else min(len(history), index + 1)
        recalled = history[index] if index < len(history) else b""
        screen.write("\b \b" * len(line) + recalled.decode("latin-1"))
        line[:] = recalled
    elif 0x20 <= key[0] < 0x7F:
        line += key
        screen.write(key.decode("ascii"))
    return index
