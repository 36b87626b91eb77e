"""The firmware's SSL commands: 1.x CIPSSLSIZE/CIPSSLCCONF, 2.x CIPSSLCCONF/CIPSSLCCN/CIPSSLCSNI/CIPSSLCALPN/
CIPSSLCPSK. They only configure; CIPSTART hands an "SSL" link (links.py) the result as `Link(..., tls=...)`, a
links.TlsSettings, and the link does the TLS itself. ALPN, PSK and the client certificate are kept and answered
but not applied to the handshake (TlsSettings has no field for them).

Evidence: ESP8266 AT Instruction Set v3.0 (AT 1.7) §5 AT+CIPSSLSIZE, AT+CIPSSLCCONF; esp-at 2.2
TCP-IP_AT_Commands.rst AT+CIPSSLC*; notes §3.1 (one SSL link, 1.x needs CIPSSLSIZE=4096 for most servers).
"""
from __future__ import annotations

from ..links import TlsSettings
from .registry import ANY_INT, E_COUNT, E_VALUE, Anything, Call, Int, Refusal, Str, command
from .settings import setting, show

__all__ = ["tls_settings"]

DOC1 = "ESP8266 AT Instruction Set v3.0 (AT 1.7) §5"
DOC2 = "esp-at 2.2 TCP-IP_AT_Commands.rst"


def tls_settings(module) -> TlsSettings:
    """What the module's SSL settings ask of the next "SSL" link. 1.x's CIPSSLCCONF bit 1 and 2.x's auth mode bit 1
    ask for the server's certificate to be checked; the fake keeps no CA (no PKI partition), so CIPSTART fails
    such a link's handshake (ERROR, CLOSED), as a module whose CA does not sign the server's chain would."""
    state = module.state
    auth = state["sslconf"] if module.profile.major == 1 else state["sslcconf"][0]
    return TlsSettings(verify=bool(auth & 2), ca_pem=None, sni=state["sslcsni"] or None,
                       buffer_size=state["sslsize"])


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
            raise Refusal(code=E_VALUE)
        return args[1:]
    return args


def ssl_link(call: Call) -> tuple:
    """_split_id as a command's `before` rule (the id itself is not kept: all links share one setting here); 1.x
    takes no link id."""
    return (0, call.args) if call.module.profile.major == 1 else (0, _split_id(call))


def _reply_per_link(call: Call, value: str) -> None:
    """2.x SSL queries print `<link ID>,` first: one line per link with CIPMUX=1 (all share one setting here)."""
    links = range(5) if call.module.state["mux"] else range(1)
    call.reply(*(f"{link},{value}" for link in links))


@command("CIPSSLCCONF", "query",
         evidence=DOC1 + " AT+CIPSSLCCONF=<SSL mode> (bit 0 client certificate, bit 1 check the server's); "
         + DOC2 + " AT+CIPSSLCCONF=[<link ID>,]<auth_mode>[,<pki_number>][,<ca_number>]")
def cipsslcconf_query(call: Call) -> None:
    state = call.module.state
    if call.module.profile.major == 1:
        call.reply(str(state["sslconf"]))
    else:
        _reply_per_link(call, show(state["sslcconf"]))


@command("CIPSSLCCONF", "set", before=ssl_link, required=1, miscount={1: E_COUNT, 2: E_VALUE},
         args={1: (Int(0, 3),), 2: (Int(0, 3, wrong=E_VALUE),) + (Int(*ANY_INT, wrong=E_VALUE),) * 2})
def cipsslcconf(call: Call) -> None:
    state = call.module.state
    if call.module.profile.major == 1:
        mode = call.args[0]
        _ssl_link_free(call, mode)
        state.set("sslconf", mode, True)
        call.ok()
        return
    rest = call.args
    if None in rest:
        raise Refusal(code=E_VALUE)     # the PKI and CA numbers may be left out, not left empty
    _ssl_link_free(call, rest)
    state.set("sslcconf", tuple(rest) + (0,) * (3 - len(rest)))
    call.ok()


def _text_setting(name: str, key: str, limit: int):
    @command(name, "query", dialects="2", chapter="ssl", evidence=DOC2 + " AT+" + name)
    def query(call: Call) -> None:
        _reply_per_link(call, show(call.module.state[key]))

    @command(name, "set", dialects="2", chapter="ssl", before=ssl_link, args=(Anything(),))
    def handler(call: Call) -> None:
        """The text's type and length are checked after the SSL link state (the firmware's order)."""
        state = call.module.state
        _ssl_link_free(call, call.args)
        state.set(key, Str(limit, 1).check(call.args[0]))
        call.ok()
    return handler


_text_setting("CIPSSLCCN", "sslccn", 64)
_text_setting("CIPSSLCSNI", "sslcsni", 64)


@command("CIPSSLCALPN", "query", dialects="2", evidence=DOC2 + " AT+CIPSSLCALPN")
def cipsslcalpn_query(call: Call) -> None:
    _reply_per_link(call, show(call.module.state["sslcalpn"]))


@command("CIPSSLCALPN", "set", dialects="2")
def cipsslcalpn(call: Call) -> None:
    state = call.module.state
    rest = _split_id(call)
    if not rest or not isinstance(rest[0], int) or rest[0] != len(rest) - 1 or rest[0] > 6:
        raise Refusal(code=E_COUNT)
    names = tuple(Str(64, 1).check(name) for name in rest[1:])
    _ssl_link_free(call, rest)
    state.set("sslcalpn", names)
    call.ok()


@command("CIPSSLCPSK", "query", dialects="2", evidence=DOC2 + " AT+CIPSSLCPSK")
def cipsslcpsk_query(call: Call) -> None:
    _reply_per_link(call, show(call.module.state["sslcpsk"]))


@command("CIPSSLCPSK", "set", dialects="2", before=ssl_link, args=(Str(32, 1, r"[0-9a-fA-F]+"), Str(32, 1)))
def cipsslcpsk(call: Call) -> None:
    state = call.module.state
    psk, hint = call.args
    _ssl_link_free(call, call.args)
    state.set("sslcpsk", (psk, hint))
    call.ok()
