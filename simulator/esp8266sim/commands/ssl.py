"""The firmware's SSL commands: 1.x CIPSSLSIZE/CIPSSLCCONF, 2.x CIPSSLCCONF/CIPSSLCCN/CIPSSLCSNI/CIPSSLCALPN/
CIPSSLCPSK. They only configure; an "SSL" link (links.py) gets the result as `link.tls`, a TlsSettings, before it
opens, and does the TLS itself.

Evidence: ESP8266 AT Instruction Set v3.0 (AT 1.7) §5 AT+CIPSSLSIZE, AT+CIPSSLCCONF; esp-at 2.2
TCP-IP_AT_Commands.rst AT+CIPSSLC*; notes §3.1 (one SSL link, 1.x needs CIPSSLSIZE=4096 for most servers).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Tuple

from .registry import Call, Int, Refusal, Str, command
from .settings import setting, show

__all__ = ["TlsSettings", "tls_settings"]

DOC1 = "ESP8266 AT Instruction Set v3.0 (AT 1.7) §5"
DOC2 = "esp-at 2.2 TCP-IP_AT_Commands.rst"


@dataclass(frozen=True)
class TlsSettings:
    """What an SSL link is to do, from the module's SSL settings when CIPSTART ran."""
    buffer_size: int = 2048             # 1.x CIPSSLSIZE: the TLS record buffer
    verify_server: bool = False         # check the server's certificate (auth mode bit 1, both dialects)
    client_cert: bool = False           # present a client certificate (bit 0)
    server_name: str = ""               # SNI; "" sends the host name given to CIPSTART
    common_name: str = ""               # 2.x CIPSSLCCN: the name the server certificate must carry
    alpn: Tuple[str, ...] = ()
    psk: Tuple[str, str] = ("", "")     # 2.x CIPSSLCPSK: (key in hex, hint)


def tls_settings(module, link_id: int) -> TlsSettings:
    state = module.state
    auth = state["sslconf"] if module.profile.major == 1 else state["sslcconf"][0]
    return TlsSettings(buffer_size=state["sslsize"], verify_server=bool(auth & 2), client_cert=bool(auth & 1),
                       server_name=state["sslcsni"], common_name=state["sslccn"], alpn=state["sslcalpn"],
                       psk=state["sslcpsk"])


def _ssl_link_free(call: Call, value) -> None:
    if any(link.kind == "SSL" for link in call.module.net.links.values()):
        raise Refusal()         # settings change only while no SSL link is open


setting("CIPSSLSIZE", "sslsize", (Int(2048, 4096),), "set", dialects="1", check=_ssl_link_free,
        evidence=DOC1 + " AT+CIPSSLSIZE; notes §3.1")


def _split_id(call: Call) -> tuple:
    """2.x: with CIPMUX=1 a leading link id (0-4, or 5 for all) comes first."""
    args = call.args
    if call.module.state["mux"]:
        if not args or not isinstance(args[0], int) or not 0 <= args[0] <= 5:
            raise Refusal(code=0x07)
        return args[1:]
    return args


def _reply_per_link(call: Call, value: str) -> None:
    """2.x SSL queries print `<link ID>,` first: one line per link with CIPMUX=1 (all share one setting here)."""
    links = range(5) if call.module.state["mux"] else range(1)
    call.reply(*(f"{link},{value}" for link in links))


@command("CIPSSLCCONF", "query set",
         evidence=DOC1 + " AT+CIPSSLCCONF=<SSL mode> (bit 0 client certificate, bit 1 check the server's); "
         + DOC2 + " AT+CIPSSLCCONF=[<link ID>,]<auth_mode>[,<pki_number>][,<ca_number>]")
def cipsslcconf(call: Call) -> None:
    state = call.module.state
    if call.module.profile.major == 1:
        if call.form == "query":
            call.reply(str(state["sslconf"]))
            return
        if len(call.args) != 1:
            raise Refusal(code=0x06)
        mode = Int(0, 3).check(call.args[0])
        _ssl_link_free(call, mode)
        state.set("sslconf", mode, True)
        call.ok()
        return
    if call.form == "query":
        _reply_per_link(call, show(state["sslcconf"]))
        return
    rest = _split_id(call)
    if not 1 <= len(rest) <= 3 or not all(isinstance(a, int) for a in rest) or not 0 <= rest[0] <= 3:
        raise Refusal(code=0x07)
    _ssl_link_free(call, rest)
    state.set("sslcconf", tuple(rest) + (0,) * (3 - len(rest)))
    call.ok()


def _text_setting(name: str, key: str, limit: int):
    @command(name, "query set", dialects="2", chapter="ssl", evidence=DOC2 + " AT+" + name)
    def handler(call: Call) -> None:
        state = call.module.state
        if call.form == "query":
            _reply_per_link(call, show(state[key]))
            return
        rest = _split_id(call)
        if len(rest) != 1:
            raise Refusal(code=0x06)
        _ssl_link_free(call, rest)
        state.set(key, Str(limit, 1).check(rest[0]))
        call.ok()
    return handler


_text_setting("CIPSSLCCN", "sslccn", 64)
_text_setting("CIPSSLCSNI", "sslcsni", 64)


@command("CIPSSLCALPN", "query set", dialects="2", evidence=DOC2 + " AT+CIPSSLCALPN")
def cipsslcalpn(call: Call) -> None:
    state = call.module.state
    if call.form == "query":
        _reply_per_link(call, show(state["sslcalpn"]))
        return
    rest = _split_id(call)
    if not rest or not isinstance(rest[0], int) or rest[0] != len(rest) - 1 or rest[0] > 6:
        raise Refusal(code=0x06)
    names = tuple(Str(64, 1).check(name) for name in rest[1:])
    _ssl_link_free(call, rest)
    state.set("sslcalpn", names)
    call.ok()


@command("CIPSSLCPSK", "query set", dialects="2", evidence=DOC2 + " AT+CIPSSLCPSK")
def cipsslcpsk(call: Call) -> None:
    state = call.module.state
    if call.form == "query":
        _reply_per_link(call, show(state["sslcpsk"]))
        return
    rest = _split_id(call)
    if len(rest) != 2:
        raise Refusal(code=0x06)
    psk, hint = Str(32, 1, r"[0-9a-fA-F]+").check(rest[0]), Str(32, 1).check(rest[1])
    _ssl_link_free(call, rest)
    state.set("sslcpsk", (psk, hint))
    call.ok()
