"""--log FILE: a timestamped, annotated transcript of what crossed the wire, passwords already redacted.

    [  0.000412] -> AT+CWJAP_CUR="HomeNet","***"\\r\\n      host to module, one command line or payload
    [  2.001377] <- WIFI CONNECTED\\r\\n                     module to host, as the module said it
    [  2.101377] !! drop-up: byte 57 (0x48) lost                  what a fault did to a byte on the line
"""
from __future__ import annotations

import threading
import time

from ..logtext import escape_bytes, redact

__all__ = ["Transcript"]


class Transcript:
    def __init__(self, path: str) -> None:
        self._file = open(path, "w", encoding="utf-8")
        self._start = time.monotonic()
        self._lock = threading.Lock()

    def write(self, direction: str, data: bytes) -> None:
        # Both ways: the host's join line, and the module's echo of it or its +CWSAP: answer, carry a password.
        data = redact(data)
        with self._lock:
            if self._file.closed:
                return
            self._file.write(f"[{time.monotonic() - self._start:10.6f}] {direction} {escape_bytes(data)}\n")
            self._file.flush()

    def close(self) -> None:
        with self._lock:
            self._file.close()
