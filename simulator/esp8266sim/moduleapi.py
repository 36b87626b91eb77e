"""What the module's parts see of it: NetStack and DataMode hold a `ModuleApi`, never the Module class.

module.py implements it. Its collaborators import this leaf file instead of the module, so the fake's imports run
one way, module -> netstack, datamode, commands -> moduleapi, with no circle (tests/arch checks it).
"""
from __future__ import annotations

import asyncio
from typing import Any, Callable, Coroutine, Optional, Protocol

from .config import SimConfig
from .faults import FaultPlan
from .profiles import Profile
from .state import State

__all__ = ["ModuleApi"]


class ModuleApi(Protocol):
    config: SimConfig
    profile: Profile                # the dialect's bytes
    state: State                    # settings, flash and RAM
    faults: FaultPlan               # what goes wrong, asked at each moment it can

    @property
    def loop(self) -> asyncio.AbstractEventLoop: ...

    def emit(self, data: bytes, then: Optional[Callable[[], None]] = None) -> None:
        """Bytes for the host; `then` runs once they are out of the UART."""

    def spawn(self, coro: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        """Run a task that a reset cancels."""

    def log_input(self, data: bytes) -> None:
        """Bytes from the host that were not a command line (a payload), for the transcript."""

    def reset(self, factory: bool = False, delay: Optional[float] = None, wake: bool = True) -> None: ...

    def lose_wifi(self) -> None: ...
