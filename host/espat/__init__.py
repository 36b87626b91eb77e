"""espat: drive an ESP-01 (ESP8266 AT firmware) from Python, and the sans-I/O AT protocol core under it.

The public API is what this module exports:

    from espat import EspAt, request, Response, Parser, Session, EspAtError, ModuleError, DataDamaged, ...

`EspAt` drives a module over any pyserial URL, `request` makes one HTTP exchange through it and returns a
`Response`; every error derives from `EspAtError` (errors.py says whose fault each is). The core under them never
touches a port: `Parser` turns the module's bytes into `events`, `Session` keeps a command's life and the links
from them (bytes in, replies out), `commands` and `framing` turn requests into exact bytes, `dialects` holds what
differs between AT 1.7 and 2.x. `cli` is the `espat` command (the [cli] extra).

Names are loaded on first use, so that `espat --help` does not pay for the protocol tables.
"""
from importlib import import_module

__version__ = "0.1.0"

_LAZY = {
    "AT1": "proto.dialects", "AT2": "proto.dialects", "Dialect": "proto.dialects", "Parser": "proto.parser",
    "Session": "proto.session",
    "EspAt": "client",
    "request": "httpclient", "Response": "httpclient",
    **{name: "errors" for name in (        # errors.__all__ (a test keeps the two alike)
        "EspAtError", "LocalProtocolError", "RemoteProtocolError", "ModuleError", "JoinError", "CommandTimeout",
        "BusyError", "LinkClosed", "DataDamaged", "DataLost", "IntegrityError", "BodyTruncated",
        "MalformedResponse", "HttpError", "DeliveryUnknown", "PortError", "PortBusy")},
}
__all__ = sorted(_LAZY)


def __getattr__(name: str):
    if name in _LAZY:
        value = getattr(import_module(f".{_LAZY[name]}", __name__), name)
        globals()[name] = value
        return value
    raise AttributeError(f"module 'espat' has no attribute {name!r}")
