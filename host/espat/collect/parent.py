"""Worker processes end with the process that started them: a `--workers N` collector whose parent is killed
(SIGKILL, the OOM killer) must not leave its workers serving on the port, where the next start fails "address in
use". On Linux the kernel sends the worker SIGTERM when its parent dies (prctl PR_SET_PDEATHSIG); elsewhere a
thread watches the parent's pid. SIGTERM is the worker's ordinary stop: it finishes what is in flight and commits.
"""
from __future__ import annotations

import os
import signal
import sys
import threading

__all__ = ["PARENT_ENV", "die_with_parent"]

PARENT_ENV = "ESPAT_COLLECT_PARENT"
PR_SET_PDEATHSIG = 1
WATCH_S = 1.0


def _prctl_deathsig() -> bool:
    if not sys.platform.startswith("linux"):
        return False
    import ctypes
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        return libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) == 0
    except (OSError, AttributeError):
        return False


def _watch(parent: int) -> None:
    stop = threading.Event()
    while not stop.wait(WATCH_S):
        if os.getppid() != parent:
            os.kill(os.getpid(), signal.SIGTERM)
            return


def die_with_parent(parent: int) -> None:
    """Makes this process get SIGTERM when `parent` (the pid that started it) is gone."""
    if not _prctl_deathsig():
        threading.Thread(target=_watch, args=(parent,), name="espat-collect-parent", daemon=True).start()
    if os.getppid() != parent:       # it died before the kernel was told to watch it
        os.kill(os.getpid(), signal.SIGTERM)
