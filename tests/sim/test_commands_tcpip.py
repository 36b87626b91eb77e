"""TCP/IP and SSL chapters on the module directly, both dialects. A link needs a peer: a listening loopback socket
(the kernel accepts the connection; nothing has to answer)."""
from __future__ import annotations

import asyncio
import re
import socket
import time

import pytest

from golden.corpus import answer
from modbench import Bench, OK, ERROR, JOINED


@pytest.fixture
def listener():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(4)
    yield sock
    sock.close()


@pytest.fixture(params=["1", "2"])
def joined(request, listener):
    b = Bench(request.param, hosts={"example.com": ("127.0.0.1", listener.getsockname()[1])})
    join = b"CWJAP_CUR" if request.param == "1" else b"CWJAP"
    assert b.ask(b'AT+%s="HomeNet","s3cr3t99"' % join) == JOINED + OK
    yield b
    b.close()


def test_cipsendex_ends_early_at_backslash_zero(joined):
    assert joined.ask(b'AT+CIPSTART="TCP","example.com",80') == b"CONNECT\r\n" + OK
    joined.feed(b"AT+CIPSENDEX=20\r\n")
    joined.settle()
    assert joined.take() == answer(joined.module.profile.name, "cipsendex-early-end")   # the firmware's prompt
    joined.feed(b"hello\\0")
    joined.settle()
    assert joined.take() == b"\r\nRecv 5 bytes\r\n\r\nSEND OK\r\n"
    assert joined.ask(b"AT") == OK                   # back to command lines


def test_cipsend_refusals_name_the_reason_in_1x(joined):
    detail = joined.module.profile.major == 1
    assert joined.ask(b"AT+CIPSEND=5") == (b"link is not valid\r\n" if detail else b"") + ERROR
    assert joined.ask(b"AT+CIPSENDEX=0,5") == (b"MUX=0\r\n" if detail else b"") + ERROR
    assert joined.ask(b'AT+CIPSTART="TCP","example.com",80') == b"CONNECT\r\n" + OK
    assert joined.ask(b"AT+CIPSEND=2049") == (b"too long\r\n" if detail else b"") + ERROR
    assert joined.ask(b"AT+CIPMUX=1") == (b"link is builded\r\n" if detail else b"") + ERROR


def test_cipmux_and_cipmode_are_lost_at_reset(joined):
    assert joined.ask(b"AT+CIPMUX=1") == OK
    assert joined.ask(b"AT+CIPMUX?") == b"+CIPMUX:1\r\n" + OK
    joined.reset()
    assert joined.ask(b"AT+CIPMUX?") == b"+CIPMUX:0\r\n" + OK
    assert joined.ask(b"AT+CIPMODE=1") == OK
    assert joined.ask(b"AT+CIPMUX=1") == (b"IPMODE=1\r\n" if joined.module.profile.major == 1 else b"") + ERROR


def test_cipdomain_and_ping_use_the_host_map(joined):
    major = joined.module.profile.major
    assert joined.ask(b'AT+CIPDOMAIN="example.com"') == (
        b"+CIPDOMAIN:127.0.0.1\r\n" if major == 1 else b'+CIPDOMAIN:"127.0.0.1"\r\n') + OK
    assert joined.ask(b'AT+CIPDOMAIN="nowhere.test"') == (b"DNS Fail\r\n" if major == 1 else b"") + ERROR
    assert joined.ask(b'AT+PING="example.com"') == (b"+1\r\n" if major == 1 else b"+PING:1\r\n") + OK
    assert joined.ask(b'AT+PING="nowhere.test"') == (b"+timeout\r\n" if major == 1 else b"+PING:TIMEOUT\r\n") + ERROR


def test_cipdns_cur_def_and_2x_shape(joined):
    major = joined.module.profile.major
    name = b"CIPDNS_DEF" if major == 1 else b"CIPDNS"
    assert joined.ask(b'AT+%s=1,"8.8.8.8","1.1.1.1"' % name) == OK
    expected = b"+%s:8.8.8.8\r\n+%s:1.1.1.1\r\n" % (name, name) if major == 1 else b'+CIPDNS:1,"8.8.8.8","1.1.1.1"\r\n'
    joined.reset()
    assert joined.ask(b"AT+%s?" % name) == expected + OK
    assert joined.ask(b'AT+%s=1,"8.8.8.8","8.8.8.8"' % name) == ERROR
    if major == 1:
        assert joined.ask(b"AT+CIPDNS?") == ERROR


def test_sntp_config_and_time(joined):
    assert joined.ask(b"AT+CIPSNTPTIME?") == b"+CIPSNTPTIME:Thu Jan 01 00:00:00 1970\r\n" + OK
    assert joined.ask(b'AT+CIPSNTPCFG=1,2,"pool.ntp.org"') == OK
    assert joined.ask(b"AT+CIPSNTPCFG?") == b'+CIPSNTPCFG:1,2,"pool.ntp.org"\r\n' + OK
    assert joined.ask(b"AT+CIPSNTPCFG=1,2") == OK              # no server given: the three defaults
    assert joined.ask(b"AT+CIPSNTPCFG?") == (
        b'+CIPSNTPCFG:1,2,"cn.ntp.org.cn","ntp.sjtu.edu.cn","us.pool.ntp.org"\r\n' + OK)
    assert not joined.ask(b"AT+CIPSNTPTIME?").endswith(b"1970\r\n" + OK)


def test_ssl_settings_reach_the_link_as_tls_settings():
    from esp8266sim.commands.ssl import tls_settings
    one, two = Bench("1"), Bench("2")
    assert one.ask(b"AT+CIPSSLSIZE=4096") == OK
    assert one.ask(b"AT+CIPSSLSIZE=1024") == ERROR
    assert one.ask(b"AT+CIPSSLCCONF=2") == OK
    assert one.ask(b"AT+CIPSSLCCONF?") == b"+CIPSSLCCONF:2\r\n" + OK
    assert one.ask(b"AT+CIPSSLCCONF=0,2") == ERROR             # 1.x takes no link id
    settings = tls_settings(one.module)
    assert settings.buffer_size == 4096 and settings.verify
    assert two.ask(b"AT+CIPSSLCCONF=3,0,0") == OK
    assert two.ask(b'AT+CIPSSLCSNI="api.example.com"') == OK
    assert two.ask(b'AT+CIPSSLCALPN=2,"h2","http/1.1"') == OK
    assert two.ask(b'AT+CIPSSLCALPN=3,"h2"') == ERROR
    assert two.ask(b"AT+CIPSSLCSNI?") == b'+CIPSSLCSNI:0,"api.example.com"\r\n' + OK
    assert two.ask(b"AT+CIPSSLCCONF?") == b"+CIPSSLCCONF:0,3,0,0\r\n" + OK
    settings = tls_settings(two.module)
    assert settings.verify and settings.sni == "api.example.com"
    one.close()
    two.close()


def test_savetranslink_and_closemode_are_accepted(joined):
    assert joined.ask(b'AT+SAVETRANSLINK=1,"example.com",80,"TCP"') == OK
    assert joined.module.state.saved("savetranslink") == ("TCP", "example.com", 80, 0)
    assert joined.ask(b"AT+SAVETRANSLINK=0") == OK
    if joined.module.profile.major == 1:
        assert joined.ask(b"AT+CIPCLOSEMODE=1") == OK
        assert joined.ask(b"AT+CIPCLOSEMODE=2") == ERROR
    else:
        assert joined.ask(b"AT+CIPCLOSEMODE=1") == ERROR      # NONOS only


def test_1x_send_buffer_segments(listener):
    b = Bench("1", hosts={"example.com": ("127.0.0.1", listener.getsockname()[1])})
    assert b.ask(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"') == JOINED + OK
    assert b.ask(b"AT+CIPSENDBUF=4") == b"link is not valid\r\n" + ERROR
    assert b.ask(b'AT+CIPSTART="TCP","example.com",80') == b"CONNECT\r\n" + OK
    assert b.ask(b"AT+CIPBUFSTATUS") == b"1,0,0,2920,8\r\n" + OK
    assert b.ask(b"AT+CIPSENDBUF=4") == b"1,0\r\n\r\nOK\r\n> "
    b.feed(b"abcd")
    b.settle()
    assert b.take() == b"\r\nRecv 4 bytes\r\n1,SEND OK\r\n"
    assert b.ask(b"AT+CIPSENDBUF=2") == b"2,1\r\n\r\nOK\r\n> "
    b.feed(b"ef")
    b.settle()
    assert b.take() == b"\r\nRecv 2 bytes\r\n2,SEND OK\r\n"
    assert b.ask(b"AT+CIPCHECKSEQ=2") == b"2,TRUE\r\n" + OK
    assert b.ask(b"AT+CIPCHECKSEQ=9") == ERROR
    assert b.ask(b"AT+CIPBUFSTATUS") == b"3,2,2,2920,8\r\n" + OK
    assert b.ask(b"AT+CIPBUFRESET") == OK
    assert b.ask(b"AT+CIPBUFSTATUS") == b"1,0,0,2920,8\r\n" + OK
    assert b.ask(b"AT+CIPBUFRESET=0") == b"MUX=0\r\n" + ERROR
    b.close()


@pytest.mark.parametrize("dialect", ["1", "2"])
def test_savetranslink_enters_passthrough_at_power_up(dialect, listener):
    b = Bench(dialect, hosts={"example.com": ("127.0.0.1", listener.getsockname()[1])})
    join = b"CWJAP_DEF" if dialect == "1" else b"CWJAP"
    assert b.ask(b'AT+%s="HomeNet","s3cr3t99"' % join) == JOINED + OK
    assert b.ask(b'AT+SAVETRANSLINK=1,"example.com",80,"TCP"') == OK
    assert b.ask(b"AT+RST").startswith(OK + b"\r\nready\r\n" + JOINED)
    conn, _ = listener.accept()
    conn.setblocking(False)
    b.feed(b"AT\r\n")                                  # not a command any more: data for the saved link
    got = b""
    for _ in range(500):                               # bounded: the 20 ms packet gap, then the socket
        b.loop.run_until_complete(asyncio.sleep(0.01))
        try:
            got += conn.recv(100)
        except BlockingIOError:
            continue
        if got:
            break
    conn.close()
    assert got == b"AT\r\n"
    assert b.take() == b""
    b.close()


@pytest.mark.parametrize("dialect, conf", [("1", b"AT+CIPSSLCCONF=2"), ("2", b"AT+CIPSSLCCONF=2")])
def test_ssl_link_asked_to_check_the_server_with_no_ca_fails(dialect, conf, listener):
    b = Bench(dialect, hosts={"example.com": ("127.0.0.1", listener.getsockname()[1])})
    join = b"CWJAP_CUR" if dialect == "1" else b"CWJAP"
    assert b.ask(b'AT+%s="HomeNet","s3cr3t99"' % join) == JOINED + OK
    assert b.ask(conf) == OK
    assert b.ask(b'AT+CIPSTART="SSL","example.com",443') == ERROR + b"CLOSED\r\n"
    assert b.module.net.links == {}
    b.close()



def test_passive_notices_1x_each_arrival_with_the_total_2x_once(joined, listener):
    """1.x notices every arrival with the total now buffered (WiFiEspAT's AT1 driver takes the number as the
    link's whole `available`, not as an increment); 2.x notices once until the buffer was read [notes 5.2]."""
    assert joined.ask(b"AT+CIPMUX=1") == OK
    assert joined.ask(b"AT+CIPRECVMODE=1") == OK
    assert joined.ask(b'AT+CIPSTART=0,"TCP","example.com",80') == b"0,CONNECT\r\n" + OK
    peer, _ = listener.accept()
    heard = b""
    with peer:
        for data, total in ((b"abc", 3), (b"defg", 7)):
            peer.sendall(data)
            deadline = time.monotonic() + 10
            while True:             # until the module holds it all: a notice comes with the data, never later
                got = joined.ask(b"AT+CIPRECVLEN?")
                heard += got
                if b"+CIPRECVLEN:%d," % total in got:
                    break
                assert time.monotonic() < deadline, f"{total} bytes never buffered: {heard!r}"
                joined.loop.run_until_complete(asyncio.sleep(0.01))
    notices = re.findall(rb"\r\n\+IPD,0,(\d+)\r\n", heard)
    assert notices == ([b"3", b"7"] if joined.module.profile.major == 1 else [b"3"]), heard
