"""Wrong argument counts, types and ranges of the commands whose handlers used to check their own arguments: the
bytes each dialect answers (1.x: the reason line; 2.x: the ERR CODE with AT+SYSLOG=1), pinned as recorded before
the checks moved into declared arguments, so moving a check cannot change an answer. Per CIPMUX state, since a
leading link id exists only under CIPMUX=1."""
from __future__ import annotations

import pytest

from modbench import Bench, OK

E = b"\r\nERROR\r\n"


def code(sub: int) -> bytes:
    return b"ERR CODE:0x01%02x0000\r\n" % sub + E


CASES = [
    ('1', 0, b'AT+CIPSTART="TCP"', E),
    ('1', 0, b'AT+CIPSTART="TCP","1.2.3.4",80,1,2,3', E),
    ('1', 0, b'AT+CIPSTART="TCP","1.2.3.4",80,7201', E),
    ('1', 0, b'AT+CIPSTART=1,"TCP","1.2.3.4",80', b'MUX=0\r\n' + E),
    ('1', 0, b'AT+CIPSEND=1,2,3,4', b'MUX=0\r\n' + E),
    ('1', 0, b'AT+CIPSEND="x"', E),
    ('1', 0, b'AT+CIPSEND=0', b'link is not valid\r\n' + E),
    ('1', 0, b'AT+CIPSERVER=1,80', b'MUX=0\r\n' + E),
    ('1', 0, b'AT+CIPRECVDATA=0', E),
    ('1', 0, b'AT+CIPRECVDATA="a"', E),
    ('1', 0, b'AT+CWJAP="a"', E),
    ('1', 0, b'AT+CWJAP=1,2', E),
    ('1', 0, b'AT+CWJAP="sssssssssssssssssssssssssssssssss","x"', E),
    ('1', 0, b'AT+CWLAP=1', E),
    ('1', 0, b'AT+CWLAP="a",1,2,3,4,5,6', E),
    ('1', 0, b'AT+CIPSSLCCONF=4', E),
    ('1', 0, b'AT+CIPSSLCCONF=1,2', E),
    ('1', 0, b'AT+CIPSSLCCONF="a"', E),
    ('1', 0, b'AT+CIPSSLCALPN=2,"a"', E),
    ('1', 0, b'AT+CIPSSLCPSK="zz","h"', E),
    ('1', 0, b'AT+CIPSSLCPSK="ab"', E),
    ('1', 0, b'AT+CIPCLOSEMODE=2', E),
    ('1', 0, b'AT+CIPSENDBUF=1,2,3', b'MUX=0\r\n' + E),
    ('1', 0, b'AT+CIPCHECKSEQ="a"', E),
    ('1', 0, b'AT+CIPBUFSTATUS=1', b'MUX=0\r\n' + E),
    ('1', 0, b'AT+CIPCLOSE=1', b'MUX=0\r\n' + E),
    ('1', 1, b'AT+CIPSTART=7,"TCP","1.2.3.4",80', b'ID ERROR\r\n' + E),
    ('1', 1, b'AT+CIPSTART="TCP","1.2.3.4",80', b'MUX=1\r\n' + E),
    ('1', 1, b'AT+CIPSTART=1,"TCP"', E),
    ('1', 1, b'AT+CIPSEND=0', b'MUX=1\r\n' + E),
    ('1', 1, b'AT+CIPSEND=5,3', b'ID ERROR\r\n' + E),
    ('1', 1, b'AT+CIPCLOSE=6', E),
    ('1', 1, b'AT+CIPCLOSE=1,2', E),
    ('1', 1, b'AT+CIPCLOSE="a"', E),
    ('1', 1, b'AT+CIPSERVER=2,80', E),
    ('1', 1, b'AT+CIPSERVER=1,70000', E),
    ('1', 1, b'AT+CIPSERVER=1,80,1,2,3', E),
    ('1', 1, b'AT+CIPSERVER="a"', E),
    ('1', 1, b'AT+CIPSERVER', E),
    ('1', 1, b'AT+CIPRECVDATA=0,0', E),
    ('1', 1, b'AT+CIPRECVDATA=9,1', b'ID ERROR\r\n' + E),
    ('1', 1, b'AT+CIPSSLCCONF=6,1', E),
    ('1', 1, b'AT+CIPSSLCCONF=0,"a"', E),
    ('1', 1, b'AT+CIPSSLCSNI=0,1,2', E),
    ('1', 1, b'AT+CIPCLOSEMODE=0,2', E),
    ('1', 1, b'AT+CIPCLOSEMODE=9,0', b'ID ERROR\r\n' + E),
    ('1', 1, b'AT+CIPSENDBUF=0', b'MUX=1\r\n' + E),
    ('1', 1, b'AT+CIPBUFSTATUS=0,1', E),
    ('1', 1, b'AT+CIPBUFRESET', b'MUX=1\r\n' + E),
    ('1', 1, b'AT+CIPCHECKSEQ=0', b'MUX=1\r\n' + E),
    ('2', 0, b'AT+CIPSTART="TCP"', code(0x06)),
    ('2', 0, b'AT+CIPSTART="TCP","1.2.3.4",80,1,2,3', code(0x06)),
    ('2', 0, b'AT+CIPSTART="TCP","1.2.3.4",80,7201', code(0x07)),
    ('2', 0, b'AT+CIPSTART=1,"TCP","1.2.3.4",80', code(0x0a)),
    ('2', 0, b'AT+CIPSEND=1,2,3,4', code(0x0a)),
    ('2', 0, b'AT+CIPSEND="x"', code(0x06)),
    ('2', 0, b'AT+CIPSEND=0', code(0x0a)),
    ('2', 0, b'AT+CIPSERVER=1,80', code(0x0a)),
    ('2', 0, b'AT+CIPRECVDATA=0', code(0x07)),
    ('2', 0, b'AT+CIPRECVDATA="a"', code(0x07)),
    ('2', 0, b'AT+CWJAP="a"', code(0x06)),
    ('2', 0, b'AT+CWJAP=1,2', code(0x06)),
    ('2', 0, b'AT+CWJAP="sssssssssssssssssssssssssssssssss","x"', code(0x07)),
    ('2', 0, b'AT+CWLAP=1', code(0x06)),
    ('2', 0, b'AT+CWLAP="a",1,2,3,4,5,6', code(0x06)),
    ('2', 0, b'AT+CIPSSLCCONF=4', code(0x07)),
    ('2', 0, b'AT+CIPSSLCCONF=1,2', b'\r\nOK\r\n'),
    ('2', 0, b'AT+CIPSSLCCONF="a"', code(0x07)),
    ('2', 0, b'AT+CIPSSLCALPN=2,"a"', code(0x06)),
    ('2', 0, b'AT+CIPSSLCPSK="zz","h"', code(0x07)),
    ('2', 0, b'AT+CIPSSLCPSK="ab"', code(0x06)),
    ('2', 0, b'AT+CIPCLOSEMODE=2', code(0x09)),
    ('2', 0, b'AT+CIPSENDBUF=1,2,3', code(0x09)),
    ('2', 0, b'AT+CIPCHECKSEQ="a"', code(0x09)),
    ('2', 0, b'AT+CIPBUFSTATUS=1', code(0x09)),
    ('2', 0, b'AT+CIPCLOSE=1', code(0x0a)),
    ('2', 1, b'AT+CIPSTART=7,"TCP","1.2.3.4",80', code(0x0a)),
    ('2', 1, b'AT+CIPSTART="TCP","1.2.3.4",80', code(0x0a)),
    ('2', 1, b'AT+CIPSTART=1,"TCP"', code(0x06)),
    ('2', 1, b'AT+CIPSEND=0', code(0x0a)),
    ('2', 1, b'AT+CIPSEND=5,3', code(0x0a)),
    ('2', 1, b'AT+CIPCLOSE=6', code(0x07)),
    ('2', 1, b'AT+CIPCLOSE=1,2', code(0x06)),
    ('2', 1, b'AT+CIPCLOSE="a"', code(0x06)),
    ('2', 1, b'AT+CIPSERVER=2,80', code(0x07)),
    ('2', 1, b'AT+CIPSERVER=1,70000', code(0x07)),
    ('2', 1, b'AT+CIPSERVER=1,80,1,2,3', code(0x06)),
    ('2', 1, b'AT+CIPSERVER="a"', code(0x06)),
    ('2', 1, b'AT+CIPSERVER', code(0x0c)),
    ('2', 1, b'AT+CIPRECVDATA=0,0', code(0x07)),
    ('2', 1, b'AT+CIPRECVDATA=9,1', code(0x0a)),
    ('2', 1, b'AT+CIPSSLCCONF=6,1', code(0x07)),
    ('2', 1, b'AT+CIPSSLCCONF=0,"a"', code(0x07)),
    ('2', 1, b'AT+CIPSSLCSNI=0,1,2', code(0x06)),
    ('2', 1, b'AT+CIPCLOSEMODE=0,2', code(0x09)),
    ('2', 1, b'AT+CIPCLOSEMODE=9,0', code(0x09)),
    ('2', 1, b'AT+CIPSENDBUF=0', code(0x09)),
    ('2', 1, b'AT+CIPBUFSTATUS=0,1', code(0x09)),
    ('2', 1, b'AT+CIPBUFRESET', code(0x09)),
    ('2', 1, b'AT+CIPCHECKSEQ=0', code(0x09)),
    # an empty argument where a number belongs
    ('1', 0, b'AT+CIPSERVER=1,', E),
    ('1', 0, b'AT+CIPSERVER=,80', E),
    ('1', 0, b'AT+CIPCLOSE=', E),
    ('1', 0, b'AT+CIPRECVDATA=0,', E),
    ('1', 0, b'AT+CIPCLOSEMODE=0,', E),
    ('1', 0, b'AT+CIPSENDBUF=0,', E),
    ('1', 0, b'AT+CIPBUFSTATUS=', E),
    ('1', 1, b'AT+CIPSERVER=1,', E),
    ('1', 1, b'AT+CIPSERVER=,80', E),
    ('1', 1, b'AT+CIPCLOSE=', E),
    ('1', 1, b'AT+CIPRECVDATA=0,', E),
    ('1', 1, b'AT+CIPCLOSEMODE=0,', E),
    ('1', 1, b'AT+CIPSENDBUF=0,', E),
    ('1', 1, b'AT+CIPBUFSTATUS=', E),
    ('2', 0, b'AT+CIPSERVER=1,', code(0x06)),
    ('2', 0, b'AT+CIPSERVER=,80', code(0x06)),
    ('2', 0, b'AT+CIPCLOSE=', code(0x06)),
    ('2', 0, b'AT+CIPRECVDATA=0,', code(0x06)),
    ('2', 0, b'AT+CIPCLOSEMODE=0,', code(0x06)),
    ('2', 0, b'AT+CIPSENDBUF=0,', code(0x06)),
    ('2', 0, b'AT+CIPBUFSTATUS=', code(0x06)),
    ('2', 1, b'AT+CIPSERVER=1,', code(0x06)),
    ('2', 1, b'AT+CIPSERVER=,80', code(0x06)),
    ('2', 1, b'AT+CIPCLOSE=', code(0x06)),
    ('2', 1, b'AT+CIPRECVDATA=0,', code(0x06)),
    ('2', 1, b'AT+CIPCLOSEMODE=0,', code(0x06)),
    ('2', 1, b'AT+CIPSENDBUF=0,', code(0x06)),
    ('2', 1, b'AT+CIPBUFSTATUS=', code(0x06)),
    # CWJAP, CIPSEND and CIPSSLCPSK: a text where a number belongs and the reverse, a count off by one
    ('1', 0, b'AT+CWJAP="a",', E),
    ('1', 0, b'AT+CWJAP="sssssssssssssssssssssssssssssssss",5', E),
    ('1', 0, b'AT+CIPSEND=5,"a"', E),
    ('1', 0, b'AT+CIPSSLCPSK="ab",', E),
    ('1', 1, b'AT+CIPSEND=0,5,"a",1,2', E),
    ('1', 1, b'AT+CIPSEND=0,"a"', E),
    ('1', 1, b'AT+CIPSSLCPSK=0,"ab"', E),
    ('1', 1, b'AT+CIPSSLCPSK=,"ab","c"', E),
    ('2', 0, b'AT+CWJAP="a",', code(0x06)),
    ('2', 0, b'AT+CWJAP="sssssssssssssssssssssssssssssssss",5', code(0x06)),
    ('2', 0, b'AT+CIPSEND=5,"a"', code(0x06)),
    ('2', 0, b'AT+CIPSSLCPSK="ab",', code(0x06)),
    ('2', 1, b'AT+CIPSEND=0,5,"a",1,2', code(0x06)),
    ('2', 1, b'AT+CIPSEND=0,"a"', code(0x06)),
    ('2', 1, b'AT+CIPSSLCPSK=0,"ab"', code(0x06)),
    ('2', 1, b'AT+CIPSSLCPSK=,"ab","c"', code(0x07)),
    # CWLAP (the station is checked first) and CIPSSLCSNI (2.x's link id under CIPMUX=1)
    ('2', 0, b'AT+CWLAP=,"a"', code(0x06)),
    ('2', 0, b'AT+CIPSSLCSNI=', code(0x06)),
    ('2', 0, b'AT+CIPSSLCSNI=1', code(0x05)),
    ('2', 0, b'AT+CIPSSLCSNI="a","b"', code(0x06)),
    ('2', 1, b'AT+CIPSSLCSNI=1', code(0x06)),
    ('2', 1, b'AT+CIPSSLCSNI="a","b"', code(0x07)),
    ('2', 1, b'AT+CIPSSLCSNI=9,"host"', code(0x07)),
    # CIPSSLCCONF in 2.x: its wrong counts and types answer 0x07 (out of range), as they did when hand-checked
    ('2', 0, b'AT+CIPSSLCCONF=1,2,3,4', code(0x07)),
    ('2', 0, b'AT+CIPSSLCCONF=1,"a"', code(0x07)),
    ('2', 1, b'AT+CIPSSLCCONF=0,1,2,3,4', code(0x07)),
    ('2', 1, b'AT+CIPSSLCCONF=1,"a"', code(0x07)),
]


@pytest.fixture(scope="module")
def benches():
    made = {}
    for dialect in "12":
        for mux in (0, 1):
            b = Bench(dialect)
            if dialect == "2":
                assert b.ask(b"AT+SYSLOG=1") == OK
            b.ask(b'AT+CWJAP%s="HomeNet","s3cr3t99"' % (b"_CUR" if dialect == "1" else b""))
            if mux:
                assert b.ask(b"AT+CIPMUX=1") == OK
            made[dialect, mux] = b
    yield made
    for b in made.values():
        b.close()


@pytest.mark.parametrize("dialect,mux,line,expected", CASES)
def test_refusal_bytes_are_as_recorded(benches, dialect, mux, line, expected):
    assert benches[dialect, mux].ask(line) == expected
