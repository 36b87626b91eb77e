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


def test_one_function_per_form_and_the_forms_of_a_name_make_one_command(monkeypatch):
    """A handler answers one form (the registry answers `test`); the registrations of one name join into one row,
    with the set form's arguments; a form answered twice, or an option that differs between forms, is refused."""
    import pytest

    from esp8266sim.commands import registry
    monkeypatch.setattr(registry, "REGISTRY", {})
    command, Int = registry.command, registry.Int
    with pytest.raises(ValueError, match="one function per form, not one for query and set"):
        command("X", "query set")(lambda call: None)
    command("X", "query test", suffixed="alias", test="(0-1)", evidence="doc")(lambda call: None)
    command("X", "exec", dialects="2", suffixed="alias")(lambda call: None)
    command("X", "set", args=(Int(0, 1),))(lambda call: None)
    x = registry.REGISTRY["X"]
    assert x.forms == {1: frozenset({"query", "test", "set"}), 2: frozenset({"query", "test", "exec", "set"})}
    assert sorted(x.handlers) == ["exec", "query", "set"] and x.args == {1: (Int(0, 1),), 2: (Int(0, 1),)}
    assert (x.suffixed, x.evidence, x.test) == ("alias", "doc", {1: "(0-1)", 2: "(0-1)"})
    with pytest.raises(ValueError, match="the set form registered twice"):
        command("X", "set")(lambda call: None)
    with pytest.raises(ValueError, match="suffixed differs between its forms"):
        command("Y", "query", suffixed="alias")(lambda call: None)
        command("Y", "set", suffixed="only")(lambda call: None)
