"""Faults as data: what goes wrong, and when. Deterministic for a given --seed.

Grammar: `KIND[:VALUE][@TRIGGER]`; TRIGGER is `send=N` (the Nth AT+CIPSEND, from 1), `cmd=N` (the Nth command
line), `t=SECONDS` (after the module started), `byte=N` (the Nth byte on that side of the wire, from 1) or absent
(always / at once).

| spec                    | what the host sees                                                              |
|-------------------------|---------------------------------------------------------------------------------|
| `drop:RATE`             | each byte module->host is lost with probability RATE (0-1)                      |
| `drop@byte=N`           | the Nth byte module->host is lost                                               |
| `corrupt:RATE`          | each byte module->host has one bit flipped with probability RATE                |
| `corrupt@byte=N`        | the Nth byte module->host has one bit flipped                                   |
| `drop-up:RATE`, `drop-up@byte=N`, `corrupt-up:RATE`, `corrupt-up@byte=N`                                  |
|                         | the same for bytes host->module: a command line or a CIPSEND payload loses or   |
|                         | changes a byte, and the module answers what it made of it                       |
| `wifi-lost@...`         | `WIFI DISCONNECT`, every link `N,CLOSED`; CWJAP joins again                      |
| `remote-close@send=N`   | the server closes the link right after the Nth send: `N,CLOSED`                 |
| `send-fail@send=N`      | the Nth send ends in `SEND FAIL` (the link broke), then `N,CLOSED`              |
| `busy:COUNT@cmd=N`      | COUNT command lines from the Nth on are answered `busy p...` and dropped        |
| `slow:SECONDS[@cmd=N]`  | answers (of the Nth command only, with a trigger) come SECONDS late             |
| `reset@send=N`          | the module reboots halfway through the Nth send's payload: noise, then `ready`  |
| `ap-silent[@cmd=N]`     | the access point never answers a join (every join, or the Nth command's):       |
|                         | `+CWJAP:1` (connection timeout), then the dialect's FAIL/ERROR                  |
| `ap-refuses[@cmd=N]`    | the access point turns the station away: `+CWJAP:4` (connection failed), then   |
|                         | the dialect's FAIL/ERROR                                                        |
| `tcp-wedged[@t=S]`      | the TCP stack wedges: AT answers, every CIPSTART waits and ends in ERROR,       |
|                         | CLOSED, until the module restarts (AT+RST, power)                               |
| `boot-garbage`          | every boot prints ROM-loader noise (74880 baud read at the AT rate) before      |
|                         | ready; a host that connects after a boot reads that boot's bytes first (with    |
|                         | its first write, or half a second after it connected), as a USB-serial          |
|                         | adapter's receive FIFO keeps what arrived while its port was closed             |
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Callable, Iterable, List, Optional, Tuple

__all__ = ["AfterSend", "ByteFaults", "CommandFaults", "Fault", "FaultError", "FaultPlan", "parse_fault", "KINDS",
           "BYTE_KINDS", "JOIN_TIMEOUT", "JOIN_FAILED"]

# kind -> (value type or None, triggers allowed)
KINDS = {
    "drop": (float, (None, "byte")),
    "corrupt": (float, (None, "byte")),
    "drop-up": (float, (None, "byte")),
    "corrupt-up": (float, (None, "byte")),
    "wifi-lost": (None, ("send", "cmd", "t")),
    "remote-close": (None, ("send",)),
    "send-fail": (None, ("send",)),
    "busy": (int, ("cmd",)),
    "slow": (float, (None, "cmd")),
    "reset": (None, ("send",)),
    "ap-silent": (None, (None, "cmd")),
    "ap-refuses": (None, (None, "cmd")),
    "tcp-wedged": (None, (None, "t")),
    "boot-garbage": (None, (None,)),
}
# the faults that act on bytes crossing the wire (wire.py), by the direction they act in
BYTE_KINDS = {"drop": "down", "corrupt": "down", "drop-up": "up", "corrupt-up": "up"}


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
    if value_type is not None and not colon and kind in BYTE_KINDS and trig.startswith("byte="):
        value_type = None           # `drop@byte=N` needs no rate
    if value_type is not None:
        if not colon:
            raise FaultError(f"fault {spec!r}: {kind} needs a value, as in {kind}:{'0.01' if value_type is float else '3'}")
        try:
            value = value_type(raw_value)
        except ValueError:
            raise FaultError(f"fault {spec!r}: {raw_value!r} is not a {value_type.__name__}") from None
        if kind in BYTE_KINDS and not 0 <= value <= 1:
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
            raise FaultError(f"fault {spec!r}: a trigger is send=N, cmd=N, byte=N (N from 1) or t=SECONDS")
    if trigger not in triggers or (kind in BYTE_KINDS and (value is None) == (trigger is None)):
        if kind in BYTE_KINDS:
            raise FaultError(f"fault {spec!r}: {kind} takes a rate ({kind}:0.01) or one byte ({kind}@byte=N)")
        allowed = ", ".join("none" if t is None else f"@{t}=N" for t in triggers)
        raise FaultError(f"fault {spec!r}: {kind} takes the trigger {allowed}")
    return Fault(kind, value, trigger, at)


class ByteFaults:
    """The byte faults of one direction of the wire ("down" module->host, "up" host->module).

    `fired` counts the bytes lost or changed, so a test can prove its fault happened; each one is also told to
    `log` (the --log transcript), so a reader sees which byte the line took."""

    def __init__(self, faults: Iterable[Fault], direction: str, seed: int,
                 log: Callable[[str, bytes], None] = lambda direction, note: None) -> None:
        self.log = log
        self.faults: List[Fault] = [f for f in faults if BYTE_KINDS.get(f.kind) == direction]
        self._rng = random.Random(seed ^ (0xD0 if direction == "down" else 0x0D))
        self.count = 0              # bytes that crossed so far (the byte=N trigger counts these)
        self.fired = 0

    def __call__(self, data: bytes) -> bytes:
        if not self.faults:
            self.count += len(data)
            return data
        out = bytearray()
        for byte in data:
            self.count += 1
            for fault in self.faults:
                hit = self.count == fault.at if fault.trigger == "byte" else self._rng.random() < fault.value
                if not hit:
                    continue
                self.fired += 1
                if fault.kind.startswith("drop"):
                    self.log("!!", b"%s: byte %d (0x%02x) lost" % (fault.kind.encode(), self.count, byte))
                    byte = -1
                    break
                flipped = byte ^ (1 << self._rng.randrange(8))
                self.log("!!", b"%s: byte %d 0x%02x became 0x%02x" % (fault.kind.encode(), self.count, byte, flipped))
                byte = flipped
            if byte >= 0:
                out.append(byte)
        return bytes(out)



# the reasons `+CWJAP:<n>` gives for a failed join (the instruction set's numbering)
JOIN_TIMEOUT, JOIN_FAILED = 1, 4


@dataclass(frozen=True)
class CommandFaults:
    """What the faults do to one command line."""
    busy: int = 0                   # this line and the busy - 1 after it are answered `busy p...` and dropped
    wifi_lost: bool = False         # the access point goes away
    hold: Optional[float] = None    # the answers come this many seconds late


@dataclass(frozen=True)
class AfterSend:
    """What the faults do once a send's SEND OK is out."""
    remote_close: bool = False      # the server closes the link
    wifi_lost: bool = False         # the access point goes away


class FaultPlan:
    """The module's faults (the wire's are ByteFaults), asked at each moment one can fire: a boot, a command line,
    a send, a join, a timer. The plan counts the command lines and the sends, so `cmd=N` and `send=N` are its own
    business; the one place that knows which kind acts where is this class."""

    def __init__(self, faults: Iterable[Fault]) -> None:
        self._faults: List[Fault] = [f for f in faults if f.kind not in BYTE_KINDS]
        self.commands = 0               # command lines taken so far (not those a busy fault swallowed)
        self.sends = 0                  # CIPSENDs that got their prompt so far

    def _firing(self, trigger: str, number: float, *kinds: str) -> List[Fault]:
        return [f for f in self._faults if f.kind in kinds and f.fires(trigger, number)]

    def on_boot(self) -> bool:
        """Whether a boot prints ROM-loader noise before `ready` (boot-garbage)."""
        return any(f.kind == "boot-garbage" for f in self._faults)

    def on_command(self) -> CommandFaults:
        """A command line came (and the module was not busy): count it; a busy fault wins over the others."""
        self.commands += 1
        busy = self._firing("cmd", self.commands, "busy")
        if busy:
            return CommandFaults(busy=int(busy[0].value))
        firing = self._firing("cmd", self.commands, "wifi-lost", "slow")
        holds = [f.value for f in self._faults if f.kind == "slow" and (f.trigger is None or f in firing)]
        return CommandFaults(wifi_lost=any(f.kind == "wifi-lost" for f in firing),
                             hold=holds[-1] if holds else None)

    def on_bare_line(self) -> CommandFaults:
        """A bare line end came: it is no command, so nothing counts it and no `cmd=N` fault fires on it; only a
        module slow to answer everything (`slow` without a trigger) is slow to answer it too."""
        holds = [f.value for f in self._faults if f.kind == "slow" and f.trigger is None]
        return CommandFaults(hold=holds[-1] if holds else None)

    def on_send(self) -> int:
        """A CIPSEND's prompt went out: count it; returns its number, for the hooks below."""
        self.sends += 1
        return self.sends

    def resets_during(self, send: int, received: int, length: int) -> bool:
        """Whether the module reboots now, `received` bytes into the `send`th payload of `length` (reset@send=N,
        halfway through; once)."""
        for fault in self._firing("send", send, "reset"):
            if received >= max(1, length // 2):
                self._faults.remove(fault)
                return True
        return False

    def send_fails(self, send: int) -> bool:
        """Whether the `send`th send ends in SEND FAIL (send-fail@send=N)."""
        return bool(self._firing("send", send, "send-fail"))

    def after_send(self, send: int) -> AfterSend:
        kinds = {f.kind for f in self._firing("send", send, "remote-close", "wifi-lost")}
        return AfterSend(remote_close="remote-close" in kinds, wifi_lost="wifi-lost" in kinds)

    def on_join(self, command: int) -> int:
        """The `+CWJAP:` reason an access-point fault gives the join that the `command`th line asked for; 0: none."""
        for fault in self._faults:
            if fault.kind in ("ap-silent", "ap-refuses") and (fault.trigger is None or fault.fires("cmd", command)):
                return JOIN_TIMEOUT if fault.kind == "ap-silent" else JOIN_FAILED
        return 0

    def timers(self, lose_wifi: Callable[[], None],
               wedge_tcp: Callable[[], None]) -> List[Tuple[float, Callable[[], None]]]:
        """(seconds after the start, what happens then) for the faults a timer fires."""
        out: List[Tuple[float, Callable[[], None]]] = []
        for fault in self._faults:
            if fault.kind == "wifi-lost" and fault.trigger == "t":
                out.append((float(fault.at), lose_wifi))
            if fault.kind == "tcp-wedged":
                out.append((float(fault.at or 0.0), wedge_tcp))
        return out
