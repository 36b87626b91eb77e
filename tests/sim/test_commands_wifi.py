"""Wi-Fi chapter on the module directly, both dialects: forms, refusals, what flash keeps across AT+RST/RESTORE."""
from __future__ import annotations

import pytest

from modbench import Bench, OK, ERROR, JOINED, bench  # noqa: F401  (bench is a fixture)


def _n(bench, name: str) -> bytes:
    """The RAM-only name of a suffixed command in this dialect."""
    return (name + "_CUR" if bench.module.profile.major == 1 else name).encode()


def test_cwmode_test_form_and_range(bench):
    name = _n(bench, "CWMODE")
    span = b"(1-3)" if bench.module.profile.major == 1 else b"(0-3)"
    assert bench.ask(b"AT+%s=?" % name) == b"+%s:%s\r\n" % (name, span) + OK
    assert bench.ask(b"AT+%s=0" % name) == (ERROR if bench.module.profile.major == 1 else OK)


def test_autoconn_joins_the_saved_ap_after_reset_only_when_on(bench):
    major = bench.module.profile.major
    join = b'AT+CWJAP%s="HomeNet","s3cr3t99"' % (b"_DEF" if major == 1 else b"")
    assert bench.ask(join) == JOINED + OK
    assert bench.reset() == OK
    assert bench.after_ready == JOINED               # auto-connect is on by default
    assert bench.ask(b"AT+CWAUTOCONN=0") == OK
    if major == 2:
        assert bench.ask(b"AT+CWAUTOCONN?") == b"+CWAUTOCONN:0\r\n" + OK
    else:
        assert bench.ask(b"AT+CWAUTOCONN?") == ERROR
    bench.reset()
    assert bench.after_ready == b""
    # 1.x: 5, not connected; 2.x: 1, initialised but no connection started
    assert bench.ask(b"AT+CIPSTATUS") == (b"STATUS:5\r\n" if major == 1 else b"STATUS:1\r\n") + OK


def test_1x_cur_join_is_not_kept_across_reset():
    b = Bench("1")
    assert b.ask(b'AT+CWJAP_CUR="HomeNet","s3cr3t99"') == JOINED + OK
    b.reset()
    assert b.after_ready == b""
    assert b.ask(b"AT+CWJAP_CUR?") == b"No AP\r\n" + OK
    b.close()


def test_macs_cur_def_and_restore():
    b = Bench("1")
    assert b.ask(b"AT+CIPSTAMAC_CUR?") == b'+CIPSTAMAC_CUR:"5c:cf:7f:a1:b2:c3"\r\n' + OK
    assert b.ask(b'AT+CIPSTAMAC_CUR="1a:fe:34:00:00:01"') == OK
    assert b.ask(b'AT+CIPSTAMAC_DEF="1a:fe:34:00:00:02"') == OK
    assert b.ask(b'AT+CIPSTAMAC_DEF="1b:fe:34:00:00:02"') == ERROR        # multicast bit
    assert b.ask(b'AT+CIPSTAMAC_CUR="5e:cf:7f:a1:b2:c3"') == ERROR        # the SoftAP's
    b.reset()
    assert b.ask(b"AT+CIPSTAMAC_CUR?") == b'+CIPSTAMAC_CUR:"1a:fe:34:00:00:02"\r\n' + OK
    assert b.ask(b"AT+RESTORE").startswith(OK)
    assert b.ask(b"ATE0") == b"ATE0\r\r\n" + OK
    assert b.ask(b"AT+CIPSTAMAC?") == b'+CIPSTAMAC:"5c:cf:7f:a1:b2:c3"\r\n' + OK
    b.close()


def test_static_address_turns_station_dhcp_off(bench):
    name = _n(bench, "CIPSTA")
    dhcp = _n(bench, "CWDHCP")
    assert bench.ask(b"AT+%s?" % dhcp) == b"+%s:3\r\n" % dhcp + OK
    assert bench.ask(b'AT+%s="192.168.1.50","192.168.1.1","255.255.255.0"' % name) == OK
    assert bench.ask(b"AT+%s?" % name) == (b'+%s:ip:"192.168.1.50"\r\n+%s:gateway:"192.168.1.1"\r\n'
                                           b'+%s:netmask:"255.255.255.0"\r\n' % (name, name, name)) + OK
    station_bit = b"1" if bench.module.profile.major == 1 else b"2"     # the bit left is the SoftAP's
    assert bench.ask(b"AT+%s?" % dhcp) == b"+%s:%s\r\n" % (dhcp, station_bit) + OK
    assert bench.ask(b'AT+%s="192.168.1.300"' % name) == ERROR


def test_softap_needs_ap_mode_and_a_real_password(bench):
    name = _n(bench, "CWSAP")
    mode = _n(bench, "CWMODE")
    assert bench.ask(b'AT+%s="fake","password1",5,3' % name) == ERROR          # station mode only
    assert bench.ask(b"AT+%s=3" % mode) == OK
    assert bench.ask(b'AT+%s="fake","short",5,3' % name) == ERROR
    assert bench.ask(b'AT+%s="fake","password1",5,1' % name) == ERROR          # WEP is refused
    assert bench.ask(b'AT+%s="fake","password1",5,3' % name) == OK
    assert bench.ask(b"AT+%s?" % name) == b'+%s:"fake","password1",5,3,4,0\r\n' % name + OK
    assert bench.ask(b"AT+CWLIF") == OK
    assert bench.ask(b"AT+CIFSR").startswith(b'+CIFSR:APIP,"192.168.4.1"\r\n+CIFSR:APMAC,')


@pytest.mark.parametrize("dialect", ["1", "2"])
def test_the_log_never_shows_a_password_the_module_echoes_or_answers(tmp_path, dialect):
    log = tmp_path / "wire.log"
    b = Bench(dialect, echo=True, log_path=str(log))
    name = b"CWSAP_CUR" if dialect == "1" else b"CWSAP"
    mode = b"CWMODE_CUR" if dialect == "1" else b"CWMODE"
    b.ask(b"AT+%s=3" % mode)
    echoed = b.ask(b'AT+%s="fake","password1",5,3' % name)
    answered = b.ask(b"AT+%s?" % name)
    b.close()
    assert b"password1" in echoed and b"password1" in answered      # the module itself shows it, as the firmware does
    text = log.read_bytes()
    assert b"fake" in text and b"password1" not in text, text


def test_hostname_country_dhcps(bench):
    assert bench.ask(b"AT+CWHOSTNAME?") == b"+CWHOSTNAME:ESP_A1B2C3\r\n" + OK
    assert bench.ask(b'AT+CWHOSTNAME="sensor-1"') == OK
    assert bench.ask(b"AT+CWHOSTNAME?") == b"+CWHOSTNAME:sensor-1\r\n" + OK
    country = _n(bench, "CWCOUNTRY")
    assert bench.ask(b'AT+%s=1,"US",1,11' % country) == OK
    assert bench.ask(b"AT+%s?" % country) == b'+%s:1,"US",1,11\r\n' % country + OK
    assert bench.ask(b'AT+%s=1,"US",5,11' % country) == ERROR
    if bench.module.profile.major == 1:
        assert bench.ask(b'AT+CWCOUNTRY=1,"US",1,11') == ERROR     # 1.x: only _CUR and _DEF


def test_2x_cwstate_follows_the_join():
    b = Bench("2")
    assert b.ask(b"AT+CWSTATE?") == b'+CWSTATE:0,""\r\n' + OK
    assert b.ask(b'AT+CWJAP="HomeNet","s3cr3t99"') == JOINED + OK
    assert b.ask(b"AT+CWSTATE?") == b'+CWSTATE:2,"HomeNet"\r\n' + OK
    assert b.ask(b"AT+CWQAP") == OK + b"WIFI DISCONNECT\r\n"
    assert b.ask(b"AT+CWSTATE?") == b'+CWSTATE:4,""\r\n' + OK
    assert b.ask(b"AT+CWJAP") == JOINED + OK          # 2.x: execute joins the saved AP
    b.close()


def test_lap_with_options_and_filter(bench):
    assert bench.ask(b"AT+CWLAPOPT=1,31") == OK
    answer = bench.ask(b'AT+CWLAP="HomeNet"')
    assert answer.startswith(b'+CWLAP:(3,"HomeNet",-50,"24:0a:c4:') and answer.endswith(b'",1)\r\n' + OK)
    assert answer.count(b"+CWLAP:") == 1
    assert bench.ask(b"AT+CWLAPOPT=1,4096") == ERROR


def test_softap_stations_are_announced_listed_and_dropped(bench):
    with pytest.raises(ValueError):
        bench.module.station_joined("aa:bb:cc:00:00:01")
    assert bench.ask(b"AT+%s=2" % _n(bench, "CWMODE")) == OK
    bench.module.station_joined("aa:bb:cc:00:00:01")
    assert bench.take() == b'+STA_CONNECTED:"aa:bb:cc:00:00:01"\r\n+DIST_STA_IP:"aa:bb:cc:00:00:01","192.168.4.2"\r\n'
    head = b"" if bench.module.profile.major == 1 else b"+CWLIF:"
    assert bench.ask(b"AT+CWLIF") == head + b"192.168.4.2,aa:bb:cc:00:00:01\r\n" + OK
    if bench.module.profile.major == 2:
        assert bench.ask(b'AT+CWQIF="aa:bb:cc:00:00:01"') == OK + b'+STA_DISCONNECTED:"aa:bb:cc:00:00:01"\r\n'
    else:
        bench.module.station_left("aa:bb:cc:00:00:01")
        assert bench.take() == b'+STA_DISCONNECTED:"aa:bb:cc:00:00:01"\r\n'
    assert bench.ask(b"AT+CWLIF") == OK


def test_2x_cwmode_turning_the_station_on_joins_the_saved_ap_unless_told_not_to():
    b = Bench("2")
    assert b.ask(b'AT+CWJAP="HomeNet","s3cr3t99"') == JOINED + OK
    assert b.ask(b"AT+CWMODE=2") == OK + b"WIFI DISCONNECT\r\n"
    assert b.ask(b"AT+CWMODE=1,0") == OK
    assert b.ask(b"AT+CWMODE=2") == OK
    assert b.ask(b"AT+CWMODE=1") == OK + JOINED
    b.close()


@pytest.mark.parametrize("dialect", ["1", "2"])
def test_utf8_ssid_joins_and_reads_back(dialect):
    b = Bench(dialect, networks={"Café ☕": "password1"})
    join = b"CWJAP_CUR" if dialect == "1" else b"CWJAP"
    assert b.ask(b'AT+%s="Caf\xc3\xa9 \xe2\x98\x95","password1"' % join) == JOINED + OK
    assert b.ask(b"AT+%s?" % join).startswith(b'+%s:"Caf\xc3\xa9 \xe2\x98\x95","' % join)
    assert b.ask(b'AT+%s="\xff","password1"' % join) == ERROR      # not UTF-8: the line is refused whole
    b.close()
