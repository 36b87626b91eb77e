"""simulator/COMMANDS.md is generated from the registry and the golden corpus; it must be current."""
from __future__ import annotations

from pathlib import Path

from esp8266sim.commands.registry import REGISTRY
from esp8266sim.commands.table import NOT_IMPLEMENTED, golden_exchanges, render

ROOT = Path(__file__).resolve().parents[2]


def test_committed_table_is_current():
    committed = (ROOT / "simulator" / "COMMANDS.md").read_text(encoding="utf-8")
    assert committed == render(), "run: python -m esp8266sim.commands.table > simulator/COMMANDS.md"


def test_every_command_is_a_row_and_unimplemented_ones_are_not_registered():
    table = render()
    for name in REGISTRY:
        assert f"| `{name or 'AT'}` |" in table
    assert not set(NOT_IMPLEMENTED) & set(REGISTRY)


def test_golden_files_are_found_per_command():
    found = golden_exchanges()
    assert "cwjap-cur-wrong-password" in found[1]["CWJAP"]
    assert "cwjap-wrong-password" in found[2]["CWJAP"]
    assert "CWAUTOCONN" in found[1]


def test_unimplemented_command_answers_as_unknown():
    from modbench import Bench
    b = Bench("1")
    for name in NOT_IMPLEMENTED:
        assert b.ask(b"AT+" + name.encode()) == b"\r\nERROR\r\n", name
    b.close()
