"""The protocol core does no I/O: its modules import only each other and pure parts of the standard library.

The core is what turns bytes into meaning and back (events, parser, commands, framing, dialects, the session and
what it keeps, the errors, the wire's text rules). No port, socket, thread, clock or sleep can reach it, so every
rule in it is tested with bytes alone (tests/core) and any caller (a thread, an event loop, a replay) can drive it.
An import inside a function counts too; read from the source with ast, nothing is imported.
"""
from __future__ import annotations

from pathlib import Path
from typing import List

from arch.test_import_direction import imports, modules

ROOT = Path(__file__).resolve().parents[2]
PROTO = ROOT / "host" / "espat" / "proto"
# the protocol wing, every module in it (one added later is held to the rule at once), and the errors it raises
CORE = {f"espat.proto.{path.stem}" for path in PROTO.glob("*.py") if path.stem != "__init__"} | {"espat.proto",
                                                                                                  "espat.errors"}
PURE = {"__future__", "re", "dataclasses", "typing", "types", "collections"}


def impure_imports(core=CORE, roots=(ROOT / "host",)) -> List[str]:
    found = modules(list(roots))
    known = set(found)
    bad = []
    for name in sorted(core):
        path, package = found[name]
        for target, line in imports(name, path, package, known):
            if target in core or target.split(".")[0] in PURE:
                continue
            bad.append(f"{name}:{line} imports {target}")
    return bad


def test_the_core_imports_nothing_that_does_io():
    assert impure_imports() == []


def test_every_core_module_exists():
    assert CORE <= set(modules([ROOT / "host"]))
    assert {"espat.proto.events", "espat.proto.parser", "espat.proto.session", "espat.proto.commands"} <= CORE


def test_the_checker_sees_a_clock_a_port_and_the_client(tmp_path):
    (tmp_path / "espat").mkdir()
    (tmp_path / "espat" / "__init__.py").write_text("")
    (tmp_path / "espat" / "client.py").write_text("")
    (tmp_path / "espat" / "events.py").write_text("import re\nfrom dataclasses import dataclass\n")
    (tmp_path / "espat" / "session.py").write_text("from . import events\nimport time\n"
                                                   "def f():\n    import serial\n    from .client import x\n")
    assert impure_imports({"espat.events", "espat.session"}, [tmp_path]) == [
        "espat.session:2 imports time", "espat.session:4 imports serial", "espat.session:5 imports espat.client"]
