"""The compiled Uno firmware, run in simavr and wired to the fake ESP-01 (see harness.py)."""
from .harness import HarnessError, Uno, build_harness

__all__ = ["HarnessError", "Uno", "build_harness"]
