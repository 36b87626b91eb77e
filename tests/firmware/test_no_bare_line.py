"""The Arduino driver never writes a bare line end: the AT firmware answers one (ERROR when idle, `busy p...` while
a command runs, tests/golden/*/bare-line-end), and the driver would take that answer for its next command's.

Its only line end is the one writeCommand() puts after a step's command; a step whose command is "" writes nothing.
So every step's command must be "" or start with AT (the head the firmware searches for)."""
from __future__ import annotations

import re
from pathlib import Path

SRC = Path(__file__).resolve().parents[2] / "firmware" / "lib" / "EspAt" / "src"


def _steps() -> dict:
    text = (SRC / "EspAtSteps.h").read_text(encoding="utf-8").replace("\\\n", " ")
    table = text[text.index("#define ESPAT_STEPS(X)"):text.index("#define ESPAT_LINES")]
    table = re.sub(r"/\*.*?\*/", "", table)
    return {m.group(1): m.group(2).strip() for m in re.finditer(r"X\((\w+),\s*(.+?),\s*\d+\)\s", table)}


def _at_heads() -> dict:
    """The placeholders that writeArg() writes as a command's start (ESPAT_AT_CIP: "AT+CIP"), by name: each one
    named in the switch and written there as one flash string."""
    drv = (SRC / "EspAtDrvSteps.cpp").read_text(encoding="utf-8")
    return {m.group(1): m.group(2) for m in re.finditer(r'case (ESPAT_AT_\w+)\[0\]:\s*port_\.print\(F\("([^"]*)"\)\);\s*return;', drv)}


def test_every_step_command_is_empty_or_starts_with_at():
    steps = _steps()
    heads = _at_heads()
    assert len(steps) >= 20 and "At" in steps and "Idle" in steps, sorted(steps)
    for name, command in steps.items():
        first = re.search(r'"([^"]*)"', command)
        assert first is not None, f"step {name}: no string in its command {command}"
        if command == '""':
            continue
        start = first.group(1)
        for head, text in heads.items():  # a command may start with a placeholder for its head
            if re.match(rf"(ESPAT_IF_CLIENTS\()?{head}\b", command):
                start = text + start
        assert start.startswith("AT"), f"step {name} writes a line without the AT head: {command}"


def test_a_step_without_a_command_writes_no_line_end():
    """writeCommand returns on an empty command before anything is written, and writes its line end (however it
    spells it: one print of "\\r\\n", or a put of each byte) once, after the command."""
    drv = (SRC / "EspAtDrvSteps.cpp").read_text(encoding="utf-8")
    body = drv[drv.index("void EspAtDrv::writeCommand(PGM_P cmd) {"):]
    body = body[:body.index("\n}\n")]
    ends = [m.start() for m in re.finditer(r"""print\(F\("\\r\\n"\)\)|put\('\\r'\)""", body)]
    assert len(ends) == 1, f"writeCommand writes one line end, after the command:\n{body}"
    # the early return on an empty command: its first byte tested as read, or once kept in a variable
    empty = re.search(r"if \((?:pgm_read_byte\(cmd\)|(\w+)) == 0\) return;", body)
    assert empty is not None, f"writeCommand has no early return for an empty command:\n{body}"
    if empty.group(1):
        assert re.search(rf"\b{empty.group(1)} = pgm_read_byte\(cmd\);", body[:empty.start()]), body
    assert empty.start() < ends[0]
