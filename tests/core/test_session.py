"""The session: a command's life, the link table and every reply rule, driven by bytes alone (no port, no clock)."""
from __future__ import annotations

import pytest

from espat.proto import commands as c, events as ev
from espat.errors import DataLost, JoinError, LinkClosed, ModuleError, RemoteProtocolError
from espat.proto.framing import frame_send
from espat.proto.records import Reply
from espat.proto.session import NEED_DATA, Session


def answer(session: Session, data: bytes, bytewise: bool = False):
    """Feed `data` (whole or a byte at a time) and return what next_event() gives once it is all in."""
    if bytewise:
        for i in range(len(data) - 1):
            session.receive_data(data[i:i + 1])
            assert session.next_event() is NEED_DATA
        session.receive_data(data[-1:])
    else:
        session.receive_data(data)
    return session.next_event()


def with_link(link_id: int = 4) -> Session:
    session = Session()
    session.mux = True
    session.add_link(link_id, "example.com", 80)
    session.opened(link_id)
    return session


@pytest.mark.parametrize("bytewise", [False, True])
def test_a_command_ends_with_its_final_result_and_keeps_the_lines_before(bytewise):
    session = Session()
    assert session.send(c.version()) == b"AT+GMR\r\n"
    assert session.next_event() is NEED_DATA
    reply = answer(session, b"AT+GMR\r\r\nAT version:1.7.4.0(May 11 2020)\r\nSDK version:3.0.4\r\n\r\nOK\r\n", bytewise)
    assert reply == Reply([ev.Version("AT version", "1.7.4.0(May 11 2020)"), ev.Version("SDK version", "3.0.4")],
                          ev.Ok())
    assert session.echoed                       # the echo was noted and left out of the reply
    assert session.next_event() is NEED_DATA   # nothing in flight, nothing left


def test_busy_as_the_first_line_ends_the_command_and_is_counted():
    session = Session()
    session.send(c.at())
    assert answer(session, b"\r\nbusy p...\r\n") == Reply([], ev.Busy("p"))
    assert session.busy_seen == 1
    session.send(c.at())                       # the caller retries
    assert answer(session, b"\r\nOK\r\n") == Reply([], ev.Ok())


def test_busy_after_other_lines_is_part_of_the_reply():
    session = Session()
    session.send(c.status())
    assert answer(session, b"STATUS:3\r\nbusy p...\r\n\r\nOK\r\n") == Reply([ev.Status(3), ev.Busy("p")], ev.Ok())
    assert session.busy_seen == 0


def test_a_prompting_command_skips_its_ok_and_ends_at_the_prompt():
    session = Session()
    session.send(c.send(4, 5))
    assert answer(session, b"\r\nOK\r\n> ") == Reply([], ev.Prompt())


@pytest.mark.parametrize("data, error, message", [
    (b"DNS Fail\r\n\r\nERROR\r\n", ModuleError, "DNS Fail"),
    (b"ERR CODE:0x01090000\r\n\r\nERROR\r\n", ModuleError, "CIPSTART"),
    (b"\r\nSEND FAIL\r\n", LinkClosed, "send failed"),
    (b"\r\nready\r\n", ModuleError, "reset while answering"),
])
def test_refusals_raise_and_end_the_command(data, error, message):
    session = Session()
    session.send(c.start(0, "TCP", "example.com", 80))
    session.receive_data(data)
    with pytest.raises(error, match=message):
        session.next_event()
    session.receive_data(b"\r\nOK\r\n")
    assert session.next_event() == ev.Ok()     # no command in flight any more: handed out as it is


def test_an_error_code_travels_with_the_refusal():
    session = Session()
    session.send(c.at())
    session.receive_data(b"ERR CODE:0x01090000\r\n\r\nERROR\r\n")
    with pytest.raises(ModuleError) as raised:
        session.next_event()
    assert raised.value.code == 0x01090000


def test_a_refused_join_names_the_ssid_and_the_modules_reason():
    session = Session()
    session.send(c.join("Home,Net", "wrong-pw"))
    session.receive_data(b"+CWJAP:2\r\n\r\nFAIL\r\n")
    with pytest.raises(JoinError, match=r"cannot join 'Home,Net': wrong password") as raised:
        session.next_event()
    assert raised.value.code == 2


def test_a_refused_join_typed_by_hand_is_a_join_error_whatever_its_spacing():
    """Its SSID used to be read back out of the line, which failed (ValueError, a traceback) on `AT+CWJAP =...`."""
    session = Session()
    session.send(c.raw('AT+CWJAP ="HomeNet","wrong-pw"'))
    session.receive_data(b"+CWJAP:2\r\n\r\nERROR\r\n")
    with pytest.raises(JoinError, match=r"^cannot join: wrong password$"):
        session.next_event()


def test_a_reset_is_the_answer_a_reset_command_expects():
    session = Session()
    session.send(c.reset())
    assert answer(session, b"\r\nOK\r\n") == Reply([], ev.Ok())
    assert answer(session, b"\x02\x8f garbage\r\n\r\nready\r\n") == ev.Ready()
    assert session.resets == 1 and session.garbled == 1


def test_a_late_answer_is_not_taken_for_the_next_commands():
    session = Session()
    session.send(c.start(0, "TCP", "example.com", 80))
    session.gave_up()                           # the caller's bound ran out
    assert session.owed == 1
    session.send(c.at())
    # the connect's answer comes first (the module answers in order), then the AT's
    assert answer(session, b"0,CONNECT\r\n\r\nOK\r\n") is NEED_DATA
    assert answer(session, b"AT\r\r\n\r\nOK\r\n") == Reply([], ev.Ok())
    assert (session.owed, session.late_answers) == (0, 1)


def test_lines_before_a_late_answer_belong_to_it():
    session = Session()
    session.send(c.version())
    session.gave_up()
    session.send(c.status())
    assert answer(session, b"AT version:1.7.4.0\r\n\r\nOK\r\nSTATUS:2\r\n\r\nOK\r\n") == Reply([ev.Status(2)], ev.Ok())


def test_a_late_answer_that_came_between_commands_is_paid_off_when_the_next_is_sent():
    session = Session()
    session.send(c.at())
    session.gave_up()
    session.receive_data(b"\r\nOK\r\n")         # arrives while nothing is in flight
    session.send(c.at())
    assert (session.owed, session.late_answers) == (0, 0) and session.next_event() is NEED_DATA
    assert answer(session, b"\r\nOK\r\n") == Reply([], ev.Ok())       # the AT's own answer, not the late one


def test_stale_events_are_dropped_when_a_command_is_sent():
    session = Session()
    session.receive_data(b"\r\nOK\r\nNo AP\r\n")
    session.send(c.at())
    assert session.next_event() is NEED_DATA
    assert answer(session, b"\r\nOK\r\n") == Reply([], ev.Ok())        # `No AP` is not in it


def test_giving_up_after_an_error_owes_nothing():
    session = Session()
    session.send(c.at())
    session.gave_up(owed=False)
    assert session.owed == 0
    assert answer(session, b"\r\nOK\r\n") == ev.Ok()


def test_restart_forgets_what_was_half_read_and_owed():
    session = Session()
    session.send(c.at())
    session.gave_up()
    session.receive_data(b"\r\nOK\r\n+IPD,0,10:abc")
    session.restart()
    assert session.owed == 0 and session.parser.payload_missing == 0
    session.send(c.at())
    assert answer(session, b"\r\nOK\r\n") == Reply([], ev.Ok())


# --- the link table ---------------------------------------------------------------------------------------------

def test_data_goes_to_its_link_between_the_lines_of_a_reply():
    session = with_link(4)
    session.send(c.status())
    reply = answer(session, b"STATUS:3\r\n+IPD,4,5:hello\r\n+CIPSTATUS:4,\"TCP\",\"1.2.3.4\",80,1234,0\r\n\r\nOK\r\n")
    assert reply.final == ev.Ok() and [type(e) for e in reply.events] == [ev.Status, ev.LinkStatus]
    assert bytes(session.links[4].received) == b"hello"


def test_data_for_a_closing_link_or_one_not_ours_is_dropped_and_counted():
    session = with_link(4)
    session.links[4].closing = True
    session.receive_data(b"+IPD,4,3:abc\r\n+IPD,2,3:xyz\r\n")
    assert session.next_event() is NEED_DATA
    assert bytes(session.links[4].received) == b"" and session.dropped == 2
    assert session.orphan_data == {2}


def test_a_passive_notice_sets_what_waits_and_the_mode():
    session = with_link(1)
    session.receive_data(b"+IPD,1,300\r\n")
    assert session.passive and session.links[1].waiting == 300
    assert session.next_event() is NEED_DATA


def test_closed_closes_the_link_and_is_still_handed_out():
    session = with_link(3)
    session.left_open.add(3)
    assert answer(session, b"3,CLOSED\r\n") == ev.Closed(3)
    assert not session.links[3].open and session.left_open == set()


def test_wifi_lost_closes_every_link():
    session = with_link(0)
    session.receive_data(b"WIFI DISCONNECT\r\n")
    assert session.wifi_connected is False and not session.links[0].open
    assert session.next_event() is NEED_DATA


def test_a_reboot_forgets_the_modules_modes_and_what_was_owed():
    session = with_link(0)
    session.passive = True
    session.foreign.add(2)
    session.send(c.at())
    session.gave_up()
    assert answer(session, b"\r\nready\r\n") == ev.Ready()
    assert (session.mux, session.passive, session.foreign, session.owed) == (False, False, set(), 0)
    assert not session.links[0].open and session.resets == 1


def test_the_verdict_on_a_link_is_none_while_nothing_went_wrong():
    session = with_link(4)
    session.receive_data(b"+IPD,4,5:hello\r\n")
    assert session.verdict(4) is None


def test_garbled_lines_while_a_link_is_open_make_its_data_suspect():
    session = Session()
    session.add_link(4, "example.com", 80)
    session.receive_data(b"\x8f\x02noise\r\n")     # before the module opened it: not held against the link
    session.opened(4)
    assert session.verdict(4) is None
    session.receive_data(b"\x8f\x02noise\r\n")
    lost = session.verdict(4)
    assert isinstance(lost, DataLost) and "1 garbled lines came with the response on link 4" in str(lost)


def test_broken_framing_marks_the_link_damaged():
    session = with_link(4)
    session.receive_data(b"+IPD,4,5:hello,CLOSED\r\n")
    assert session.links[4].damaged
    assert "data on link 4 was damaged" in str(session.verdict(4))


def test_a_damaged_header_marks_every_link():
    session = with_link(1)
    session.add_link(2, "example.com", 80)
    session.receive_data(b"+IPD,9,5:hello\r\n")
    assert session.links[1].damaged and session.links[2].damaged


# --- a send's data ----------------------------------------------------------------------------------------------

def test_a_send_is_counted_checked_and_confirmed():
    session = with_link(4)
    chunk = frame_send(b"hello", 4)[0]
    assert session.send(chunk.command) == b"AT+CIPSEND=4,5\r\n"
    assert answer(session, b"\r\nOK\r\n> ").final == ev.Prompt()
    assert session.send_data(chunk, 4) == b"hello" and session.links[4].sent == 5
    assert answer(session, b"\r\nRecv 5 bytes\r\n") is NEED_DATA
    assert answer(session, b"\r\nSEND OK\r\n") == ev.SendOk()
    assert answer(session, b"\r\nOK\r\n") == ev.Ok()           # the send is over


@pytest.mark.parametrize("data, error, message", [
    (b"\r\nRecv 4 bytes\r\n", RemoteProtocolError, "received 4 bytes of a 5-byte send"),
    (b"SEND FAIL\r\n", LinkClosed, "the link broke"),
    (b"\r\nERROR\r\n", LinkClosed, "the link broke"),
    (b"\r\nready\r\n", ModuleError, "reset while sending"),
])
def test_a_send_that_goes_wrong_says_how(data, error, message):
    session = with_link(4)
    chunk = frame_send(b"hello", 4)[0]
    session.send(chunk.command)
    answer(session, b"\r\nOK\r\n> ")
    session.send_data(chunk, 4)
    session.receive_data(data)
    with pytest.raises(error, match=message):
        session.next_event()
    assert answer(session, b"\r\nOK\r\n") == ev.Ok()           # the send is over either way


# --- decisions on the link table --------------------------------------------------------------------------------

def test_a_new_link_takes_the_lowest_id_no_one_holds():
    session = with_link(0)
    session.foreign.add(1)
    session.left_open.add(2)
    assert session.free_id() == 3
    for i in (3, 4):
        session.add_link(i, "example.com", 80)
    assert session.free_id() is None


def test_reconcile_closes_what_the_module_no_longer_holds_and_names_foreign_ids_with_data():
    session = with_link(0)
    session.add_link(1, "example.com", 80)
    session.left_open.update({1, 3})
    session.receive_data(b"+IPD,2,3:abc\r\n+IPD,4,3:xyz\r\n")     # data for ids not ours
    assert session.reconciled({0, 2, 3}) == [2]
    assert session.links[0].open and not session.links[1].open
    assert session.left_open == {3} and session.foreign == {2, 3}


def test_a_listing_closes_links_whose_closed_line_was_lost():
    session = with_link(0)
    session.add_link(1, "example.com", 80)
    session.listed({1})
    assert not session.links[0].open and session.links[1].open
    assert not session.clean
    session.listed(set())
    assert session.clean


def test_taking_a_links_data_empties_it_and_closing_drops_what_comes_after():
    session = with_link(4)
    session.receive_data(b"+IPD,4,5:hello\r\n")
    assert session.take(4) == b"hello" and session.take(4) == b""
    session.receive_data(b"+IPD,4,3:abc\r\n+IPD,4,10\r\n")
    link = session.closing(4)
    assert link is session.links[4] and (bytes(link.received), link.waiting) == (b"", 0)
    session.receive_data(b"+IPD,4,3:xyz\r\n")
    assert session.take(4) == b"" and session.dropped == 1
    assert session.closing(2) is None


# --- bare line ends ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("data", [b"\r\nERROR\r\n", b"\r\nbusy p...\r\n"])
def test_a_line_ends_answer_is_its_own_even_when_it_comes_during_the_next_command(data):
    session = Session()
    assert session.end_line() == b"\r\n"
    session.send(c.at())
    assert answer(session, data + b"\r\nOK\r\n") == Reply([], ev.Ok())
    assert (session.line_answers, session.late_answers, session.owed_line) == (1, 0, 0)
    assert session.busy_seen == (1 if b"busy" in data else 0)


def test_a_line_ends_answer_left_between_commands_is_not_a_late_one():
    session = Session()
    session.send(c.at())
    session.gave_up()
    session.end_line()
    session.receive_data(b"\r\nERROR\r\n")      # the line end's, not the AT's: the AT's is still owed
    session.send(c.at())
    assert (session.owed, session.line_answers) == (1, 1)


def test_a_drained_line_end_answer_is_taken_and_nothing_else_is():
    session = Session()
    session.end_line()
    session.receive_data(b"\r\nOK\r\n\r\nERROR\r\n\r\nERROR\r\n")
    taken = [session.line_answer(session.next_event()) for _ in range(3)]
    assert taken == [False, True, False] and session.owed_line == 0


def test_a_commands_answer_clears_what_swallowed_line_ends_were_owed():
    session = Session()
    session.end_line()
    session.send(c.at())
    assert answer(session, b"\r\nOK\r\n") == Reply([], ev.Ok())     # the line end was eaten: owed nothing now
    session.send(c.raw("AT+FOO"))
    session.receive_data(b"\r\nERROR\r\n")
    with pytest.raises(ModuleError):
        session.next_event()
    assert session.line_answers == 0


def test_a_reply_says_how_many_line_ends_before_it_were_still_unanswered():
    """sync() trusts an AT's OK only when its line end was answered first (the module answers in order): an OK
    ahead of that answer may be an earlier process's late one."""
    session = Session()
    session.end_line()
    session.send(c.at())
    assert answer(session, b"\r\nOK\r\n") == Reply([], ev.Ok())
    assert (session.unpaired_lines, session.owed_line) == (1, 0)
    session.end_line()
    session.send(c.at())
    assert answer(session, b"\r\nERROR\r\n\r\nOK\r\n") == Reply([], ev.Ok())
    assert (session.unpaired_lines, session.line_answers) == (0, 1)


def test_a_reboot_leaves_a_line_end_owed():
    session = Session()
    session.end_line()
    assert answer(session, b"\r\nready\r\n") == ev.Ready()
    assert session.owed_line == 1
