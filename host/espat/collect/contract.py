"""The reading contract (contract.json beside this file), loaded once and checked for sense: the device rule, the
required and optional fields, which of them were sampled (a repeat key that differs there is a 409), what each
HTTP status means to the board, and the units of readings by their names' suffixes (with the range a sensor gives). The firmware's build reads the same file; this module is the collector's only
copy of those rules. No I/O after import.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

__all__ = ["CONTRACT", "DEVICE_RE", "DEVICE_RULE", "REQUIRED", "OPTIONAL", "SAMPLED", "DIAG_FIELDS", "UNITS",
           "unit_of", "meaning", "load"]

PATH = Path(__file__).with_name("contract.json")
MEANINGS = {"stored", "repeat", "conflict", "drop", "keep", "backoff"}


class ContractError(ValueError):
    pass


def load(path: Path = PATH) -> dict:
    """The contract at `path`, or ContractError saying what in it makes no sense."""
    data = json.loads(path.read_text(encoding="utf-8"))
    try:
        re.compile(data["device"]["pattern"])
        required, optional, sampled = data["required"], data["optional"], data["sampled"]
        fields = set(data["diag"]["fields"])
        status, default = data["status"], data["default"]
        units = {suffix: (u["unit"], float(u["range"][0]), float(u["range"][1]))
                 for suffix, u in data["units"].items()}
    except (KeyError, TypeError, re.error) as exc:
        raise ContractError(f"{path.name}: {exc!r} missing or wrong") from None
    except ValueError as exc:
        raise ContractError(f"{path.name}: {exc}") from None
    if set(required) & set(optional):
        raise ContractError(f"{path.name}: {sorted(set(required) & set(optional))} both required and optional")
    if not set(sampled) <= set(required):
        raise ContractError(f"{path.name}: sampled {sorted(set(sampled) - set(required))} not required")
    if not {"device", "incarnation", "boot", "seq", "readings"} <= set(required):
        raise ContractError(f"{path.name}: the key (device, incarnation, boot, seq) and readings must be required")
    if not fields or ("diag" in optional) != bool(fields):
        raise ContractError(f"{path.name}: diag fields without diag among the optional fields")
    for suffix, (_, low, high) in units.items():
        if not re.fullmatch(r"_[a-z0-9]+", suffix) or not low < high:
            raise ContractError(f"{path.name}: unit {suffix}: a suffix _name and a range low < high")
    for code, what in [*status.items(), ("default", default)]:
        if what not in MEANINGS or (code != "default" and not re.fullmatch(r"[1-5][0-9][0-9]", code)):
            raise ContractError(f"{path.name}: status {code}: {what!r} (meanings: {', '.join(sorted(MEANINGS))})")
    return data


CONTRACT = load()
DEVICE_RE = re.compile(CONTRACT["device"]["pattern"])     # use .fullmatch
DEVICE_RULE = CONTRACT["device"]["rule"]
REQUIRED = tuple(CONTRACT["required"])
OPTIONAL = tuple(CONTRACT["optional"])
SAMPLED = tuple(CONTRACT["sampled"])
DIAG_FIELDS = tuple(CONTRACT["diag"]["fields"])
# suffix -> (unit, low, high), the longest suffix first (so _ms is found before _s)
UNITS = {suffix: (u["unit"], float(u["range"][0]), float(u["range"][1]))
         for suffix, u in sorted(CONTRACT["units"].items(), key=lambda item: -len(item[0]))}


def unit_of(name: str):
    """(suffix, unit, low, high) of a reading's name, or None when its name has no unit."""
    for suffix, (unit, low, high) in UNITS.items():
        if name.endswith(suffix):
            return suffix, unit, low, high
    return None


def meaning(status: int) -> str:
    """What an answer with this status makes the board do (the contract's word for it)."""
    return CONTRACT["status"].get(str(status), CONTRACT["default"])
