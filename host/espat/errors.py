"""Whose fault it was.

LocalProtocolError: you asked the core to build a frame the module cannot take (a link id of 7, a CR in an SSID).
RemoteProtocolError: the module sent something the protocol does not allow (a `Recv 5 bytes` after 6 were sent).
The client adds its own errors for a module that said no or did not answer; they all derive from EspAtError.
"""
from __future__ import annotations

__all__ = ["EspAtError", "LocalProtocolError", "RemoteProtocolError"]


class EspAtError(Exception):
    """Base of every error espat raises on purpose."""


class LocalProtocolError(EspAtError, ValueError):
    """The caller asked for something the AT protocol cannot express."""


class RemoteProtocolError(EspAtError):
    """The module's bytes break the protocol."""
