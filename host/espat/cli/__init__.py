"""The `espat` command line: find, diagnose, configure and use an ESP-01 from a shell.

Each command lives in the module of its kind (raw, diagnose, wifi, http, tools) and is imported only when it
runs, so `espat --help` starts about as fast as Python itself. Exit statuses: see group.py.
"""
from .group import main

__all__ = ["main"]
