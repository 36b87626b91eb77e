"""Basic chapter, driven on the module directly: forms, refusals, and what survives AT+RST and AT+RESTORE."""
from __future__ import annotations

import pytest

from golden.corpus import answer
from modbench import Bench, OK, ERROR, READY, bench  # noqa: F401  (bench is a fixture)


def test_unknown_command_and_unknown_form_answer_error(bench):
    assert bench.ask(b"AT+NOSUCH") == ERROR
    assert bench.ask(b"AT+GMR?") == ERROR            # GMR has the execute form only
    assert bench.ask(b"AT+RST=1") == ERROR
    # 1.x's reader takes "at" as a head too (1.7/lowercase-head); 2.x wants an upper-case AT (2.x/lowercase-head)
    assert bench.ask(b"at") == (OK if bench.module.profile.major == 1 else ERROR)
    assert bench.ask(b"AT+CWMODE_CUR=1,") == ERROR   # an empty last argument


def test_2x_error_codes_name_the_reason():
    b = Bench("2")
    assert b.ask(b"AT+SYSLOG?") == b"+SYSLOG:0\r\n" + OK
    assert b.ask(b"AT+SYSLOG=1") == OK
    assert b.ask(b"AT+NOSUCH") == b"ERR CODE:0x01090000\r\n" + ERROR
    assert b.ask(b"AT+CWMODE=7") == b"ERR CODE:0x01070000\r\n" + ERROR
    assert b.ask(b"AT+CWMODE=1,1,1") == b"ERR CODE:0x01060000\r\n" + ERROR
    assert b.ask(b'AT+CWMODE="1"') == b"ERR CODE:0x01050000\r\n" + ERROR
    b.close()


def test_1x_has_no_2x_commands_and_2x_no_1x_ones():
    one, two = Bench("1"), Bench("2")
    for line in (b"AT+SYSSTORE?", b"AT+SYSLOG=1", b"AT+CWSTATE?", b"AT+CIPSTARTEX=\"TCP\",\"a\",1",
                 b"AT+CIPSSLCCN?", b"AT+SYSTIMESTAMP?"):
        assert one.ask(line) == ERROR, line
    for line in (b"AT+CIPSSLSIZE=4096", b"AT+SYSADC?", b"AT+SYSIOSETCFG=12,3,1", b"AT+RFVDD?",
                 b"AT+CWMODE_CUR=1", b"AT+CWDHCPS_CUR?"):
        assert two.ask(line) == ERROR, line
    one.close()
    two.close()


@pytest.mark.parametrize("dialect, cur, saved", [("1", b"UART_CUR", b"UART_DEF"), ("2", b"UART_CUR", b"UART_DEF")])
def test_uart_cur_is_lost_at_reset_and_def_kept(dialect, cur, saved):
    b = Bench(dialect)
    changes = []
    b.module._set_uart_rate = changes.append
    assert b.ask(b"AT+%s=9600,8,1,0,0" % cur) == OK
    assert changes == [9600]
    assert b.ask(b"AT+%s?" % cur) == b"+%s:9600,8,1,0,0\r\n" % cur + OK
    assert b.ask(b"AT+%s?" % saved) == b"+%s:115200,8,1,0,0\r\n" % saved + OK
    b.module._set_uart_rate = lambda rate: None
    b.reset()
    assert b.ask(b"AT+%s?" % cur) == b"+%s:115200,8,1,0,0\r\n" % cur + OK
    assert b.ask(b"AT+%s=57600,8,1,0,0" % saved) == OK
    b.reset()
    assert b.ask(b"AT+%s?" % cur) == b"+%s:57600,8,1,0,0\r\n" % cur + OK
    assert b.ask(b"AT+RESTORE") == OK + READY
    assert b.ask(b"AT+UART_DEF?") == b"AT+UART_DEF?\r\r\n+UART_DEF:115200,8,1,0,0\r\n" + OK   # echo is back on
    assert b.ask(b"AT+UART_CUR=12,8,1,0,0") == b"AT+UART_CUR=12,8,1,0,0\r\r\n" + ERROR
    b.close()


def test_echo_returns_after_reset(bench):
    assert bench.ask(b"AT") == OK
    assert bench.ask(b"AT+RST") == OK + READY
    assert bench.ask(b"AT") == b"AT\r\r\n" + OK


def test_gmr_whole_per_dialect(bench):
    assert bench.ask(b"AT+GMR") == answer(bench.module.profile.name, "gmr")     # the firmware's, from the corpus


def test_sysstore_0_keeps_2x_sets_out_of_flash():
    b = Bench("2")
    assert b.ask(b"AT+SYSSTORE?") == b"+SYSSTORE:1\r\n" + OK
    assert b.ask(b"AT+CWMODE=3") == OK            # saved: SYSSTORE=1 is the default
    assert b.ask(b"AT+SYSSTORE=0") == OK
    assert b.ask(b"AT+CWMODE=2") == OK            # RAM only
    assert b.ask(b"AT+CWMODE?") == b"+CWMODE:2\r\n" + OK
    b.reset()
    assert b.ask(b"AT+CWMODE?") == b"+CWMODE:3\r\n" + OK
    assert b.ask(b"AT+SYSSTORE?") == b"+SYSSTORE:1\r\n" + OK
    b.close()


def test_sleep_rfpower_sysram_sysmsg():
    one, two = Bench("1"), Bench("2")
    assert one.ask(b"AT+SLEEP?") == b"+SLEEP:2\r\n" + OK
    assert one.ask(b"AT+SLEEP=3") == ERROR
    assert one.ask(b"AT+SLEEP=1") == OK
    assert one.ask(b"AT+SLEEP?") == b"+SLEEP:1\r\n" + OK
    assert two.ask(b"AT+SLEEP=3") == OK
    assert one.ask(b"AT+RFPOWER=0") == OK
    assert one.ask(b"AT+RFPOWER?") == ERROR
    assert two.ask(b"AT+RFPOWER=0") == ERROR
    assert two.ask(b"AT+RFPOWER=82") == OK
    assert two.ask(b"AT+RFPOWER?") == b"+RFPOWER:82\r\n" + OK
    assert one.ask(b"AT+SYSRAM?").startswith(b"+SYSRAM:")
    assert two.ask(b"AT+SYSRAM?").count(b",") == 1
    assert one.ask(b"AT+SYSMSG=1") == ERROR       # 1.x: only SYSMSG_CUR and SYSMSG_DEF
    assert one.ask(b"AT+SYSMSG_CUR=1") == OK
    assert one.ask(b"AT+SYSADC?") == b"+SYSADC:8\r\n" + OK
    assert two.ask(b"AT+SYSMSG=5") == OK
    assert two.ask(b"AT+SYSMSG?") == b"+SYSMSG:5\r\n" + OK
    one.close()
    two.close()


@pytest.mark.parametrize("dialect", ["1", "2"])
def test_gslp_sleeps_for_its_time_or_for_ever(dialect):
    b = Bench(dialect)
    assert b.ask(b"AT+GSLP=5") == b"5\r\n" + OK + READY     # GPIO16 wired to RST: it wakes and boots
    assert b.ask(b"ATE0") == b"ATE0\r\r\n" + OK
    assert b.ask(b"AT+GSLP=0") == b"0\r\n" + OK            # ESP8266: 0 is for ever
    assert b.ask(b"AT") == b""                               # deaf until a reset
    b.close()


def test_sleep_2x_reads_light_sleep_back_as_3_and_rfpower_as_its_level():
    b = Bench("2")
    assert b.ask(b"AT+SLEEP?") == b"+SLEEP:1\r\n" + OK
    assert b.ask(b"AT+SLEEP=2") == OK
    assert b.ask(b"AT+SLEEP?") == b"+SLEEP:3\r\n" + OK
    assert b.ask(b"AT+CWMODE=2") == OK
    assert b.ask(b"AT+SLEEP=1") == ERROR                     # modem sleep needs station mode
    assert b.ask(b"AT+RFPOWER=60") == OK
    assert b.ask(b"AT+RFPOWER?") == b"+RFPOWER:56\r\n" + OK
    b.close()


def test_gpio_commands_1x():
    b = Bench("1")
    assert b.ask(b"AT+SYSGPIOWRITE=12,1") == b"NOT GPIO MODE!\r\n" + ERROR
    assert b.ask(b"AT+SYSIOSETCFG=12,3,1") == OK
    assert b.ask(b"AT+SYSIOGETCFG=12") == b"+SYSIOGETCFG:12,3,1\r\n" + OK
    assert b.ask(b"AT+SYSGPIOWRITE=12,1") == b"NOT OUTPUT!\r\n" + ERROR
    assert b.ask(b"AT+SYSGPIODIR=12,1") == OK
    assert b.ask(b"AT+SYSGPIOWRITE=12,1") == OK
    assert b.ask(b"AT+SYSGPIOREAD=12") == b"+SYSGPIOREAD:12,1,1\r\n" + OK
    assert b.ask(b"AT+SYSIOSETCFG=6,3,1") == ERROR      # a flash pin
    b.reset()
    assert b.ask(b"AT+SYSIOGETCFG=12") == b"+SYSIOGETCFG:12,0,0\r\n" + OK
    b.close()


def test_2x_cmd_lists_the_registry_with_its_forms():
    b = Bench("2")
    answer = b.ask(b"AT+CMD?")
    assert answer.endswith(OK)
    lines = answer[:-len(OK)].split(b"\r\n")[:-1]
    assert lines[0] == b'+CMD:0,"AT",0,0,0,1'
    assert b'+CMD:%d,"AT+CWMODE",1,1,1,0' % next(i for i, line in enumerate(lines) if b'"AT+CWMODE"' in line) in lines
    assert not any(b"CIPSSLSIZE" in line for line in lines)        # 1.7 only
    b.close()
    one = Bench("1")
    assert one.ask(b"AT+CMD?") == ERROR
    one.close()
