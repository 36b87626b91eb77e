"""The TCP/IP chapter's services: name lookup (CIPDOMAIN, CIPDNS), PING, SNTP time, 2.x's reconnect interval.

Names resolve through the fake's host map only (config.hosts); nothing leaves loopback. Evidence: ESP8266 AT
Instruction Set v3.0 (AT 1.7) §5 and esp-at 2.2 TCP-IP_AT_Commands.rst, each command's section.
"""
from __future__ import annotations

import asyncio
import time

from ..profiles import OK
from .registry import E_COUNT, E_VALUE, IP, Call, Int, Refusal, Str, command
from .settings import setting, show

__all__ = []

DOC1 = "ESP8266 AT Instruction Set v3.0 (AT 1.7) §5"
DOC2 = "esp-at 2.2 TCP-IP_AT_Commands.rst"


def _lookup(module, host: str):
    """The address a name resolves to in the host map (any port's entry), or None."""
    if module.config.knows_name(host):
        for key, (ip, _) in module.config.hosts.items():
            if key == host.lower() or key.rsplit(":", 1)[0] == host.lower():
                return ip
    return None


def _joined(call: Call) -> None:
    if call.module.joined is None:
        raise Refusal("no ip")


@command("CIPDOMAIN", "set", args={1: (Str(64, 1),), 2: (Str(64, 1), Int(1, 3))}, required=1, long=True,
         evidence=DOC1 + " AT+CIPDOMAIN; " + DOC2 + " AT+CIPDOMAIN")
async def cipdomain(call: Call) -> None:
    module = call.module
    _joined(call)
    await asyncio.sleep(module.config.latency("dns"))
    ip = _lookup(module, call.args[0])
    if ip is None:
        raise Refusal("DNS Fail")
    call.reply(ip if module.profile.major == 1 else f'"{ip}"')


@command("CIPDNS", "query", suffixed="only", evidence=DOC1 + " AT+CIPDNS_CUR/_DEF; " + DOC2 + " AT+CIPDNS")
def cipdns_query(call: Call) -> None:
    state = call.module.state
    enabled, *servers = state.saved("dns") if call.query_saved else state["dns"]
    servers = [s for s in servers if s]
    if call.module.profile.major == 1:
        call.reply(*servers)
    else:
        call.reply(",".join([str(enabled)] + [f'"{s}"' for s in servers]))


@command("CIPDNS", "set", args=(Int(0, 1), IP, IP, IP), required=1, suffixed="only")
def cipdns(call: Call) -> None:
    state, major = call.module.state, call.module.profile.major
    args = call.args
    if args[0] == 0:
        if len(args) > 1:
            raise Refusal(code=E_COUNT)
        value = state.default("dns")
    else:
        if len(args) < 2 or len(args) > (3 if major == 1 else 4) or len(set(args[1:])) != len(args) - 1:
            raise Refusal(code=E_VALUE)
        value = (1,) + tuple(args[1:]) + ("",) * (3 - len(args))
    state.set("dns", value, call.persist)
    call.ok()


@command("PING", "set", args=(Str(64, 1),), long=True, evidence=DOC1 + " AT+PING; " + DOC2 + " AT+PING")
async def ping(call: Call) -> None:
    module = call.module
    major = module.profile.major
    _joined(call)
    host = call.args[0]
    reachable = _lookup(module, host) is not None or any(ip == host for ip, _ in module.config.hosts.values())
    await asyncio.sleep(module.config.latency("connect"))
    if not reachable:
        call.emit((b"+timeout\r\n" if major == 1 else b"+PING:TIMEOUT\r\n") + b"\r\nERROR\r\n")
        return
    ms = max(1, round(1000 * module.config.latency("connect")))
    call.emit((b"+%d\r\n" if major == 1 else b"+PING:%d\r\n") % ms + OK)


def _zone(call: Call, zone: int) -> None:
    if -12 <= zone <= 14:
        return
    hours, minutes = divmod(abs(zone), 100)     # 2.x also takes a UTC offset written [+|-]hhmm
    if call.module.profile.major == 1 or not -12 <= hours <= 14 or minutes > 59:
        raise Refusal(code=E_VALUE)


@command("CIPSNTPCFG", "query", evidence=DOC1 + " AT+CIPSNTPCFG (timezone -11..13); " + DOC2
         + " AT+CIPSNTPCFG (timezone required; servers given replace the three defaults)")
def cipsntpcfg_query(call: Call) -> None:
    enabled, zone, *servers = call.module.state["sntp"]
    if not enabled and call.module.profile.major == 1:
        call.reply("0")                 # 1.7.6's format for the off state is "%s:0" alone
        return
    call.reply(show((enabled, zone) + tuple(s for s in servers if s)))


@command("CIPSNTPCFG", "set", args={1: (Int(0, 1), Int(-11, 13), Str(64, 1), Str(64, 1), Str(64, 1)),
                                   2: (Int(0, 1), Int(-1259, 1459), Str(64, 1), Str(64, 1), Str(64, 1))},
         required={1: 1, 2: 2})
def cipsntpcfg(call: Call) -> None:
    state = call.module.state
    args = call.args
    zone = args[1] if len(args) > 1 else state.default("sntp")[1]
    _zone(call, zone)
    servers = tuple(s for s in args[2:] if s is not None)
    if not servers:
        servers = state.default("sntp")[2:]
    state.set("sntp", (args[0], zone) + servers + ("",) * (3 - len(servers)))
    call.ok()


@command("CIPSNTPTIME", "query", evidence=DOC1 + " AT+CIPSNTPTIME; " + DOC2 + " AT+CIPSNTPTIME")
def cipsntptime(call: Call) -> None:
    enabled, zone = call.module.state["sntp"][:2]
    offset = zone * 3600 if -12 <= zone <= 14 else (1 if zone > 0 else -1) * (abs(zone) // 100 * 3600
                                                                              + abs(zone) % 100 * 60)
    now = time.time() + offset if enabled and call.module.joined else 0
    call.reply(time.strftime("%a %b %d %H:%M:%S %Y", time.gmtime(now)))


setting("CIPRECONNINTV", "reconnintv", (Int(1, 36000),), dialects="2", evidence=DOC2 + " AT+CIPRECONNINTV")
