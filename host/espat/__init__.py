"""espat: drive an ESP-01 (ESP8266 AT firmware) from Python, and the sans-I/O AT protocol core under it.

The core never touches a port: `Parser` turns the module's bytes into `events`, `commands` and `framing` turn
requests into exact bytes, `dialects` holds what differs between AT 1.7 and 2.x.
"""
from .dialects import AT1, AT2, Dialect
from .errors import EspAtError, LocalProtocolError, RemoteProtocolError
from .parser import Parser

__version__ = "0.1.0"
__all__ = ["AT1", "AT2", "Dialect", "EspAtError", "LocalProtocolError", "RemoteProtocolError", "Parser"]
