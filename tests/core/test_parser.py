"""The parser: every reply shape the notes describe, whole, byte by byte and with whatever follows it."""
from __future__ import annotations

import pytest

from espat.proto import events as ev
from espat.proto.parser import Parser


def parse(data: bytes, **kw) -> list:
    return Parser(**kw).receive_data(data)


def parse_bytewise(data: bytes, **kw) -> list:
    p = Parser(**kw)
    out = []
    for i in range(len(data)):
        out.extend(p.receive_data(data[i:i + 1]))
    return out


def check(data: bytes, expected: list, **kw) -> None:
    """Like h11's test_io helper: whole, byte by byte, and followed by an OK that must still come out."""
    assert parse(data, **kw) == expected
    assert parse_bytewise(data, **kw) == expected
    assert parse(data + b"\r\nOK\r\n", **kw) == expected + [ev.Ok()]


@pytest.mark.parametrize("data, expected", [
    (b"\r\nOK\r\n", [ev.Ok()]),
    (b"\r\nERROR\r\n", [ev.Error()]),
    (b"ERR CODE:0x01090000\r\n\r\nERROR\r\n", [ev.Error(0x01090000)]),
    (b"\r\nFAIL\r\n", [ev.Fail()]),
    (b"\r\nSEND OK\r\n", [ev.SendOk()]),
    (b"SEND FAIL\r\n", [ev.SendFail()]),
    (b"\r\nSEND FAIL\r\n", [ev.SendFail()]),
    (b"\r\nSEND Canceled\r\n", [ev.SendCanceled()]),
    (b"\r\nbusy p...\r\n", [ev.Busy("p")]),
    (b"\r\nbusy s...\r\n", [ev.Busy("s")]),
    (b"\r\nready\r\n", [ev.Ready()]),
    (b"AT\r\r\n\r\nOK\r\n", [ev.Echo(b"AT"), ev.Ok()]),
    (b"ATE0\r\r\n\r\nOK\r\n", [ev.Echo(b"ATE0"), ev.Ok()]),
    (b"\r\nRecv 138 bytes\r\n", [ev.Recv(138)]),
    (b"4,CONNECT\r\n", [ev.Connect(4)]),
    (b"CONNECT\r\n", [ev.Connect(None)]),
    (b"0,CLOSED\r\n", [ev.Closed(0)]),
    (b"CLOSED\r\n", [ev.Closed(None)]),
    (b"2,CONNECT FAIL\r\n", [ev.ConnectFail(2)]),
    (b"WIFI DISCONNECT\r\nWIFI CONNECTED\r\nWIFI GOT IP\r\n",
     [ev.Wifi("DISCONNECT"), ev.Wifi("CONNECTED"), ev.Wifi("GOT IP")]),
    (b"DNS Fail\r\n\r\nERROR\r\n", [ev.Message("DNS Fail"), ev.Error()]),
    (b"link is builded\r\n\r\nERROR\r\n", [ev.Message("link is builded"), ev.Error()]),
    (b"No AP\r\n\r\nOK\r\n", [ev.Message("No AP"), ev.Ok()]),
    (b"+CWJAP:2\r\n\r\nFAIL\r\n", [ev.JoinFailure(2), ev.Fail()]),
    (b'+CWJAP_CUR:"HomeNet","24:0a:c4:11:22:33",6,-58\r\n\r\nOK\r\n',
     [ev.ApInfo("HomeNet", "24:0a:c4:11:22:33", 6, -58), ev.Ok()]),
    (b'+CWJAP:"Home\\,Net","24:0a:c4:11:22:33",6,-58,0,1,3,0,0\r\n',
     [ev.ApInfo("Home,Net", "24:0a:c4:11:22:33", 6, -58)]),
    (b'+CWLAP:(3,"HomeNet",-58,"24:0a:c4:11:22:33",6,-12,0)\r\n',
     [ev.ApEntry(3, "HomeNet", -58, "24:0a:c4:11:22:33", 6)]),
    (b'+CWLAP:(4,"a\\,b",-70,"aa:bb:cc:dd:ee:ff",11,-3,0,4,4,7,1)\r\n',
     [ev.ApEntry(4, "a,b", -70, "aa:bb:cc:dd:ee:ff", 11)]),
    (b'+CIFSR:STAIP,"192.168.1.23"\r\n+CIFSR:STAMAC,"24:0a:c4:aa:bb:cc"\r\n',
     [ev.Address("STAIP", "192.168.1.23"), ev.Address("STAMAC", "24:0a:c4:aa:bb:cc")]),
    (b'+CIPSTA_CUR:ip:"192.168.1.23"\r\n', [ev.Address("ip", "192.168.1.23")]),
    (b'STATUS:3\r\n+CIPSTATUS:4,"TCP","203.0.113.10",80,49153,0\r\n',
     [ev.Status(3), ev.LinkStatus(4, "TCP", "203.0.113.10", 80, 49153, False)]),
    (b"+CIPRECVLEN:0,0,0,0,106\r\n", [ev.RecvLen((0, 0, 0, 0, 106))]),
    (b"+CIPRECVLEN:-1,-1,-1,-1,106\r\n", [ev.RecvLen((None, None, None, None, 106))]),
    (b"+CWMODE_CUR:1\r\n", [ev.Info("CWMODE_CUR", "1")]),
    (b"+UART_CUR:115200,8,1,0,0\r\n", [ev.Info("UART_CUR", "115200,8,1,0,0")]),
    (b"\r\n+IPD,4,106\r\n", [ev.IpdNotice(4, 106)]),
    (b"\r\n+IPD,106\r\n", [ev.IpdNotice(None, 106)]),
])
def test_lines(data, expected):
    check(data, expected)


@pytest.mark.parametrize("data, expected", [
    (b"\r\n+IPD,5:hello", [ev.Ipd(None, b"hello")]),
    (b"\r\n+IPD,4,5:hello", [ev.Ipd(4, b"hello")]),
    (b"\r\n+IPD,5,203.0.113.10,80:hello", [ev.Ipd(None, b"hello", "203.0.113.10", 80)]),
    (b"\r\n+IPD,3,5,203.0.113.10,80:hello", [ev.Ipd(3, b"hello", "203.0.113.10", 80)]),
    (b'\r\n+IPD,3,5,"203.0.113.10",80:hello', [ev.Ipd(3, b"hello", "203.0.113.10", 80)]),
    # length-framed: the payload may hold what would otherwise be lines
    (b"\r\n+IPD,0,17:\r\nOK\r\n+IPD,1,2:ab", [ev.Ipd(0, b"\r\nOK\r\n+IPD,1,2:ab")]),
    (b"\r\n+IPD,4,5:hello4,CLOSED\r\n", [ev.Ipd(4, b"hello"), ev.Closed(4)]),
    (b"\r\n+IPD,1,1:>", [ev.Ipd(1, b">")]),
])
def test_ipd_active(data, expected):
    check(data, expected)


def test_recvdata_1x_and_2x():
    check(b"\r\n+CIPRECVDATA,5:hel\nl\r\nOK\r\n", [ev.RecvData(b"hel\nl"), ev.Ok()])
    check(b"+CIPRECVDATA:5,hello\r\nOK\r\n", [ev.RecvData(b"hello"), ev.Ok()])
    check(b'+CIPRECVDATA:5,"203.0.113.10",80,hello\r\nOK\r\n',
          [ev.RecvData(b"hello", "203.0.113.10", 80), ev.Ok()], remote_info=True)
    # without CIPDINFO the same bytes are data that happens to start with a quote
    check(b'+CIPRECVDATA:5,"2031\r\nOK\r\n', [ev.RecvData(b'"2031'), ev.Ok()])


def test_prompt_both_dialects():
    check(b"AT+CIPSEND=4,5\r\r\n\r\nOK\r\n> ", [ev.Echo(b"AT+CIPSEND=4,5"), ev.Ok(), ev.Prompt()])
    check(b"\r\nOK\r\n\r\n>", [ev.Ok(), ev.Prompt()])


def test_unsolicited_between_recv_and_send_ok():
    data = b"\r\nRecv 5 bytes\r\n1,CONNECT\r\n\r\n+IPD,1,3:abc\r\nSEND OK\r\n"
    check(data, [ev.Recv(5), ev.Connect(1), ev.Ipd(1, b"abc"), ev.SendOk()])


def test_version_lines_both_dialects():
    one = (b"AT version:1.7.4.0(May 11 2020 19:13:04)\r\nSDK version:3.0.4(9532ceb)\r\n"
           b"compile time:May 27 2020 10:12:17\r\nBin version(Wroom 02):1.7.4\r\nOK\r\n")
    events = parse(one)
    assert events[0] == ev.Version("AT version", "1.7.4.0(May 11 2020 19:13:04)")
    assert events[0].major == 1
    assert [e.key for e in events[:4]] == ["AT version", "SDK version", "compile time", "Bin version"]
    assert events[-1] == ev.Ok()
    two = parse(b"AT version:2.2.0.0(b097cdf - ESP8266 - Jun 17 2021 12:57:45)\r\n")
    assert two[0].major == 2


def test_boot_noise_is_an_event_then_ready():
    noise = bytes([0x00, 0xFF, 0x8C, 0x12, 0xE0]) + b"\r\n ets Jan  8 2013,rst cause:2, boot mode:(3,6)\r\n"
    events = parse(noise + b"\r\nready\r\n")
    assert isinstance(events[0], ev.Noise)
    assert events[-1] == ev.Ready()


def test_overlong_line_is_bounded():
    p = Parser(max_line=64)
    out = []
    for _ in range(100):
        out += p.receive_data(b"x" * 50)
        assert p.pending <= 64 + 50
    out += p.receive_data(b"\r\nOK\r\n")
    assert out == [ev.LineTooLong(5002), ev.Ok()]


def test_bad_ipd_header_is_not_trusted():
    # link id 7 does not exist and a length past the bound is not allocated: data was damaged, lines go on
    assert parse(b"\r\n+IPD,7,3:abc\r\n") == [ev.FramingLost(None)]
    events = parse(b"\r\n+IPD,4,99999:abc\r\nOK\r\n", max_payload=4096)
    assert events == [ev.FramingLost(None), ev.Ok()]


def test_error_code_is_not_carried_past_its_error():
    assert parse(b"ERR CODE:0x01090000\r\n\r\nERROR\r\n\r\nERROR\r\n") == [ev.Error(0x01090000), ev.Error()]
