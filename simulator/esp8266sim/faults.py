"""Faults as data: what goes wrong, and when. Deterministic for a given --seed.

Grammar: `KIND[:VALUE][@TRIGGER]`; TRIGGER is `send=N` (the Nth AT+CIPSEND, from 1), `cmd=N` (the Nth command
line), `t=SECONDS` (after the module started) or absent (always / at once).

| spec                    | what the host sees                                                              |
|-------------------------|---------------------------------------------------------------------------------|
| `drop:RATE`             | each byte to the host is lost with probability RATE (0-1)                       |
| `corrupt:RATE`          | each byte to the host has one bit flipped with probability RATE                 |
| `wifi-lost@...`         | `WIFI DISCONNECT`, every link `N,CLOSED`; CWJAP joins again                      |
| `remote-close@send=N`   | the server closes the link right after the Nth send: `N,CLOSED`                 |
| `send-fail@send=N`      | the Nth send ends in `SEND FAIL` (the link broke), then `N,CLOSED`              |
| `busy:COUNT@cmd=N`      | COUNT command lines from the Nth on are answered `busy p...` and dropped        |
| `slow:SECONDS[@cmd=N]`  | answers (of the Nth command only, with a trigger) come SECONDS late             |
| `reset@send=N`          | the module reboots halfway through the Nth send's payload: noise, then `ready`  |
| `boot-garbage`          | every boot prints ROM-loader noise (74880 baud read at the AT rate) before ready |
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Optional

__all__ = ["Fault", "FaultError", "parse_fault", "KINDS"]

# kind -> (value type or None, triggers allowed)
KINDS = {
    "drop": (float, (None,)),
    "corrupt": (float, (None,)),
    "wifi-lost": (None, ("send", "cmd", "t")),
    "remote-close": (None, ("send",)),
    "send-fail": (None, ("send",)),
    "busy": (int, ("cmd",)),
    "slow": (float, (None, "cmd")),
    "reset": (None, ("send",)),
    "boot-garbage": (None, (None,)),
}


class FaultError(ValueError):
    """A fault spec that does not parse; the message is one line."""


@dataclass(frozen=True)
class Fault:
    kind: str
    value: Optional[float] = None
    trigger: Optional[str] = None       # "send", "cmd", "t" or None
    at: Optional[float] = None          # the trigger's number

    def fires(self, trigger: str, count: float) -> bool:
        return self.trigger == trigger and self.at == count


def parse_fault(spec: str) -> Fault:
    head, _, trig = spec.partition("@")
    kind, colon, raw_value = head.partition(":")
    if kind not in KINDS:
        raise FaultError(f"fault {spec!r}: unknown kind {kind!r}; known: {', '.join(sorted(KINDS))}")
    value_type, triggers = KINDS[kind]
    value = None
    if value_type is None and colon:
        raise FaultError(f"fault {spec!r}: {kind} takes no value")
    if value_type is not None:
        if not colon:
            raise FaultError(f"fault {spec!r}: {kind} needs a value, as in {kind}:{'0.01' if value_type is float else '3'}")
        try:
            value = value_type(raw_value)
        except ValueError:
            raise FaultError(f"fault {spec!r}: {raw_value!r} is not a {value_type.__name__}") from None
        if kind in ("drop", "corrupt") and not 0 <= value <= 1:
            raise FaultError(f"fault {spec!r}: a rate is between 0 and 1")
        if value < 0:
            raise FaultError(f"fault {spec!r}: the value must not be negative")
    trigger, at = None, None
    if trig:
        trigger, eq, number = trig.partition("=")
        try:
            at = float(number) if trigger == "t" else int(number)
        except ValueError:
            at = None
        if not eq or at is None or at < (0 if trigger == "t" else 1):
            raise FaultError(f"fault {spec!r}: a trigger is send=N, cmd=N (N from 1) or t=SECONDS")
    if trigger not in triggers:
        allowed = ", ".join("none" if t is None else f"@{t}=N" for t in triggers)
        raise FaultError(f"fault {spec!r}: {kind} takes the trigger {allowed}")
    return Fault(kind, value, trigger, at)
