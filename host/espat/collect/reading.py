"""One reading as the reporter sends it, checked: bytes in, a `Reading` or a `Rejected` (with its HTTP status) out.

The body follows the contract (contract.json: which fields are required or optional, the device rule), keys in
this order (any order is accepted):
{"device":"greenhouse-uno-1","incarnation":"1a2b3c4d","boot":3,"seq":17,"uptime_ms":60012,
 "readings":{"a0_c":21.5,"chip_c":30.1,"vcc_mv":4980},"dropped":0,"age_ms":0,
 "diag":{"reset_cause":1,"esp_reboots":0,"wifi_joins":1,"link_failures":0}}
This module holds what each field is (its type and range); the contract says which fields there are.

400 is a body that is not that shape (not JSON, a key missing or extra, a wrong type, a name the collector would
not store); 422 is the right shape with a value no sensor gives (NaN, Infinity, a temperature below absolute zero,
a counter past 32 bits). Both are the reading's own fault: the board drops it, so the reason must be exact.
No I/O here.
"""
from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass

from .contract import DEVICE_RE, DEVICE_RULE, DIAG_FIELDS, OPTIONAL, REQUIRED, SAMPLED, meaning, unit_of

__all__ = ["MAX_BODY", "Reading", "Rejected", "parse_reading", "sampled_difference"]

MAX_BODY = 1024          # the widest reading the firmware can format is ~320 bytes
KEYS = REQUIRED + OPTIONAL
COUNTERS = ("boot", "seq", "uptime_ms", "dropped", "age_ms")
U32_MAX = 2**32 - 1      # boot, seq, uptime_ms (millis()), dropped, age_ms and diag's are uint32_t on the board
MAX_VALUES = 16
INCARNATION_RE = re.compile(r"[0-9a-f]{8}\Z")
VALUE_NAME_RE = re.compile(r"[a-z][a-z0-9_]{0,31}\Z")
# A value's unit is its name's suffix (the contract's unit table); a value outside its unit's physical range is a
# broken sensor or a bug.
ANY_RANGE = (-1e12, 1e12)


class Rejected(ValueError):
    """The body is refused: `status` is the HTTP answer (400, 413 or 422), the message says exactly why."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reading:
    device: str
    incarnation: str
    boot: int
    seq: int
    uptime_ms: int
    values: dict
    dropped: int
    age_ms: int | None = None      # how old the reading was when sent (None: the board did not say)
    diag: dict | None = None       # the board's counters since boot (contract.json's diag fields)

    @property
    def key(self) -> tuple:
        """What names this reading exactly once, across reboots and EEPROM wipes."""
        return (self.device, self.incarnation, self.boot, self.seq)

    def to_json(self) -> dict:
        """The contract's body, keys in the contract's order (optional ones only when the board sent them)."""
        body = {"device": self.device, "incarnation": self.incarnation, "boot": self.boot, "seq": self.seq,
                "uptime_ms": self.uptime_ms, "readings": dict(self.values), "dropped": self.dropped}
        if self.age_ms is not None:
            body["age_ms"] = self.age_ms
        if self.diag is not None:
            body["diag"] = dict(self.diag)
        return body

    def sampled(self) -> dict:
        """What was sampled (contract.json's "sampled"): two sends of one reading agree here, or it is a key
        collision."""
        body = self.to_json()
        return {name: body[name] for name in SAMPLED}


def sampled_difference(stored: Reading, sent: Reading) -> str:
    """'' when `sent` is a repeat of `stored`, else one line naming the first sampled field that differs."""
    a, b = stored.sampled(), sent.sampled()
    for name in SAMPLED:
        if a[name] != b[name]:
            if isinstance(a[name], dict) and isinstance(b[name], dict):
                names = sorted(set(a[name]) | set(b[name]))
                inner = next(n for n in names if a[name].get(n) != b[name].get(n))
                return f"{name}.{inner} is {b[name].get(inner)}, the stored reading's is {a[name].get(inner)}"
            return f"{name} is {b[name]}, the stored reading's is {a[name]}"
    return ""


class _NonFinite(Exception):
    pass


def _refuse_constant(name: str):
    raise _NonFinite(name)


def _unique_keys(pairs: list) -> dict:
    seen = {}
    for key, value in pairs:
        if key in seen:
            raise Rejected(400, f"key {key!r} appears twice")
        seen[key] = value
    return seen


_DECODER = json.JSONDecoder(parse_constant=_refuse_constant, object_pairs_hook=_unique_keys)


_ranges: dict = {}


def _range_for(name: str) -> tuple:
    bounds = _ranges.get(name)
    if bounds is None:
        unit = unit_of(name)
        bounds = (unit[2], unit[3]) if unit else ANY_RANGE
        if len(_ranges) < 4096:
            _ranges[name] = bounds
    return bounds


def parse_reading(body: bytes) -> Reading:
    """The reading in `body`, or Rejected(400|413|422) saying what is wrong with it."""
    if len(body) > MAX_BODY:
        raise Rejected(413, f"body of {len(body)} bytes, the limit is {MAX_BODY}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise Rejected(400, f"body is not UTF-8 (byte {exc.start})") from None
    try:
        data = _DECODER.decode(text)
    except _NonFinite as exc:
        raise Rejected(422, f"{exc} is not a reading value") from None
    except RecursionError:
        raise Rejected(400, "body is not a reading: JSON nested too deep") from None
    except ValueError as exc:
        if isinstance(exc, Rejected):
            raise
        raise Rejected(400, f"body is not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise Rejected(400, f"body is a JSON {type(data).__name__}, not an object")
    missing = [k for k in REQUIRED if k not in data]
    extra = sorted(k for k in data if k not in KEYS)
    if missing or extra:
        parts = ([f"missing {', '.join(missing)}"] if missing else []) + \
                ([f"unknown {', '.join(repr(k) for k in extra)}"] if extra else [])
        raise Rejected(400, "; ".join(parts))
    device, incarnation, values = data["device"], data["incarnation"], data["readings"]
    if not isinstance(device, str) or not DEVICE_RE.fullmatch(device):
        raise Rejected(400, f"device must be {DEVICE_RULE}")
    if not isinstance(incarnation, str) or not INCARNATION_RE.match(incarnation):
        raise Rejected(400, "incarnation must be 8 lowercase hex digits")
    for name in COUNTERS:
        if name in data:
            _check_u32(name, data[name])
    diag = data.get("diag")
    if diag is not None:
        diag = _check_diag(diag)
    if not isinstance(values, dict):
        raise Rejected(400, "readings must be an object of name: number")
    if not 1 <= len(values) <= MAX_VALUES:
        raise Rejected(400, f"readings must hold 1 to {MAX_VALUES} values, not {len(values)}")
    for name, value in values.items():
        if name not in _ranges and not VALUE_NAME_RE.match(name):
            raise Rejected(400, "a reading's name must be 1-32 characters of a-z 0-9 _ starting with a letter")
        if type(value) is not float and type(value) is not int:
            raise Rejected(400, f"readings.{name} must be a number")
        if not math.isfinite(value):
            raise Rejected(422, f"readings.{name} is {value}")
        low, high = _range_for(name)
        if not low <= value <= high:
            raise Rejected(422, f"readings.{name} {value} is outside {low:g}..{high:g}")
    return Reading(device, incarnation, data["boot"], data["seq"], data["uptime_ms"], dict(values), data["dropped"],
                   data.get("age_ms"), diag)


def _check_u32(name: str, value) -> None:
    if isinstance(value, float) and not math.isfinite(value):
        raise Rejected(422, f"{name} is {value}")
    if type(value) is not int:     # (json gives exactly int, float, bool, str, ...: bool is no counter)
        raise Rejected(400, f"{name} must be an integer")
    if not 0 <= value <= U32_MAX:
        raise Rejected(422, f"{name} {value} is outside 0..{U32_MAX}")


def _check_diag(diag) -> dict:
    if not isinstance(diag, dict):
        raise Rejected(400, f"diag must be an object of {', '.join(DIAG_FIELDS)}")
    extra = sorted(k for k in diag if k not in DIAG_FIELDS)
    if extra:
        raise Rejected(400, f"unknown diag {', '.join(repr(k) for k in extra)}")
    for name, value in diag.items():
        _check_u32(f"diag.{name}", value)
    return {name: diag[name] for name in DIAG_FIELDS if name in diag}


# every field the contract names is one this module knows how to check
_KNOWN = {"device", "incarnation", "readings", "diag", *COUNTERS}
if set(KEYS) - _KNOWN:
    raise ImportError(f"contract.json names fields the collector cannot check: {sorted(set(KEYS) - _KNOWN)}")
# a refusal here is the reading's own fault: the contract must tell the board to drop it, not to send it for ever
for _status in (400, 413, 422):
    if meaning(_status) != "drop":
        raise ImportError(f"contract.json: {_status} means {meaning(_status)!r}, but the validator answers it for "
                          "a reading the board must drop")
