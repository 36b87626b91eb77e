"""The firmware's "Wi-Fi AT Commands" chapter: mode, joining and leaving an AP, scans, the SoftAP side, DHCP,
addresses, MACs, host name, country.

Evidence: ESP8266 AT Instruction Set v3.0 (AT 1.7) §4 "Wi-Fi AT Commands", esp-at 2.2 Wi-Fi_AT_Commands.rst, and
the protocol notes §2. The fake's Wi-Fi is `config.networks` (SSID -> password); nothing ever joins its SoftAP.
"""
from __future__ import annotations

import asyncio
from typing import List, Optional

from ..atline import quote
from ..profiles import OK
from .registry import E_COUNT, E_FAILED, E_VALUE, IP, MAC, Anything, Call, Int, OneOf, Refusal, Str, command
from .settings import setting, show

__all__ = ["bssid", "station_address"]

DOC1 = "ESP8266 AT Instruction Set v3.0 (AT 1.7) §4"
DOC2 = "esp-at 2.2 Wi-Fi_AT_Commands.rst"
DHCP_ADDRESS = ("192.168.1.23", "192.168.1.1", "255.255.255.0")      # what the fake's AP hands out


def bssid(ssid: str) -> str:
    digest = sum(ssid.encode()) & 0xFFFF
    return "24:0a:c4:%02x:%02x:%02x" % (digest >> 8, digest & 0xFF, len(ssid) & 0xFF)


def station_address(module) -> tuple:
    """(ip, gateway, netmask) of the station: static if set, DHCP's once joined, zeros before."""
    static = module.state["sta_ip"]
    if static is not None:
        return static
    return DHCP_ADDRESS if module.joined else ("0.0.0.0",) * 3


def _station_on(call: Call) -> None:
    if call.module.state["mode"] not in (1, 3):
        raise Refusal()


# --- mode -----------------------------------------------------------------------------------------------------------

def _cwmode_check(call: Call, value) -> None:
    if value not in call.module.profile.modes:
        raise Refusal(code=E_VALUE)
    call.extra["station_before"] = call.module.state["mode"] in (1, 3)


def _cwmode_apply(call: Call, value) -> None:
    call.ok()
    module = call.module
    if value not in (1, 3) and module.joined is not None:
        module.lose_wifi()
    # 2.x: turning the station on joins the saved AP unless <auto_connect> is 0 (esp-at's AT+CWMODE)
    auto = call.args[1] if len(call.args) > 1 and call.args[1] is not None else 1
    if module.profile.major >= 2 and value in (1, 3) and not call.extra["station_before"] and auto:
        module.auto_join()


setting("CWMODE", "mode", {1: (Int(1, 3),), 2: (Int(0, 3), Int(0, 1))}, {1: "query set test", 2: "query set test"},
        required=1, suffixed="alias", check=_cwmode_check, apply=_cwmode_apply,
        test={1: "(1-3)", 2: "(0-3)"}, evidence="notes §2.1; " + DOC1 + " AT+CWMODE_CUR; " + DOC2 + " AT+CWMODE=<mode>[,<auto_connect>]")


# --- joining --------------------------------------------------------------------------------------------------------

@command("CWJAP", "query", suffixed="alias", long=True,
         evidence="notes §2.2; " + DOC1 + " AT+CWJAP_CUR; " + DOC2 + " AT+CWJAP")
async def cwjap_query(call: Call) -> None:
    module = call.module
    if module.joined is None:
        call.emit(b"No AP\r\n" + OK)
        return
    ssid = quote(module.joined)
    call.reply(f'"{ssid}","{bssid(module.joined)}",6,-58{module.profile.cwjap_query_extra}')


@command("CWJAP", "exec", dialects="2", suffixed="alias", long=True)
async def cwjap_saved(call: Call) -> None:
    """2.x: join the AP saved in flash."""
    if call.module.state["join"] is None:
        raise Refusal(code=E_FAILED)
    await _join(call, *call.module.state["join"])


JOIN_TEXT = Str(1 << 16, wrong=E_COUNT)     # SSID and password: their lengths are checked once both are texts
JOIN_ARGS = (JOIN_TEXT, JOIN_TEXT)            # then 1.x: BSSID; 2.x: BSSID, PCI, reconnect, listen, scan, timeout, PMF


@command("CWJAP", "set", suffixed="alias", long=True, required=2,
         args={1: JOIN_ARGS + (Anything(),), 2: JOIN_ARGS + (Anything(),) * 7})
async def cwjap(call: Call) -> None:
    ssid, password = call.args[0], call.args[1]
    if len(ssid.encode()) > 32 or len(password.encode()) > 64:
        raise Refusal(code=E_VALUE)
    await _join(call, ssid, password)


async def _join(call: Call, ssid: str, password: str) -> None:
    module = call.module
    _station_on(call)
    module.state.set("join", (ssid, password), call.persist)
    if module.joined is not None:
        module.lose_wifi()
    module.ram["wifi_started"] = True
    number = module.faults.commands
    await asyncio.sleep(module.config.latency("join"))
    known = module.config.networks.get(ssid)
    # The reasons of the instruction set: 1 timeout, 2 wrong password, 3 no such AP, 4 connection failed.
    reason = 3 if known is None else 2 if known != password else module.faults.on_join(number)
    if reason:
        call.emit(b"+CWJAP:%d\r\n" % reason + module.profile.join_fail_final)
        return
    module.joined = ssid
    call.emit(b"WIFI CONNECTED\r\n")
    call.emit(b"WIFI GOT IP\r\n" + OK)


@command("CWQAP", "exec", evidence="notes §2.3")
def cwqap(call: Call) -> None:
    call.ok()
    call.module.lose_wifi()


setting("CWAUTOCONN", "autoconn", (Int(0, 1),), {1: "set", 2: "query set"},
        evidence=DOC1 + " AT+CWAUTOCONN (saved in flash, applies at the next boot); " + DOC2 + " AT+CWAUTOCONN")
setting("CWRECONNCFG", "reconncfg", (Int(0, 7200), Int(0, 1000)), dialects="2", evidence=DOC2 + " AT+CWRECONNCFG")


@command("CWSTATE", "query", dialects="2", evidence=DOC2 + " AT+CWSTATE; notes §2.3")
def cwstate(call: Call) -> None:
    module = call.module
    if module.joined is not None:
        call.reply(f'2,"{quote(module.joined)}"')
    else:
        call.reply('4,""' if module.ram.get("wifi_started") else '0,""')


# --- scanning -------------------------------------------------------------------------------------------------------

setting("CWLAPOPT", "lapopt", {1: (Int(0, 1), Int(0, 0x7FF)), 2: (Int(0, 1), Int(0, 0x7FF), Int(-100, 40),
                                                                   Int(0, 0xFFFF))},
        "set", required=2, evidence="notes §2.3; " + DOC1 + " AT+CWLAPOPT; " + DOC2 + " AT+CWLAPOPT")


@command("CWLAP", "exec", long=True, evidence="notes §2.3; " + DOC1 + " AT+CWLAP")
async def cwlap(call: Call) -> None:
    _station_on(call)
    await _scan(call, None)


def _station_first(call: Call) -> tuple:
    """_station_on as a command's `before` rule (the station is checked before the arguments)."""
    _station_on(call)
    return 0, call.args


@command("CWLAP", "set", long=True, before=_station_first, args=(Str(1 << 16, wrong=E_COUNT),) + (Anything(),) * 5,
         required=1)
async def cwlap_one(call: Call) -> None:
    """The APs by one SSID (the other arguments, MAC and channel, narrow nothing here)."""
    await _scan(call, call.args[0])


async def _scan(call: Call, wanted: Optional[str]) -> None:
    module = call.module
    mask = module.state["lapopt"][1]
    lines = b""
    for index, ssid in enumerate(sorted(module.config.networks)):
        if wanted is not None and ssid != wanted:
            continue
        ecn = 3 if module.config.networks[ssid] else 0
        fields = [str(ecn), f'"{quote(ssid)}"', str(-50 - 7 * index), f'"{bssid(ssid)}"', str(1 + 5 * index % 13),
                  "-12", "0", "4", "4", "7", "0"]
        chosen = [f for bit, f in enumerate(fields) if mask & (1 << bit)]
        lines += b"+CWLAP:(" + ",".join(chosen).encode() + b")\r\n"
    await asyncio.sleep(module.config.latency("join") / 2)
    call.emit(lines + OK)


# --- the SoftAP side ------------------------------------------------------------------------------------------------

def _softap_check(call: Call, value) -> None:
    if call.module.state["mode"] not in (2, 3):
        raise Refusal()
    ssid, password, channel, ecn = value[:4]
    if not ssid or (ecn == 0) != (password == "") or (ecn and len(password) < 8):
        raise Refusal(code=E_VALUE)


setting("CWSAP", "softap", {1: (Str(32, 1), Str(64), Int(1, 13), OneOf((0, 2, 3, 4)), Int(1, 4), Int(0, 1)),
                            2: (Str(32, 1), Str(64), Int(1, 13), OneOf((0, 2, 3, 4)), Int(1, 8), Int(0, 1))},
        required=4, suffixed="alias", check=_softap_check,
        evidence=DOC1 + " AT+CWSAP_CUR; " + DOC2 + " AT+CWSAP")


@command("CWLIF", "exec", evidence=DOC1 + " AT+CWLIF (<ip addr>,<mac> per station); " + DOC2
         + " AT+CWLIF (+CWLIF:<ip addr>,<mac>)")
def cwlif(call: Call) -> None:
    head = b"" if call.module.profile.major == 1 else b"+CWLIF:"
    call.emit(b"".join(head + b"%s,%s\r\n" % (ip.encode(), mac.encode())
                       for mac, ip in call.module.stations.items()) + OK)


@command("CWQIF", "exec", dialects="2", evidence=DOC2 + " AT+CWQIF")
def cwqif(call: Call) -> None:
    """Disconnect every station from the SoftAP."""
    _disconnect(call, list(call.module.stations))


@command("CWQIF", "set", dialects="2", args=(MAC,))
def cwqif_one(call: Call) -> None:
    _disconnect(call, [call.args[0]])


def _disconnect(call: Call, macs: List[str]) -> None:
    call.ok()
    for mac in macs:
        call.module.station_left(mac)


# --- DHCP -----------------------------------------------------------------------------------------------------------
# The state keeps 1.x's bits (0 SoftAP, 1 station); 2.x numbers them the other way round.

def _swap(bits: int) -> int:
    return ((bits & 1) << 1) | ((bits >> 1) & 1)


@command("CWDHCP", "query", suffixed="alias",
         evidence=DOC1 + " AT+CWDHCP_CUR=<mode>,<en>; " + DOC2 + " AT+CWDHCP=<operate>,<mode>")
def cwdhcp_query(call: Call) -> None:
    state = call.module.state
    bits = state.saved("dhcp") if call.query_saved else state["dhcp"]
    call.reply(str(bits if call.module.profile.major == 1 else _swap(bits)))


@command("CWDHCP", "set", args={1: (Int(0, 2), Int(0, 1)), 2: (Int(0, 1), Int(1, 3))}, suffixed="alias")
def cwdhcp(call: Call) -> None:
    state, major = call.module.state, call.module.profile.major
    if major == 1:
        mode, enable = call.args
        mask = (1, 2, 3)[mode]
    else:
        enable, mask = call.args[0], _swap(call.args[1])
    bits = state["dhcp"] | mask if enable else state["dhcp"] & ~mask
    state.set("dhcp", bits, call.persist)
    if enable and mask & 2:
        state.set("sta_ip", None, call.persist)
    call.ok()


@command("CWDHCPS", "query", suffixed="only",
         evidence=DOC1 + " AT+CWDHCPS_CUR/_DEF; libat.a 1.7.6 string \"%s:%u,%d.%d.%d.%d,%d.%d.%d.%d\"; "
         + DOC2 + " AT+CWDHCPS")
def cwdhcps_query(call: Call) -> None:
    state = call.module.state
    value = state.saved("dhcps") if call.query_saved else state["dhcps"]
    if call.module.profile.major == 1:      # 1.7.6's format string: "%s:%u,%d.%d.%d.%d,%d.%d.%d.%d", bare
        call.reply("%d,%s,%s" % value[1:])
    else:
        call.reply(show(value[1:]))


@command("CWDHCPS", "set", args=(Int(0, 1), Int(1, 2880), IP, IP), required=1, suffixed="only")
def cwdhcps(call: Call) -> None:
    state = call.module.state
    if call.args[0] == 0:
        state.set("dhcps", state.default("dhcps"), call.persist)
    else:
        if len(call.args) != 4:
            raise Refusal(code=E_COUNT)
        subnet = state["ap_ip"][0].rsplit(".", 1)[0]
        first, last = call.args[2], call.args[3]
        if first.rsplit(".", 1)[0] != subnet or last.rsplit(".", 1)[0] != subnet or \
                int(first.rsplit(".", 1)[1]) > int(last.rsplit(".", 1)[1]):
            raise Refusal(code=E_VALUE)
        state.set("dhcps", tuple(call.args), call.persist)
    call.ok()


# --- addresses ------------------------------------------------------------------------------------------------------

def _mac_check(other: str):
    def check(call: Call, value: str) -> None:
        if int(value[:2], 16) & 1 or value.lower() == call.module.state[other].lower():
            raise Refusal(code=E_VALUE)        # a multicast MAC, or the other interface's
    return check


setting("CIPSTAMAC", "sta_mac", (MAC,), suffixed="alias", check=_mac_check("ap_mac"),
        evidence=DOC1 + " AT+CIPSTAMAC_CUR; " + DOC2 + " AT+CIPSTAMAC")
setting("CIPAPMAC", "ap_mac", (MAC,), suffixed="alias", check=_mac_check("sta_mac"),
        evidence=DOC1 + " AT+CIPAPMAC_CUR; " + DOC2 + " AT+CIPAPMAC")


def _address_lines(values: tuple) -> tuple:
    return tuple(f'{key}:"{value}"' for key, value in zip(("ip", "gateway", "netmask"), values))


def _address(name: str, key: str, evidence: str) -> None:
    @command(name, "query", suffixed="alias", chapter="wifi", evidence=evidence)
    def query(call: Call) -> None:
        module, state = call.module, call.module.state
        if key == "sta_ip":
            values = state.saved(key) or ("0.0.0.0",) * 3 if call.query_saved else station_address(module)
        else:
            values = state.saved(key) if call.query_saved else state[key]
        call.reply(*_address_lines(values))

    @command(name, "set", args=(IP, IP, IP), required=1, suffixed="alias", chapter="wifi")
    def handler(call: Call) -> None:
        state = call.module.state
        ip = call.args[0]
        gateway = call.args[1] if len(call.args) > 1 else ip.rsplit(".", 1)[0] + ".1"
        netmask = call.args[2] if len(call.args) > 2 else "255.255.255.0"
        state.set(key, (ip, gateway, netmask), call.persist)
        if key == "sta_ip":
            state.set("dhcp", state["dhcp"] & ~2, call.persist)     # a static address stops the DHCP client
        call.ok()


_address("CIPSTA", "sta_ip", "notes §2.3; " + DOC1 + " AT+CIPSTA_CUR")
_address("CIPAP", "ap_ip", DOC1 + " AT+CIPAP_CUR; " + DOC2 + " AT+CIPAP")


# --- names and regulatory -------------------------------------------------------------------------------------------

setting("CWHOSTNAME", "hostname", (Str(32, 1),),
        check=lambda call, value: _station_on(call), display=lambda call, value: (value,),
        evidence=DOC1 + " AT+CWHOSTNAME (station must be on); " + DOC2 + " AT+CWHOSTNAME")


def _country_check(call: Call, value) -> None:
    policy, code, start, count = value
    if not code.isalpha() or start + count - 1 > 14:
        raise Refusal(code=E_VALUE)


setting("CWCOUNTRY", "country", (Int(0, 1), Str(3, 2), Int(1, 14), Int(1, 14)), suffixed="only",
        check=_country_check, evidence=DOC1 + " AT+CWCOUNTRY_CUR/_DEF; " + DOC2 + " AT+CWCOUNTRY")
setting("CWSTAPROTO", "staproto", (Int(1, 7),), dialects="2", evidence=DOC2 + " AT+CWSTAPROTO")
setting("CWAPPROTO", "approto", (Int(1, 7),), dialects="2", evidence=DOC2 + " AT+CWAPPROTO")


# --- provisioning: accepted, but no phone ever answers in the fake -------------------------------------------------

@command("CWSTARTSMART", "exec", evidence=DOC1 + " AT+CWSTARTSMART; " + DOC2 + " AT+CWSTARTSMART")
def cwstartsmart(call: Call) -> None:
    _station_on(call)
    call.ok()


@command("CWSTARTSMART", "set", args=(Int(1, 3), Int(0, 4)), required=1)
def cwstartsmart_typed(call: Call) -> None:
    """The same with the provisioning type (and 2.x's auth floor) given: none is acted on in the fake."""
    _station_on(call)
    call.ok()


@command("CWSTOPSMART", "exec", evidence=DOC1 + " AT+CWSTOPSMART; " + DOC2 + " AT+CWSTOPSMART")
def cwstopsmart(call: Call) -> None:
    call.ok()


@command("WPS", "set", args=(Int(0, 1), Int(0, 1)), required=1, evidence=DOC1 + " AT+WPS; " + DOC2 + " AT+WPS")
def wps(call: Call) -> None:
    if call.args[0]:
        _station_on(call)
    call.ok()


@command("MDNS", "set", args=(Int(0, 1), Str(32, 1), Str(32, 1), Int(1, 65535)), required=1,
         evidence=DOC1 + " AT+MDNS; " + DOC2 + " AT+MDNS")
def mdns(call: Call) -> None:
    if call.args[0] and len(call.args) != 4:
        raise Refusal(code=E_COUNT)
    call.module.state.set("mdns", call.args if call.args[0] else None)
    call.ok()
