"""The fake's own answer bytes for each firmware dialect: AT 1.7 (NONOS, what ESP-01 modules run) and 2.x (esp-at).

These are the simulator's copy, kept apart from the client's `espat.proto.dialects` on purpose: a test compares the two
field by field, so a wrong entry on either side shows instead of being agreed with. Sources are the protocol notes
(section in brackets) and the golden corpus under tests/golden.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Dict

__all__ = ["Profile", "AT17", "AT2X", "PROFILES", "profile"]

OK = b"\r\nOK\r\n"
ERROR = b"\r\nERROR\r\n"
READY = b"\r\nready\r\n"
BUSY = b"\r\nbusy p...\r\n"


@dataclass(frozen=True)
class Profile:
    name: str
    major: int
    send_prompt: bytes                  # after AT+CIPSEND=<len> [4.1]
    join_fail_final: bytes              # after +CWJAP:<code> [2.2]
    busy_sending: bytes                 # bytes typed while a send is still going out [1.2, 4.3]
    send_fail: bytes                    # the link broke under a send [1.2]
    quoted_dinfo_ip: bool               # CIPDINFO=1: +IPD,<len>,"ip",port vs ip unquoted [8]
    recvdata_head: str                  # AT+CIPRECVDATA's answer head, "{len}" filled in [5]
    recvlen_idle: int                   # AT+CIPRECVLEN? for a link that is not open [8]
    gmr: bytes                          # AT+GMR whole, OK included [1.6]
    cwjap_query_extra: str = ""         # 2.x prints pci_en,reconn,listen,scan_mode,pmf after the 4 fields [2.2]
    modes: frozenset = field(default_factory=lambda: frozenset({1, 2, 3}))    # CWMODE values [2.1]
    # What the fake itself needs beyond the client's table.
    error_codes: bool = False           # 2.x: AT+SYSLOG=1 prints ERR CODE:0x%08x before ERROR [1.4]
    detail_lines: bool = True           # 1.x: a reason line (`link is not valid`) before ERROR [1.2]
    quit_passthrough: bytes = b"+QUITT\r\n"             # leaving passthrough, when SYSMSG asks for it [1.3]
    recvdata_dinfo: bool = False        # 2.x CIPRECVDATA prints "ip",port with CIPDINFO=1 [5]
    early_closed_passive: bool = True   # 1.x reports CLOSED while passive data still waits [5.2]
    passive_notice_each: bool = True    # 1.x repeats the passive +IPD notice with the new total [5.2]
    # The links passive receive holds: 1.x TCP only, its UDP and SSL data come as +IPD with their bytes; 2.x all
    # three, a UDP datagram read whole or its rest lost [5.2; WiFiEspAT's EspAtDrv.cpp reads 2.x UDP with
    # CIPRECVDATA, "at once"]
    passive_kinds: frozenset = frozenset({"TCP"})
    # A line answered `busy p...` with echo on: 1.x echoes it as typed, LF not, and the busy line follows (0.x's open
    # at_port.c echoes every byte but LF in every state); 2.x does not echo it at all (esp-at #388's log).
    echo_busy_line: bool = True
    # Bytes before `AT` on a line: 1.x looks for the `AT` head and skips them (0.x's at_port.c); 2.x refuses the line.
    skip_to_at: bool = True
    # While a send goes out: 1.x answers each LF with `busy s...` (0.9.x's at_statIpSended), 2.x any bytes (#89).
    busy_sending_on_lf: bool = True


AT17 = Profile(
    name="1.7",
    major=1,
    send_prompt=b"\r\nOK\r\n> ",
    join_fail_final=b"\r\nFAIL\r\n",
    busy_sending=b"\r\nbusy s...\r\n",
    send_fail=b"SEND FAIL\r\n",          # 1.7.6 strings: "SEND FAIL\r\n", unlike "\r\nSEND OK\r\n"
    quoted_dinfo_ip=False,
    recvdata_head="\r\n+CIPRECVDATA,{len}:",
    recvlen_idle=0,
    gmr=(b"AT version:1.7.4.0(May 11 2020 19:13:04)\r\nSDK version:3.0.4(9532ceb)\r\n"
         b"compile time:May 27 2020 10:12:17\r\nBin version(Wroom 02):1.7.4\r\nOK\r\n"),
    cwjap_query_extra=",0",          # 1.7.4/1.7.6 print a fifth number (pci_en) after the rssi
)

AT2X = Profile(
    name="2.x",
    major=2,
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
    error_codes=True,
    detail_lines=False,
    quit_passthrough=b"\r\n+QUITT\r\n",
    recvdata_dinfo=True,
    early_closed_passive=False,
    passive_notice_each=False,
    passive_kinds=frozenset({"TCP", "UDP", "SSL"}),
    echo_busy_line=False,
    skip_to_at=False,
    busy_sending_on_lf=False,
)

PROFILES: Dict[str, Profile] = {"1": AT17, "1.7": AT17, "2": AT2X, "2.x": AT2X}


def profile(name: str) -> Profile:
    """`"1"`/`"1.7"` or `"2"`/`"2.x"`; ValueError naming the choices otherwise."""
    try:
        return PROFILES[str(name)]
    except KeyError:
        raise ValueError(f"unknown AT dialect {name!r}; choose 1 (AT 1.7) or 2 (AT 2.x)") from None
