"""Waiting for a board that the port's opening reset (issue 17): probes until it answers, and nothing they leave
behind is taken for the next command's answer."""
from __future__ import annotations

from espat.proto import commands
from espat.boardwait import resets_on_open, wait_for_board
from espat.client import EspAt
from simtools import ScriptedPort

GMR = b"AT version:1.7.4.0(May 11 2020 19:13:04)\r\nSDK version:3.0.4(9532ceb)\r\n\r\nOK\r\n"


class BootingBoard(ScriptedPort):
    """An Uno with the bridge sketch: its bootloader swallows the first `swallowed` writes; the answer to the one
    after comes only with the next write's, as a late OK does; from then on each AT line is answered (echo on)."""

    def __init__(self, swallowed: int) -> None:
        super().__init__()
        self.swallowed = swallowed
        self.late = b""
        self.lines = []

    def write(self, data: bytes) -> int:
        super().write(data)
        for line in data.split(b"\r\n"):
            if not line:
                continue
            self.lines.append(line)
            answer = line + b"\r\r\n" + (GMR if line == b"AT+GMR" else b"\r\nOK\r\n")
            if len(self.lines) <= self.swallowed:
                continue
            if len(self.lines) == self.swallowed + 1:
                self.late = answer
                continue
            self.feed(self.late + answer)
            self.late = b""
        return len(data)


def test_the_board_is_probed_until_it_answers_and_the_next_command_gets_its_own_answer():
    board = BootingBoard(swallowed=3)
    esp = EspAt("/dev/ttyACM0", 9600, port=board)
    assert wait_for_board(esp)
    assert board.lines[:5] == [b"AT"] * 5
    reply = esp.command(commands.version(), timeout=2)
    assert [e.key for e in reply.events] == ["AT version", "SDK version"]


def test_a_board_that_never_answers_is_waited_for_only_within_the_bound():
    board = BootingBoard(swallowed=10**6)
    esp = EspAt("/dev/ttyACM0", 9600, port=board)
    assert not wait_for_board(esp, bound=0.5)
    assert board.lines and set(board.lines) == {b"AT"}


def test_only_a_serial_device_can_reset_a_board_on_opening():
    assert resets_on_open("/dev/ttyACM0") and resets_on_open("/dev/pts/3")
    assert not any(resets_on_open(url) for url in ("socket://127.0.0.1:1", "rfc2217://h:1", "sim://?network=a:b"))
