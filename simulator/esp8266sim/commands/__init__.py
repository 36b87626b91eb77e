"""The fake's AT commands, one module per chapter of the firmware's instruction set; importing this package
fills the registry (registry.REGISTRY)."""
from . import basic, services, ssl, tcpip, wifi  # noqa: F401

__all__ = []
