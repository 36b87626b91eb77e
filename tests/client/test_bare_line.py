"""A bare CR LF (what ends a half-typed line before sync, a baud probe, a rate change, `espat at`) is answered by
the module: ERROR when it is idle (no AT head before the LF), `busy p...` while a command runs. That answer is owed
to the line end: never taken for the next command's answer, nor counted as a late one, however late it comes."""
from __future__ import annotations

import pytest

from simtools import ScriptedPort, sim_url

from espat import AT1
from espat.baud import _ask
from espat.client import EspAt, ModuleError
from espat.proto.events import Ok

ERROR, BUSY = b"\r\nERROR\r\n", b"\r\nbusy p...\r\n"


class SlowLinePort(ScriptedPort):
    """A slow module: the answer to a bare line end comes only once the host has given up waiting for it, just
    before the next command's OK (a module answers in order). Every command line is answered OK."""

    def __init__(self, answer: bytes = ERROR) -> None:
        super().__init__()
        self.answer = answer
        self.owed = 0

    def write(self, data: bytes) -> int:
        super().write(data)
        for line in data.split(b"\r\n")[:-1]:
            if not line:
                self.owed += 1
            else:
                self.feed(self.answer * self.owed + b"\r\nOK\r\n")
                self.owed = 0
        return len(data)


@pytest.mark.parametrize("answer", [ERROR, BUSY])
def test_sync_takes_the_late_answer_of_its_line_end_for_that_not_for_ats(answer):
    port = SlowLinePort(answer)
    esp = EspAt("scripted://", port=port, dialect=AT1)
    esp.sync(attempts=1)                        # before: AT met the line end's ERROR and every attempt failed
    assert port.written.startswith(b"\r\nAT\r\n")
    assert esp.line_answers == 1
    assert esp.late_answers == 0                # the line end's answer is its own, not a late answer to anything


def test_a_baud_probe_is_not_called_slow_for_its_line_ends_error():
    probe = _ask(SlowLinePort(), "scripted://", 115200)
    assert probe.answered
    assert not probe.slow                       # before: AT took the ERROR, and the OK after it read as late


def test_a_rate_change_checks_with_at_past_its_line_ends_error():
    port = SlowLinePort()
    esp = EspAt("scripted://", port=port, dialect=AT1)
    esp.set_baud(9600)                          # before: "the module did not answer at 9600 baud"
    assert port.baudrate == 9600


def test_a_line_end_the_module_swallowed_is_owed_nothing_once_a_command_is_answered():
    """A line end can be eaten as a send's payload (or in passthrough): it is never answered. The module answers
    in order, so once a later command has its answer, nothing is owed, and a refusal after is a refusal."""
    port = ScriptedPort()
    esp = EspAt("scripted://", port=port, dialect=AT1)
    esp.end_line()
    port.feed(b"\r\nOK\r\n")
    assert isinstance(esp.at("AT").final, Ok)
    port.feed(ERROR)
    with pytest.raises(ModuleError):
        esp.at("AT+FOO", timeout=1.0)
    assert esp.line_answers == 0


@pytest.mark.slow      # 2.2 s on its own: every answer 0.5 s late
@pytest.mark.parametrize("dialect", ["1", "2"])
def test_sync_with_a_slow_module_whose_line_end_error_comes_after_the_drain(dialect):
    """The fake answers a bare line end ERROR, and with slow: every answer comes late, that one too."""
    with EspAt(sim_url(faults=["slow:0.5"], dialect=dialect)) as esp:
        esp.sync()
        assert esp.late_answers == 0
        assert esp.line_answers >= 1
        assert esp.version()["AT version"].startswith("1.7" if dialect == "1" else "2.")


GMR = (b"AT version:1.7.4.0(May 11 2020 19:13:04)\r\nSDK version:3.0.4(9532ceb)\r\n"
       b"compile time:May 27 2020 10:12:17\r\nBin version(Wroom 02):1.7.4\r\nOK\r\n")     # golden 1.7/gmr


class EarlierProcessPort(ScriptedPort):
    """A module an earlier process left owing the answer to its AT+GMR (it gave up and exited): that answer comes
    first, then this host's, in order (ERROR for a bare line end, OK for a command), each in a read of its own as a
    loaded machine reads them. Nothing comes until the host's first AT is on its way (the module is slow to answer
    everything until then)."""

    def __init__(self) -> None:
        super().__init__()
        self.answers = [GMR]
        self.held = True

    def write(self, data: bytes) -> int:
        super().write(data)
        for line in data.split(b"\r\n")[:-1]:
            self.answers.append(GMR if line == b"AT+GMR" else b"\r\nOK\r\n" if line else ERROR)
            self.held = self.held and line != b"AT"
        return len(data)

    @property
    def in_waiting(self) -> int:
        return 0 if self.held or not self.answers else len(self.answers[0])

    def read(self, size: int = 1) -> bytes:
        if self.held or not self.answers:
            return super().read(size)
        return self.answers.pop(0)


def test_sync_is_not_fooled_by_an_earlier_process_s_late_answer():
    """chaos run 9 (slow:6@cmd=9): `http get` gave up on its GMR and exited; `http post` synced while the GMR's OK
    was still to come, took it for its AT's, and then its line end's ERROR for ATE0's: "module refused ATE". The
    module answers in order: an OK ahead of the answer to the line end written before AT is not AT's."""
    port = EarlierProcessPort()
    esp = EspAt("scripted://", port=port)
    esp.sync()                                  # before: ModuleError, "module refused ATE"
    assert esp.firmware["AT version"].startswith("1.7.4")
    assert isinstance(esp.at("AT").final, Ok)   # in step: the next answer is the next command's
    assert port.answers == []
