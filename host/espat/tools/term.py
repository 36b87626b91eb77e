"""`espat term`: an interactive AT terminal with line editing and history.

The module's bytes are shown as they come: printable ASCII and line ends as they are, anything else as <XX>, so
boot noise and a wrong baud rate are visible. Typed lines go out with CR LF; Up and Down walk the history, Left,
Right, Home and End move in the line, Backspace edits, Ctrl-] quits (Ctrl-D on an empty line too), and Ctrl-C
leaves the terminal as it found it. With stdin not a terminal, each line read is sent and the terminal ends at end
of input, after the module has been quiet for a moment.
"""
from __future__ import annotations

import os
import select
import sys
import threading
import time
from contextlib import contextmanager
from typing import List

__all__ = ["run_terminal", "hex_view"]

QUIT = b"\x1d"                  # Ctrl-]
EOF_KEY = b"\x04"               # Ctrl-D
UP, DOWN, RIGHT, LEFT = b"\x1b[A", b"\x1b[B", b"\x1b[C", b"\x1b[D"
HOME = (b"\x1b[H", b"\x1bOH", b"\x1b[1~", b"\x01")      # terminals differ; Ctrl-A as in a shell
END = (b"\x1b[F", b"\x1bOF", b"\x1b[4~", b"\x05")       # Ctrl-E
SEQUENCES = sorted({UP, DOWN, RIGHT, LEFT, *HOME, *END} - {b"\x01", b"\x05"}, key=len, reverse=True)


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
    with _keys_one_by_one(stdin):      # before the module's first byte shows: a key typed on seeing it is a key
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
            if stdin.isatty():
                screen.write("\r\n")


@contextmanager
def _keys_one_by_one(stdin):
    """A terminal in cbreak mode (key by key, no local echo; Ctrl-C still interrupts), restored however the
    terminal ends, Ctrl-C included, so the shell gets its terminal back as it was."""
    if not stdin.isatty():
        yield
        return
    import termios
    import tty
    fd = stdin.fileno()
    saved = termios.tcgetattr(fd)
    tty.setcbreak(fd)
    try:
        yield
    finally:
        termios.tcsetattr(fd, termios.TCSADRAIN, saved)


def _interactive(port, fd: int, screen: _Screen, alive: threading.Event) -> None:
    editor = LineEditor(port, screen)
    while alive.is_set():
        if not select.select([fd], [], [], 0.2)[0]:
            continue                # look again whether the port is still there
        typed = os.read(fd, 64)
        if not typed:
            return
        for key in _keys(typed):
            if key == QUIT or (key == EOF_KEY and not editor.line):
                return
            editor.key(key)


def _keys(typed: bytes):
    """Bytes as typed (a paste may bring many) to keys: an escape sequence is one key."""
    i = 0
    while i < len(typed):
        size = next((len(seq) for seq in SEQUENCES if typed.startswith(seq, i)), 1)
        yield typed[i:i + size]
        i += size


class LineEditor:
    """The line being typed: a cursor moved by Left/Right/Home/End, Backspace before it, history on Up/Down."""

    def __init__(self, port, screen: _Screen) -> None:
        self.port, self.screen = port, screen
        self.line = bytearray()
        self.cursor = 0
        self.history: List[bytes] = []
        self.index = 0                  # position in history while walking it; len(history) = the new line

    def key(self, key: bytes) -> None:
        if key in (b"\r", b"\n"):
            self.screen.write("\r\n")
            self.port.write(bytes(self.line) + b"\r\n")
            if self.line and (not self.history or self.history[-1] != self.line):
                self.history.append(bytes(self.line))
            self.line.clear()
            self.cursor, self.index = 0, len(self.history)
        elif key in (b"\x7f", b"\x08"):
            if self.cursor:
                del self.line[self.cursor - 1]
                self._redraw(self.cursor - 1)
        elif key in (UP, DOWN):
            self.index = max(0, self.index - 1) if key == UP else min(len(self.history), self.index + 1)
            recalled = self.history[self.index] if self.index < len(self.history) else b""
            self._redraw(len(recalled), recalled)
        elif key in (LEFT, RIGHT, *HOME, *END):
            to = {LEFT: self.cursor - 1, RIGHT: self.cursor + 1}.get(key, 0 if key in HOME else len(self.line))
            self._move(max(0, min(len(self.line), to)))
        elif len(key) == 1 and 0x20 <= key[0] < 0x7F:
            self.line[self.cursor:self.cursor] = key
            self._redraw(self.cursor + 1)

    def _move(self, to: int) -> None:
        if to < self.cursor:
            self.screen.write(f"\x1b[{self.cursor - to}D")
        elif to > self.cursor:
            self.screen.write(f"\x1b[{to - self.cursor}C")
        self.cursor = to

    def _redraw(self, cursor: int, text: bytes = None) -> None:
        """Rewrite the line from its start (it may have changed before the cursor) and put the cursor back."""
        if text is not None:
            self.line[:] = text
        back = f"\x1b[{self.cursor}D" if self.cursor else ""
        tail = len(self.line) - cursor
        self.screen.write(back + self.line.decode("latin-1") + "\x1b[K" + (f"\x1b[{tail}D" if tail else ""))
        self.cursor = cursor
