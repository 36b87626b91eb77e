"""The -v wire trace: every byte shown once, each message on its own annotated line, no password ever."""
from __future__ import annotations

import io

import pytest

from espat.trace import TracedPort


class TrickleReader:
    """A port that gives `step` bytes per read, with an empty read (a timeout) between every two."""

    def __init__(self, data: bytes, step: int = 1) -> None:
        self.data = data
        self.step = step
        self.flip = False
        self.written = b""

    def read(self, size: int = 1) -> bytes:
        self.flip = not self.flip
        if self.flip or not self.data:
            return b""
        out, self.data = self.data[:self.step], self.data[self.step:]
        return out

    def write(self, data: bytes) -> int:
        self.written += data
        return len(data)

    def close(self) -> None:
        pass


def run_trace(incoming: bytes, outgoing: bytes = b"", step: int = 1) -> str:
    out = io.StringIO()
    port = TracedPort(TrickleReader(incoming, step), out)
    if outgoing:
        port.write(outgoing)
    while port.read(1) or port._port.data:
        pass
    port.close()
    return out.getvalue()


def test_an_echoed_join_trickling_in_never_shows_the_password():
    join = b'AT+CWJAP_CUR="HomeNet","pa\\"ss,word"\r'
    text = run_trace(join + b'\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n\r\nOK\r\n', join + b"\n")
    assert "word" not in text
    assert text.count('"***"') == 2                    # the command written and its echo


@pytest.mark.parametrize("step", [1000, 3])
def test_each_message_on_its_own_annotated_line(step):
    text = run_trace(b"\r\nOK\r\n> \r\nRecv 5 bytes\r\n\r\nSEND OK\r\n\r\n+IPD,4,7:ab\r\nOK!4,CLOSED\r\n",
                     step=step)
    lines = [line.split("] ", 1)[1] for line in text.splitlines()]
    assert lines == [
        "<- \\r\\nOK\\r\\n   # OK",
        "<- >    # prompt: the payload goes now",
        "<- \\r\\nRecv 5 bytes\\r\\n   # the module counted 5 bytes",
        "<- \\r\\nSEND OK\\r\\n   # handed to TCP",
        "<- \\r\\n+IPD,4,7:ab\\r\\nOK!   # 7 bytes of data for link 4",
        "<- 4,CLOSED\\r\\n   # link 4 closed",
    ]


def test_a_long_payload_is_shown_in_part_and_counted():
    text = run_trace(b"\r\n+IPD,0,2000:" + b"x" * 2000)
    assert "(1414 more bytes)" in text and "2000 bytes of data for link 0" in text
