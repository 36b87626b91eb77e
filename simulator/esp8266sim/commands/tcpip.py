"""The firmware's "TCP/IP AT Commands" chapter, links part: CIPMUX, CIPSTART(EX), CIPSEND(EX), CIPCLOSE, status,
server, receive modes, CIFSR. Names, DNS, ping and time are in services.py.

Evidence: the protocol notes §3-§6 (bytes tagged [fw]/[log]), ESP8266 AT Instruction Set v3.0 (AT 1.7) §5,
esp-at 2.2 TCP-IP_AT_Commands.rst. 1.x's reason lines (`link is not valid`, `MUX=0` ...) come before ERROR.
"""
from __future__ import annotations

import asyncio
import re
from typing import List, Optional, Tuple

from ..datamode import MAX_SEND
from ..links import Link, LinkError, Server
from ..netstack import SendBuffer
from ..profiles import OK
from .registry import ANY_INT, E_COUNT, E_VALUE, Anything, Call, Int, OneOf, Refusal, Str, command, on_auto_join
from .settings import setting
from .ssl import tls_settings
from .wifi import station_address

__all__ = []

DOC1 = "ESP8266 AT Instruction Set v3.0 (AT 1.7) §5"
DOC2 = "esp-at 2.2 TCP-IP_AT_Commands.rst"


def _is_ip(host: str) -> bool:
    return re.fullmatch(r"\d{1,3}(\.\d{1,3}){3}", host) is not None


def link_id(call: Call, numbers_after: int) -> Tuple[int, tuple]:
    """Split a leading link id off the arguments as CIPMUX says, refusing with the firmware's words.

    `numbers_after` is how many numbers the command takes after the id: with CIPMUX=0, one number more than that
    at the front is a link id the firmware refuses (`MUX=0`)."""
    args = call.args
    if call.module.state["mux"]:
        if not args or not isinstance(args[0], int) or (numbers_after and len(args) < 2) \
                or (not numbers_after and len(args) > 1 and not isinstance(args[1], str)):
            raise Refusal("MUX=1")
        if not 0 <= args[0] <= 4:
            raise Refusal("ID ERROR")
        return args[0], args[1:]
    leading = 0
    while leading < len(args) and isinstance(args[leading], int):
        leading += 1
    if args and isinstance(args[0], int) and (leading > numbers_after or numbers_after == 0):
        raise Refusal("MUX=0")
    return 0, args


def by_mux(numbers_after: int):
    """The `before` rule of a command whose link id leads its arguments under CIPMUX=1 (see link_id)."""
    return lambda call: link_id(call, numbers_after)


def mux_only(call: Call) -> Tuple[int, tuple]:
    """The `before` rule of a set form that exists under CIPMUX=1 only (its link id is its first argument)."""
    if not call.module.state["mux"]:
        raise Refusal("MUX=0")
    return 0, call.args


# --- modes ----------------------------------------------------------------------------------------------------------

def _mux_check(call: Call, value: int) -> None:
    net = call.module.net
    if bool(value) != bool(call.module.state["mux"]) and (net.links or net.server is not None):
        raise Refusal("link is builded")
    if value == 1 and call.module.state["cipmode"]:
        raise Refusal("IPMODE=1")


def _cipmode_check(call: Call, value: int) -> None:
    if value and (call.module.state["mux"] or call.module.net.server is not None):
        raise Refusal("MUX=1" if call.module.state["mux"] else "")


setting("CIPMUX", "mux", (Int(0, 1),), check=_mux_check, evidence="notes §3.1")
setting("CIPMODE", "cipmode", (Int(0, 1),), check=_cipmode_check, evidence="notes §4.4; " + DOC1 + " AT+CIPMODE")
setting("CIPRECVMODE", "recvmode", (Int(0, 1),), evidence="notes §5.2")
setting("CIPDINFO", "dinfo", (Int(0, 1),), "set", evidence="notes §5.1; " + DOC2 + " AT+CIPDINFO (set form only)")
setting("CIPSERVERMAXCONN", "server_max", (Int(1, 5),), evidence="notes §6")


def _sto_check(call: Call, value: int) -> None:
    if not call.module.state["mux"]:
        raise Refusal()


setting("CIPSTO", "server_timeout", (Int(0, 7200),), check=_sto_check, evidence="notes §6; " + DOC1 + " AT+CIPSTO")


# --- opening links --------------------------------------------------------------------------------------------------

def _start_args(call: Call, auto_id: bool) -> tuple:
    module = call.module
    if auto_id:
        if not module.state["mux"]:
            lid, rest = 0, call.args
        else:
            free = [i for i in range(5) if i not in module.net.links]
            if not free:
                raise Refusal("ALREADY CONNECTED")
            lid, rest = free[0], call.args
    else:
        lid, rest = link_id(call, 0)
    if len(rest) < 3 or not isinstance(rest[0], str) or not isinstance(rest[1], str) or not isinstance(rest[2], int):
        raise Refusal(code=E_COUNT)
    kind, host, port = rest[0].upper(), rest[1], rest[2]
    # after the port: TCP/SSL [keep alive], UDP [local port, mode]; 2.x adds a last "local IP"
    numbers = 2 if kind == "UDP" else 1
    tail = list(rest[3:])
    if module.profile.major >= 2 and len(tail) == numbers + 1 and isinstance(tail[-1], str):
        tail.pop()
    if len(tail) > numbers or not all(a is None or isinstance(a, int) for a in tail):
        raise Refusal(code=E_COUNT)
    if kind not in ("TCP", "UDP", "SSL"):
        raise Refusal("Link type ERROR")
    if not 1 <= port <= 65535 or not host or len(host) > 64:
        raise Refusal("IP ERROR")
    if lid in module.net.links:
        raise Refusal("ALREADY CONNECTED")
    if kind == "SSL" and any(link.kind == "SSL" for link in module.net.links.values()):
        raise Refusal()                                             # one SSL link on an ESP8266 [notes 3.1]
    if kind != "UDP" and tail and tail[0] is not None and not 0 <= tail[0] <= 7200:
        raise Refusal(code=E_VALUE)
    if module.joined is None and module.state["sta_ip"] is None:
        raise Refusal("no ip")
    local_port = tail[0] if kind == "UDP" and tail else None
    return lid, kind, host, port, local_port


async def _open(call: Call, auto_id: bool) -> None:
    module = call.module
    lid, kind, host, port, local_port = _start_args(call, auto_id)
    if not _is_ip(host):
        await asyncio.sleep(module.config.latency("dns"))
        if not module.config.knows_name(host):
            raise Refusal("DNS Fail")
    target = module.config.resolve(host, port)
    await asyncio.sleep(module.config.latency("connect"))
    if target is None or module.tcp_wedged:     # a wedged stack (tcp-wedged) sends nothing either
        await asyncio.sleep(min(10.0, 100 * module.config.latency("connect")))     # SYNs go unanswered
        call.emit(b"\r\nERROR\r\n" + module.net.closed_line(lid))
        return
    tls = tls_settings(module) if kind == "SSL" else None
    if tls is not None and tls.verify and not tls.ca_pem:
        # asked to check the server's certificate with no CA to check it against: the handshake fails
        await asyncio.sleep(3 * module.config.latency("rtt"))
        call.emit(b"\r\nERROR\r\n" + module.net.closed_line(lid))
        return
    link = Link(lid, kind, host, port, module.net, rtt=module.config.latency("rtt"), tls=tls)
    try:
        await link.open(target, local_port)
    except LinkError:
        call.emit(b"\r\nERROR\r\n" + module.net.closed_line(lid))
        return
    module.net.opened(link)
    call.emit(module.net.connect_line(lid) + OK)
    link.start_reading()


@command("CIPSTART", "set", long=True, evidence="notes §3.2; " + DOC1 + " AT+CIPSTART")
async def cipstart(call: Call) -> None:
    await _open(call, auto_id=False)


@command("CIPSTARTEX", "set", dialects="2", long=True, evidence=DOC2 + " AT+CIPSTARTEX")
async def cipstartex(call: Call) -> None:
    await _open(call, auto_id=True)


# --- sending --------------------------------------------------------------------------------------------------------

def _send(call: Call, ex: bool) -> None:
    """The length's range is checked after the link; UDP's remote host and port come together or not at all."""
    module = call.module
    lid, rest = call.link, call.args
    if len(rest) == 2:
        raise Refusal(code=E_COUNT)
    length = rest[0]
    link = module.net.links.get(lid)
    if link is None:
        raise Refusal("link is not valid")
    if length > MAX_SEND:
        raise Refusal("too long")
    if length < 1 or (len(rest) == 3 and link.kind != "UDP"):
        raise Refusal(code=E_VALUE)
    module.data.expect(link, length, ex=ex)


SEND_ARGS = dict(before=by_mux(1), args=(Int(*ANY_INT, wrong=E_COUNT), Anything(), Anything()), required=1)


@command("CIPSEND", "set", **SEND_ARGS, evidence="notes §4.1, §4.4; " + DOC1 + " AT+CIPSEND")
def cipsend(call: Call) -> None:
    _send(call, ex=False)


@command("CIPSEND", "exec")
def cipsend_passthrough(call: Call) -> None:
    """CIPMODE=1 with link 0 open: every byte from the host goes to it from now on."""
    module = call.module
    if not module.state["cipmode"] or module.state["mux"] or 0 not in module.net.links:
        raise Refusal()
    module.data.start_passthrough(module.net.links[0])


@command("CIPSENDEX", "set", **SEND_ARGS, evidence=DOC1 + " AT+CIPSENDEX (\\0 ends the data); " + DOC2 + " AT+CIPSENDEX")
def cipsendex(call: Call) -> None:
    _send(call, ex=True)


# --- closing --------------------------------------------------------------------------------------------------------

@command("CIPCLOSE", "set", before=mux_only, args=(Int(0, 5, wrong=E_COUNT),), evidence="notes §3.4")
def cipclose(call: Call) -> None:
    """CIPMUX=1: `=<link ID>`, 5 for all of them."""
    net = call.module.net
    lid = call.args[0]
    targets = list(net.links.values()) if lid == 5 else [net.links[lid]] if lid in net.links else []
    if not targets and lid != 5:
        raise Refusal("UNLINK")
    _close(call, targets)


@command("CIPCLOSE", "exec")
def cipclose_the_link(call: Call) -> None:
    """CIPMUX=0: the one link."""
    net = call.module.net
    if call.module.state["mux"]:
        raise Refusal("MUX=1")
    if 0 not in net.links:
        raise Refusal("UNLINK")
    _close(call, [net.links[0]])


def _close(call: Call, targets: List[Link]) -> None:
    net = call.module.net
    out = b""
    for link in sorted(targets, key=lambda lk: lk.id):
        link.abort()
        net.links.pop(link.id, None)
        out += net.closed_line(link.id)
    call.emit(out + OK)


@command("CIPCLOSEMODE", "set", dialects="1",
         before=by_mux(1), args=(OneOf((0, 1), wrong=E_VALUE),), miscount=E_VALUE,
         evidence=DOC1 + " AT+CIPCLOSEMODE; esp-at AT_Command_Set_Comparison.rst (NONOS only, not in ESP-AT)")
def cipclosemode(call: Call) -> None:
    modes = list(call.module.state["closemode"])
    modes[call.link] = call.args[0]
    call.module.state.set("closemode", tuple(modes))
    call.ok()


# --- status ---------------------------------------------------------------------------------------------------------

def _link_lines(call: Call, name: bytes) -> bytes:
    return b"".join(b'+%s:%d,"%s","%s",%d,%d,%d\r\n' % (
        name, link.id, link.kind.encode(), link.remote_ip.encode(), link.remote_port, link.local_port,
        int(link.incoming)) for link in sorted(call.module.net.links.values(), key=lambda lk: lk.id))


@command("CIPSTATUS", "exec", evidence="notes §3.3")
def cipstatus(call: Call) -> None:
    module = call.module
    if module.joined is None:
        status = 5 if module.profile.major == 1 or module.ram.get("wifi_started") else 1
    elif module.net.links:
        status = 3
    else:
        status = 4 if module.net.had_link else 2
    call.emit(b"STATUS:%d\r\n" % status + _link_lines(call, b"CIPSTATUS") + OK)


@command("CIPSTATE", "query", dialects="2", evidence="notes §3.3; " + DOC2 + " AT+CIPSTATE")
def cipstate(call: Call) -> None:
    call.emit(_link_lines(call, b"CIPSTATE") + OK)


@command("CIFSR", "exec", evidence="notes §2.3")
def cifsr(call: Call) -> None:
    module, state = call.module, call.module.state
    out = b""
    if state["mode"] in (2, 3):
        out += b'+CIFSR:APIP,"%s"\r\n+CIFSR:APMAC,"%s"\r\n' % (state["ap_ip"][0].encode(), state["ap_mac"].encode())
    if state["mode"] in (1, 3):
        ip = station_address(module)[0]
        out += b'+CIFSR:STAIP,"%s"\r\n+CIFSR:STAMAC,"%s"\r\n' % (ip.encode(), state["sta_mac"].encode())
    call.emit(out + OK)


# --- server ---------------------------------------------------------------------------------------------------------

@command("CIPSERVER", "set", long=True, required=1,
         args=(Int(*ANY_INT, wrong=E_COUNT), Int(*ANY_INT, wrong=E_COUNT), Anything(), Anything()),
         evidence="notes §6; " + DOC1 + " AT+CIPSERVER; MaJerle/ESP8266_AT_Commands_parser#50 (no change)")
async def cipserver(call: Call) -> None:
    """The mode's and port's ranges are checked after CIPMUX (a wrong count or type first, then `MUX=0`)."""
    module = call.module
    net = module.net
    if len(call.args) > 1 and call.args[1] is None:
        raise Refusal(code=E_COUNT)             # the port may be left out, not left empty
    if not module.state["mux"]:
        raise Refusal("MUX=0")
    if call.args[0] == 0:
        if net.server is None:
            # 1.x says so (a capture, and "no change" in the 1.7.6 strings); 2.x has no such line
            call.emit((b"no change\r\n" if module.profile.detail_lines else b"") + OK)
            return
        net.server.close()
        net.server = None
        if len(call.args) > 1 and call.args[1] == 1:
            net.drop_all()
        call.ok()
        return
    if call.args[0] != 1:
        raise Refusal(code=E_VALUE)
    port = call.args[1] if len(call.args) > 1 else 333
    if not 1 <= port <= 65535:
        raise Refusal(code=E_VALUE)
    if net.server is not None:
        call.emit(b"no change\r\n" + OK)
        return
    server = Server(module.net, port, rtt=module.config.latency("rtt"))
    try:
        await server.start()
    except OSError:
        raise Refusal() from None
    net.server = server
    call.ok()


@command("CIPSERVER", "query", dialects="2", long=True)
async def cipserver_query(call: Call) -> None:
    server = call.module.net.server
    call.reply(f'1,{server.port},"TCP"' if server else "0")     # 2.2 strings: "%s:%d,%d,\"%s\"", no CA field


# --- passive receive ------------------------------------------------------------------------------------------------

@command("CIPRECVDATA", "set", before=by_mux(1), args=(Int(1, MAX_SEND, wrong=E_VALUE),), miscount=E_VALUE,
         evidence="notes §5.2, §10.3")
def ciprecvdata(call: Call) -> None:
    module, profile = call.module, call.module.profile
    lid, rest = call.link, call.args
    link: Optional[Link] = module.net.buffered(lid)
    if link is None or not link.buffer:
        raise Refusal()
    data = link.take(rest[0])
    head = profile.recvdata_head.format(len=len(data)).encode()
    if profile.recvdata_dinfo and module.state["dinfo"]:
        head = head + b'"%s",%d,' % (link.remote_ip.encode(), link.remote_port)
    call.emit(head + data + OK)
    link.drained()


@command("CIPRECVLEN", "query", evidence="notes §5.2, §8")
def ciprecvlen(call: Call) -> None:
    module = call.module
    values = []
    for i in range(5):
        link = module.net.buffered(i)
        values.append(str(len(link.buffer)) if link is not None else str(module.profile.recvlen_idle))
    call.reply(",".join(values))


# --- passthrough across a reset -------------------------------------------------------------------------------------

@on_auto_join
async def resume_passthrough(module) -> None:
    """Power-up with a saved passthrough link (AT+SAVETRANSLINK) once the AP is joined: link 0 opens to the saved
    peer and every byte from the host goes to it, with no command and no prompt (CIPMODE reads 1)."""
    if module.state["savetranslink"] is None:
        return
    kind, host, port, extra = module.state["savetranslink"]
    target = module.config.resolve(host, port) if _is_ip(host) or module.config.knows_name(host) else None
    if target is None:
        return                          # the peer cannot be reached: the module stays in command mode
    link = Link(0, kind, host, port, module.net, rtt=module.config.latency("rtt"),
                tls=tls_settings(module) if kind == "SSL" else None)
    try:
        await link.open(target, extra if kind == "UDP" and extra else None)
    except LinkError:
        return
    module.state.set("cipmode", 1)
    module.net.opened(link)
    link.start_reading()
    module.data.start_passthrough(link, prompt=False)


@command("SAVETRANSLINK", "set", args=(Int(0, 1), Str(64, 1), Int(1, 65535), Str(3, 3), Int(0, 7200)), required=1,
         evidence=DOC1 + " AT+SAVETRANSLINK; " + DOC2 + " AT+SAVETRANSLINK")
def savetranslink(call: Call) -> None:
    args = call.args
    if args[0] == 0:
        call.module.state.set("savetranslink", None)
    else:
        if len(args) < 3:
            raise Refusal(code=E_COUNT)
        kind = args[3].upper() if len(args) > 3 else "TCP"
        if kind not in ("TCP", "UDP", "SSL"):
            raise Refusal(code=E_VALUE)
        call.module.state.set("savetranslink", (kind, args[1], args[2], args[4] if len(args) > 4 else 0))
    call.ok()


# --- 1.x's TCP send buffer: CIPSENDBUF queues a segment, the others report on the queue --------------------------

SEND_BUFFER = 2920                  # lwIP's TCP send buffer on the ESP8266 (2 x 1460)
QUEUE = 8
BUF_NOTE = ("; the lines around the prompt and SEND OK follow the document's templates, no capture seen")


def _tcp_link(call: Call, lid: int) -> Link:
    link = call.module.net.links.get(lid)
    if link is None:
        raise Refusal("link is not valid")
    if link.kind != "TCP":
        raise Refusal()             # TCP only: not UDP, not SSL
    return link


@command("CIPSENDBUF", "set", dialects="1", before=by_mux(1), args=(Int(*ANY_INT, wrong=E_COUNT),),
         evidence=DOC1 + " AT+CIPSENDBUF (5.2.7)" + BUF_NOTE)
def cipsendbuf(call: Call) -> None:
    """The length's range is checked after the link (a bad link answers `link is not valid` first)."""
    lid, rest = call.link, call.args
    link = _tcp_link(call, lid)
    if not 1 <= rest[0] <= MAX_SEND:
        raise Refusal("too long" if rest[0] > MAX_SEND else "")
    buffer = call.module.net.send_buffer(lid)
    segment = buffer.take()
    call.module.data.expect(link, rest[0], segment=segment, head=b"%d,%d\r\n" % (segment, buffer.sent_ok))


def _buf_link(call: Call, given: bool) -> int:
    """CIPBUFSTATUS / CIPBUFRESET: execute with CIPMUX=0, `=<link ID>` (`given`, its mux_only rule) with CIPMUX=1."""
    if not given and call.module.state["mux"]:
        raise Refusal("MUX=1")
    lid = call.args[0] if given else 0
    _tcp_link(call, lid)
    return lid


@command("CIPBUFSTATUS", "exec", dialects="1", evidence=DOC1 + " AT+CIPBUFSTATUS (5.2.9)")
def cipbufstatus(call: Call) -> None:
    _buf_status(call, _buf_link(call, given=False))


@command("CIPBUFSTATUS", "set", dialects="1", before=mux_only, args=(Int(*ANY_INT, wrong=E_COUNT),))
def cipbufstatus_of(call: Call) -> None:
    _buf_status(call, _buf_link(call, given=True))


def _buf_status(call: Call, lid: int) -> None:
    buffer = call.module.net.send_buffer(lid)
    call.emit(b"%d,%d,%d,%d,%d\r\n" % (buffer.following, buffer.sent, buffer.sent_ok, SEND_BUFFER, QUEUE) + OK)


@command("CIPCHECKSEQ", "set", dialects="1", before=by_mux(1), args=(Int(*ANY_INT, wrong=E_COUNT),),
         evidence=DOC1 + " AT+CIPCHECKSEQ (5.2.10)")
def cipcheckseq(call: Call) -> None:
    lid, rest = call.link, call.args
    _tcp_link(call, lid)
    results = call.module.net.send_buffer(lid).results
    if rest[0] not in results:
        raise Refusal()
    prefix = b"%d," % lid if call.module.state["mux"] else b""
    call.emit(prefix + b"%d,%s\r\n" % (rest[0], b"TRUE" if results[rest[0]] else b"FALSE") + OK)


@command("CIPBUFRESET", "exec", dialects="1", evidence=DOC1 + " AT+CIPBUFRESET (5.2.8)")
def cipbufreset(call: Call) -> None:
    _buf_reset(call, _buf_link(call, given=False))


@command("CIPBUFRESET", "set", dialects="1", before=mux_only, args=(Int(*ANY_INT, wrong=E_COUNT),))
def cipbufreset_of(call: Call) -> None:
    _buf_reset(call, _buf_link(call, given=True))


def _buf_reset(call: Call, lid: int) -> None:
    if not call.module.net.send_buffer(lid).empty:
        raise Refusal()             # segments still wait to go out
    call.module.net.send_buffers[lid] = SendBuffer()
    call.ok()
