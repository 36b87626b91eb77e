"""A module that says nothing, or nothing in time.

Silence in the middle of a payload: bytes were lost (the module went on, with nothing more to say), or the module
stopped (froze, reset, lost power). The client asks it with AT and tells the two apart: DataLost (exit 5) for the
first, CommandTimeout (exit 3) for the second. A module that answers, only late, is slow: not a wrong baud rate."""
from __future__ import annotations

import pytest

from simtools import ScriptedPort

from espat.client import EspAt, LinkInfo
from espat.errors import CommandTimeout, DataLost
from espat.proto.events import Ok


class LivePort(ScriptedPort):
    """A module that is alive: it answers each AT line it is sent with OK."""

    def write(self, data: bytes) -> int:
        super().write(data)
        self.feed(b"\r\nOK\r\n" * data.count(b"AT\r\n"))
        return len(data)


def _receiving(port: ScriptedPort) -> EspAt:
    esp = EspAt("scripted://", port=port)
    esp.links[0] = LinkInfo(0, "example.com", 80)
    esp.mux = False                                     # no CIPSTATUS probe: only the payload is at stake
    esp.QUIET = 0.3                                     # 1 s for a real module; the scripted one stops at once
    return esp


def test_lost_ipd_bytes_raise_data_lost_and_the_client_gets_back_in_step():
    port = LivePort(b"\r\n+IPD,0,10:abc")               # 7 of the 10 announced bytes never come
    esp = _receiving(port)
    with pytest.raises(DataLost, match="7 bytes"):
        esp.receive(0, timeout=5)
    assert port.written == b"AT\r\n"                    # the module was asked, and answered
    assert isinstance(esp.at("AT").final, Ok)          # the fresh parser reads the next answer


@pytest.mark.slow
def test_a_module_that_stops_inside_a_payload_is_a_timeout_not_lost_data():
    port = ScriptedPort(b"\r\n+IPD,0,10:abc")           # then nothing, whatever it is sent
    esp = _receiving(port)
    with pytest.raises(CommandTimeout, match="stopped in the middle of a block of data .7 bytes short"):
        esp.receive(0, timeout=30)
    assert port.written == b"AT\r\n"
    port.feed(b"\r\nOK\r\n" + b"\r\nOK\r\n")             # it wakes: the probe's answer, then the next command's
    assert isinstance(esp.at("AT").final, Ok)
    assert esp.late_answers == 1                        # the probe's late answer was not taken for the next one


class BusyPort(ScriptedPort):
    """A module stuck on an earlier command: every line it is sent is answered `busy p...`."""

    def write(self, data: bytes) -> int:
        super().write(data)
        self.feed(b"busy p...\r\n" * data.count(b"\r\n"))
        return len(data)


@pytest.mark.slow
def test_a_module_that_answers_but_never_in_time_is_called_slow_not_a_wrong_rate():
    esp = EspAt("scripted://", port=BusyPort())
    esp.SLOW_BOUND = 1.5                                # 5 s for a real module; the scripted one is never in time
    with pytest.raises(CommandTimeout, match="answers AT, but not within 1.5 s: it is slow") as failed:
        esp.sync(attempts=1)
    assert "baud" not in str(failed.value)
    assert esp.busy_seen > 0                            # the fault fired: it answered, only never with OK
