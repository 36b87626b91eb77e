"""simulator/COMMANDS.md, drawn from the registry: `python -m esp8266sim.commands.table > simulator/COMMANDS.md`.

One row per command: the forms each dialect takes, the names it answers to in 1.7 and 2.x, an example of its
bytes, the evidence, and its status. The list of commands the fake does not implement is data here too; they are
answered as any unknown command (`ERROR`).
"""
from __future__ import annotations

import re
import sys
from pathlib import Path
from typing import Dict, List, Set

from ..error_codes import E_AT_CATEGORY, E_FORM
from .registry import REGISTRY, Command, resolve

FORM_CODE = f"0x{E_AT_CATEGORY << 24 | E_FORM << 16:08X}"      # what AT+SYSLOG=1 prints for a form not listed

__all__ = ["NOT_IMPLEMENTED", "render"]

# Commands of the two instruction sets the fake answers as unknown, with the reason.
NOT_IMPLEMENTED: Dict[str, str] = {
    "CIUPDATE": "1.7/2.x: updates the firmware from Espressif's server over the Internet; the fake reaches only "
                "loopback",
    "CWSTARTDISCOVER": "1.7: WeChat device discovery (cloud service)",
    "CWSTOPDISCOVER": "1.7: WeChat device discovery (cloud service)",
    "CWJEAP": "1.7 (CWJEAP_CUR/_DEF): WPA2-Enterprise joins; the fake's networks are WPA2-PSK or open",
    "CIPTCPOPT": "2.x: socket options per link (SO_LINGER, TCP_NODELAY, SO_SNDTIMEO) not modelled",
    "SYSFLASH": "2.x: user flash partitions are not modelled",
    "SYSROLLBACK": "2.x: there is no previous firmware to roll back to",
    "SLEEPWKCFG": "2.x: wake-up sources for light sleep are not modelled",
    "SYSREG": "2.x: register access is not modelled",
    "USERRAM": "2.x: user RAM area is not modelled",
}


GOLDEN = Path(__file__).resolve().parents[3] / "tests" / "golden"
_HOST_LINE = re.compile(r"^> AT\+?([A-Za-z0-9_]*)", re.M)


def golden_exchanges(root: Path = GOLDEN) -> Dict[int, Dict[str, Set[str]]]:
    """For each dialect major, command name -> the corpus files whose host side types it."""
    found: Dict[int, Dict[str, Set[str]]] = {1: {}, 2: {}}
    for folder, major in (("1.7", 1), ("2.x", 2)):
        for path in sorted((root / folder).glob("*.golden")):
            for typed in _HOST_LINE.findall(path.read_text(encoding="utf-8")):
                hit = resolve(typed.upper(), major)
                if hit is not None:
                    found[major].setdefault(hit[0].name, set()).add(path.stem)
    return found


def _golden(cmd: Command, major: int, found: Dict[int, Dict[str, Set[str]]]) -> str:
    if major not in cmd.forms:
        return "—"
    names = sorted(found[major].get(cmd.name, ()))
    if not names:
        return "none"
    shown = ", ".join(f"{folder}/{n}" for folder, n in (("1.7" if major == 1 else "2.x", n) for n in names[:3]))
    return shown + (f" (+{len(names) - 3})" if len(names) > 3 else "")


# Why a command has no golden exchange in a dialect (the fake's own answer cannot be its own evidence).
_OWN_VALUE = "the answer is the module's own value (free heap, ADC reading, clock), not bytes a document can pin"
_NO_17_PAGE = ("no 1.7 capture or instruction-set page with its bytes found in the stored mirrors; the forms follow "
               "the NONOS instruction set's templates")
GOLDEN_GAPS: Dict[str, str] = {
    "SYSRAM": _OWN_VALUE, "SYSADC": _OWN_VALUE, "CIPSNTPTIME": _OWN_VALUE, "RFVDD": _OWN_VALUE,
    "CIPSENDBUF": "no capture of the segment lines; the document gives templates only",
    "CIPBUFSTATUS": "no capture of the segment lines; the document gives templates only",
    "CIPCHECKSEQ": "no capture of the segment lines; the document gives templates only",
    "CIPBUFRESET": "no capture of the segment lines; the document gives templates only",
}


def _names(cmd: Command, major: int) -> str:
    if major not in cmd.forms:
        return "—"
    naming = cmd.naming(major)
    base = f"AT{'+' + cmd.name if cmd.name not in ('', 'E0', 'E1') else cmd.name}"
    if naming == "alias":
        return f"{base}_CUR, {base}_DEF, {base} (= _DEF)"
    if naming == "only":
        return f"{base}_CUR, {base}_DEF"
    return base


def _forms(cmd: Command, major: int) -> str:
    forms = cmd.forms.get(major)
    if not forms:
        return "—"
    return " ".join(f for f in ("exec", "query", "test", "set") if f in forms)


def _status(cmd: Command, found: Dict[int, Dict[str, Set[str]]]) -> str:
    majors = sorted(cmd.forms)
    where = "both" if majors == [1, 2] else ("1.7 only" if majors == [1] else "2.x only")
    missing = [m for m in majors if cmd.name not in found[m]]
    status = f"implemented ({where}{', long' if cmd.long else ''})"
    if missing:
        status += "; no golden exchange in " + " and ".join("1.7" if m == 1 else "2.x" for m in missing) + \
            ": " + (cmd.note or GOLDEN_GAPS.get(cmd.name) or _NO_17_PAGE if missing == [1] else
                    cmd.note or GOLDEN_GAPS.get(cmd.name) or "no capture or document example with exact bytes found")
    return status


def render(root: Path = GOLDEN) -> str:
    found = golden_exchanges(root)
    lines: List[str] = [
        "# Commands of the fake ESP-01",
        "",
        "Generated from the command registry by `python -m esp8266sim.commands.table > simulator/COMMANDS.md`;",
        "a test fails when this file is out of date. Forms: exec `AT+X`, query `AT+X?`, test `AT+X=?`, set",
        f"`AT+X=...`; a form not listed is answered `ERROR` (2.x: `ERR CODE:{FORM_CODE}` first with AT+SYSLOG=1).",
        "The bytes columns name the golden exchanges (tests/golden/<dialect>/<name>.golden) that pin each command;",
        "a command without one says why.",
        "",
    ]
    by_chapter: Dict[str, List[Command]] = {}
    for cmd in REGISTRY.values():
        by_chapter.setdefault(cmd.chapter, []).append(cmd)
    titles = {"basic": "Basic", "wifi": "Wi-Fi", "tcpip": "TCP/IP: links", "services": "TCP/IP: services",
              "ssl": "SSL"}
    for chapter in ("basic", "wifi", "tcpip", "services", "ssl"):
        lines += [f"## {titles[chapter]}", "",
                  "| command | 1.7 forms | 2.x forms | 1.7 names | 2.x names | 1.7 bytes (golden) | 2.x bytes (golden) "
                  "| evidence | status |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for cmd in sorted(by_chapter.get(chapter, []), key=lambda c: c.name):
            cells = [f"`{cmd.name or 'AT'}`", _forms(cmd, 1), _forms(cmd, 2), _names(cmd, 1), _names(cmd, 2),
                     _golden(cmd, 1, found), _golden(cmd, 2, found), cmd.evidence.replace("|", "\\|"),
                     _status(cmd, found)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    lines += ["## Not implemented (answered `ERROR`, as an unknown command)", "", "| command | reason |", "|---|---|"]
    lines += [f"| `{name}` | {reason} |" for name, reason in sorted(NOT_IMPLEMENTED.items())]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    sys.stdout.write(render())
