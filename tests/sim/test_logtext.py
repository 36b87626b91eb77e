"""The fake's own --log escaping and redaction (it never imports the client) hide what the client's hide."""
from hypothesis import given, strategies as st

from esp8266sim.logtext import escape_bytes, redact
from espat.proto import wiretext

LINES = [b'AT+CWJAP_CUR="HomeNet","s3cr3t"\r\n', b'AT+CWJAP="Home,Net","s3\\"cr3t"\r\n',
         b'at+cwjap_def = "HomeNet" , "s3cr3t"\r\n', b'AT+CWSAP="espat","s3cr3t",5,3\r\n',
         b'+CWSAP:"espat","s3cr3t",5,3,4,0\r\n', b'AT+CWJEAP="Corp",1,"me","s3cr3t","s3cr3t"\r\n',
         b'AT+CWJAP_CUR="HomeNet","s3cr']


def test_every_password_form_is_hidden():
    for line in LINES:
        shown = redact(line)
        assert b"s3cr" not in shown and b"***" in shown, line


def test_bytes_are_shown_escaped():
    assert escape_bytes(b'OK\r\n\x00\xff\\"') == 'OK\\r\\n\\x00\\xff\\\\"'


@given(st.lists(st.sampled_from(LINES + [b"AT+CIPSEND=0,5\r\n", b"\x00\xfe\\", b"OK\r\n"])).map(b"".join))
def test_the_fake_shows_what_the_client_shows(data):
    assert escape_bytes(redact(data)) == wiretext.escape_bytes(wiretext.redact(data))
