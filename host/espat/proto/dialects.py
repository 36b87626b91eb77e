"""Where AT 1.7 (NONOS, what ESP-01 modules run) and AT 2.x (esp-at for ESP8266) differ: data, not if-chains.

Both the client (which commands to send, how long to wait) and the fake module (which bytes to answer) read
these tables, so a difference between the dialects is written down exactly once. Sources: the protocol notes
in shared/reference/esp-at-protocol.md (sections 1.2, 2.1, 4.1, 5.2 and 8).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Mapping

__all__ = ["Dialect", "AT1", "AT2", "DIALECTS", "by_name", "TIMEOUTS"]

# Seconds a client waits for a command's final result. The figures are the bounds the notes (section 9) report
# for real modules and the libraries that drive them, with some margin; a caller can always pass its own.
TIMEOUTS: Mapping[str, float] = MappingProxyType({
    "default": 2.0,
    "RST": 5.0,         # OK, then boot noise, then `ready` within about 3 s
    "RESTORE": 5.0,
    "CWJAP": 25.0,      # a failing join retries internally for 15-20 s
    "CWLAP": 12.0,
    "CIPSTART": 15.0,   # a refused or unreachable peer takes about 10 s to fail
    "CIPSEND": 5.0,     # prompt, then Recv and SEND OK
    "CIPCLOSE": 5.0,
    "CIPRECVDATA": 5.0,
    "PING": 10.0,
})


@dataclass(frozen=True)
class Dialect:
    name: str
    major: int
    # Commands whose RAM-only form carries a `_CUR` suffix and whose saved form a `_DEF` suffix.
    suffixed: frozenset
    # The prompt after AT+CIPSEND=...: the whole byte string the module writes after the command.
    send_prompt: bytes
    # How a failed CWJAP ends, after `+CWJAP:<code>`.
    join_fail_final: bytes
    # What the module writes when bytes arrive while a send is still running.
    busy_sending: bytes
    send_fail: bytes
    # True when CIPDINFO=1 puts the remote IP in quotes.
    quoted_dinfo_ip: bool
    # The AT+CIPRECVDATA reply head: "{len}" is replaced; 1.x: `\r\n+CIPRECVDATA,<len>:`, 2.x: `+CIPRECVDATA:<len>,`.
    recvdata_head: str
    # What AT+CIPRECVLEN? prints for a link that is not open.
    recvlen_idle: int
    # AT+GMR's reply, OK included.
    gmr: bytes
    # The 2.x join query prints 9 fields; 1.x prints 4.
    cwjap_query_extra: str = ""
    # Modes AT+CWMODE accepts (2.x adds 0, RF off).
    modes: frozenset = field(default_factory=lambda: frozenset({1, 2, 3}))

    def command_name(self, name: str, persist: bool = False) -> str:
        """The wire name of a command: `CWJAP` becomes `CWJAP_CUR` (or `_DEF`) in 1.x, stays `CWJAP` in 2.x."""
        if name in self.suffixed:
            return f"{name}_DEF" if persist else f"{name}_CUR"
        return name

    def __str__(self) -> str:
        return self.name


AT1 = Dialect(
    name="1.7",
    major=1,
    suffixed=frozenset({"CWMODE", "CWJAP", "CWSAP", "CWDHCP", "CIPSTA", "CIPAP", "CIPSTAMAC", "CIPAPMAC", "UART"}),
    send_prompt=b"\r\nOK\r\n> ",
    join_fail_final=b"\r\nFAIL\r\n",
    busy_sending=b"\r\nbusy s...\r\n",
    send_fail=b"SEND FAIL\r\n",          # no CR LF before it in the 1.7.6 string table
    quoted_dinfo_ip=False,
    recvdata_head="\r\n+CIPRECVDATA,{len}:",
    recvlen_idle=0,
    gmr=(b"AT version:1.7.4.0(May 11 2020 19:13:04)\r\nSDK version:3.0.4(9532ceb)\r\n"
         b"compile time:May 27 2020 10:12:17\r\nBin version(Wroom 02):1.7.4\r\nOK\r\n"),
    cwjap_query_extra=",0",          # 1.7.4/1.7.6 print a fifth number (pci_en) after the rssi
)

AT2 = Dialect(
    name="2.x",
    major=2,
    suffixed=frozenset({"UART"}),
    send_prompt=b"\r\nOK\r\n\r\n>",
    join_fail_final=b"\r\nERROR\r\n",
    busy_sending=b"\r\nbusy p...\r\n",
    send_fail=b"\r\nSEND FAIL\r\n",
    quoted_dinfo_ip=True,
    recvdata_head="+CIPRECVDATA:{len},",
    recvlen_idle=-1,
    gmr=(b"AT version:2.2.0.0(b097cdf - ESP8266 - Jun 17 2021 12:57:45)\r\nSDK version:v3.4-22-g967752e2\r\n"
         b"compile time(6800286):Aug  4 2021 17:34:06\r\nBin version:2.2.0(Cytron_ESP-12F_WROOM-02)\r\n\r\nOK\r\n"),
    cwjap_query_extra=",0,1,3,0,0",
    modes=frozenset({0, 1, 2, 3}),
)

DIALECTS: Mapping[str, Dialect] = MappingProxyType({"1": AT1, "1.7": AT1, "2": AT2, "2.x": AT2})


def by_name(name: str) -> Dialect:
    """`"1"`/`"1.7"` or `"2"`/`"2.x"` to a dialect; ValueError with the choices otherwise."""
    try:
        return DIALECTS[str(name)]
    except KeyError:
        raise ValueError(f"unknown AT dialect {name!r}; choose 1 (AT 1.7) or 2 (AT 2.x)") from None
