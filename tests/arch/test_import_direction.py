"""The import drawing of host/ and simulator/ runs one way: library <- tools -> fake, and has no circle.

The library (espat, less its tools) never imports the fake (esp8266sim), a tool or the collector (espat_collect); the
fake never imports espat; the tools (the CLI, demo, bridge, term) sit above both. The virtual Uno (unosim) is a second
device beside the fake: it may import the fake (its ESP-01 is the fake module), never the library, a tool or the
collector, and nothing but the tools imports it. The collector is an application
beside them: it may import the library, never the fake or a tool, and nothing but the tools imports it. Every import that runs counts, also
one inside a function: a lazy import is still an arrow in the drawing. An import under `if TYPE_CHECKING:` never
runs and is left out, except inside the fake: there a type hint is a dependency too, and no circle runs through one
(its parts see the module through moduleapi.ModuleApi). Read from the source with ast, nothing is imported.
"""
from __future__ import annotations

import ast
from pathlib import Path
from typing import Dict, List, Set, Tuple

ROOT = Path(__file__).resolve().parents[2]
SOURCES = [ROOT / "host", ROOT / "simulator"]
TOOLS = ("espat.cli", "espat.tools")
APPLICATIONS = ("espat_collect",)


def layer(module: str) -> str:
    def under(prefixes) -> bool:
        return any(module == p or module.startswith(p + ".") for p in prefixes)
    if under(("esp8266sim",)):
        return "fake"
    if under(("unosim",)):
        return "uno"
    if under(TOOLS):
        return "tools"
    if under(APPLICATIONS):
        return "application"
    if under(("espat",)):
        return "library"
    return "other"


def modules(roots=SOURCES) -> Dict[str, Tuple[Path, bool]]:
    """module name -> (its file, whether it is a package's __init__)."""
    found = {}
    for root in roots:
        for path in sorted(root.rglob("*.py")):
            parts = list(path.relative_to(root).with_suffix("").parts)
            package = parts[-1] == "__init__"
            if package:
                parts.pop()
            found[".".join(parts)] = (path, package)
    return found


def imports(name: str, path: Path, package: bool, known: Set[str], hints: bool = False) -> List[Tuple[str, int]]:
    """(module imported, line) for every import statement in the file, relative ones resolved; those under
    `if TYPE_CHECKING:` only with `hints`."""
    here = name if package else name.rpartition(".")[0]
    out = []
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    typing_only = set() if hints else {
        id(inner) for node in ast.walk(tree) if isinstance(node, ast.If) and _type_checking(node.test)
        for stmt in node.body for inner in ast.walk(stmt)}
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.Import):
            out += [(alias.name, node.lineno) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = here.split(".")[: len(here.split(".")) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            for alias in node.names:       # `from pkg import sub` imports the submodule pkg.sub
                sub = f"{base}.{alias.name}"
                out.append((sub if sub in known else base, node.lineno))
    return out


def _type_checking(test: ast.expr) -> bool:
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or \
        (isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def graph(roots=SOURCES, hints: bool = False) -> Dict[str, List[Tuple[str, int]]]:
    found = modules(roots)
    known = set(found)
    ours = {name.split(".")[0] for name in found}      # espat, espat_collect, esp8266sim: every package of the roots
    edges = {}
    for name, (path, package) in found.items():
        edges[name] = list(dict.fromkeys((target, line) for target, line in imports(name, path, package, known, hints)
                                         if target.split(".")[0] in ours))
    return edges


FORBIDDEN = {("library", "fake"), ("library", "tools"), ("library", "application"), ("fake", "library"),
             ("fake", "tools"), ("fake", "application"), ("application", "fake"), ("application", "tools"),
             ("library", "uno"), ("fake", "uno"), ("application", "uno"), ("uno", "library"), ("uno", "tools"),
             ("uno", "application")}


def arrows_back(edges, roots=SOURCES) -> List[str]:
    found = modules(roots)
    root_of = {name: root for root in roots for name in modules([root])}
    bad = []
    for name, targets in edges.items():
        for target, line in targets:
            if (layer(name), layer(target)) in FORBIDDEN:
                bad.append(f"{found[name][0].relative_to(root_of[name].parent)}:{line}: {layer(name)} {name} imports "
                           f"{layer(target)} {target}")
    return bad


def circles(edges) -> List[List[str]]:
    """Every strongly connected set of more than one module (Tarjan), as a sorted list."""
    index, low, stack, on_stack, out = {}, {}, [], set(), []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w, _ in edges.get(v, ()):
            if w not in edges:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                out.append(sorted(group))

    for v in sorted(edges):
        if v not in index:
            visit(v)
    return out


def test_no_arrow_runs_back_up():
    assert arrows_back(graph()) == []


def test_no_import_circle():
    assert circles(graph()) == []


def test_no_circle_even_through_a_type_hint():
    """A type hint is an arrow too (espat.client -> ratechange -> client was one, hidden behind TYPE_CHECKING):
    none of host/ and simulator/ runs in a circle even counting those."""
    assert circles(graph(hints=True)) == []


def fake_only(edges):
    """The fake's part of the drawing."""
    return {name: [(t, line) for t, line in targets if layer(t) == "fake"] for name, targets in edges.items()
            if layer(name) == "fake"}


def test_the_fake_has_no_circle_even_through_a_type_hint():
    """The module's parts (netstack.py, datamode.py, the command chapters) see it through moduleapi.ModuleApi and
    never import module.py, not even for a type hint: once netstack.py -> module.py -> netstack.py and module.py ->
    commands/tcpip.py -> datamode.py -> module.py were circles. Only the front ends that build a module import it,
    and module.py imports no chapter by name (the TCP/IP chapter's passthrough resumes through a hook)."""
    edges = fake_only(graph(hints=True))
    assert circles(edges) == []
    builders = sorted(name for name, targets in edges.items() if any(t == "esp8266sim.module" for t, _ in targets))
    assert builders == ["esp8266sim.lockstep", "esp8266sim.simulator"]
    assert [t for t, _ in edges["esp8266sim.module"] if t.startswith("esp8266sim.commands.")] == [
        "esp8266sim.commands.registry"]


def test_the_checker_sees_an_arrow_back_and_a_circle(tmp_path):
    (tmp_path / "espat").mkdir()
    (tmp_path / "esp8266sim").mkdir()
    (tmp_path / "espat" / "__init__.py").write_text("")
    (tmp_path / "esp8266sim" / "__init__.py").write_text("")
    (tmp_path / "espat" / "a.py").write_text("def f():\n    from .b import x\n")
    (tmp_path / "espat" / "b.py").write_text("from . import a\nimport esp8266sim.c\n")
    (tmp_path / "esp8266sim" / "c.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                                  "    from espat import a\n")
    edges = graph([tmp_path])
    assert circles(edges) == [["espat.a", "espat.b"]]
    assert ("esp8266sim.c", 2) in edges["espat.b"] and edges["esp8266sim.c"] == []
    assert graph([tmp_path], hints=True)["esp8266sim.c"] == [("espat.a", 3)]
    (tmp_path / "esp8266sim" / "d.py").write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                                  "    from .e import x\n")
    (tmp_path / "esp8266sim" / "e.py").write_text("from . import d\n")
    assert circles(fake_only(graph([tmp_path]))) == []
    assert circles(fake_only(graph([tmp_path], hints=True))) == [["esp8266sim.d", "esp8266sim.e"]]
    assert layer("espat.b") == "library" and layer("esp8266sim.c") == "fake" and layer("espat.cli.group") == "tools"
    assert layer("unosim.board") == "uno" and layer("unosimx") == "other"


def test_the_checker_sees_the_fake_import_the_uno(tmp_path):
    """The Uno may import the fake (its ESP-01); the fake importing the Uno, or the Uno the library, is an arrow
    back."""
    for package in ("espat", "esp8266sim", "unosim"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "esp8266sim" / "wire.py").write_text("")
    (tmp_path / "unosim" / "board.py").write_text("from esp8266sim.wire import GARBAGE\n")
    assert arrows_back(graph([tmp_path]), [tmp_path]) == []
    (tmp_path / "esp8266sim" / "wire.py").write_text("def f():\n    import unosim.board\n")
    (tmp_path / "unosim" / "cli.py").write_text("from espat import client\n")
    here = tmp_path.name
    assert arrows_back(graph([tmp_path]), [tmp_path]) == [
        f"{here}/esp8266sim/wire.py:2: fake esp8266sim.wire imports uno unosim.board",
        f"{here}/unosim/cli.py:1: uno unosim.cli imports library espat"]


def test_the_checker_sees_the_library_import_the_collector(tmp_path):
    """The collector may import the library; the library importing the collector (even lazily) is an arrow back,
    and so is the collector importing a tool or the fake."""
    for package in ("espat", "espat_collect", "esp8266sim", "espat/cli"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "__init__.py").write_text("")
    (tmp_path / "espat" / "client.py").write_text("")
    (tmp_path / "espat_collect" / "app.py").write_text("from espat import client\n")
    assert arrows_back(graph([tmp_path]), [tmp_path]) == []
    (tmp_path / "espat" / "client.py").write_text("def f():\n    from espat_collect.app import x\n")
    (tmp_path / "espat_collect" / "store.py").write_text("import esp8266sim\nfrom espat.cli import y\n")
    here = tmp_path.name
    assert arrows_back(graph([tmp_path]), [tmp_path]) == [
        f"{here}/espat/client.py:2: library espat.client imports application espat_collect.app",
        f"{here}/espat_collect/store.py:1: application espat_collect.store imports fake esp8266sim",
        f"{here}/espat_collect/store.py:2: application espat_collect.store imports tools espat.cli"]
    assert layer("espat_collect.app") == "application" and layer("espat_collectx") == "other"


def test_sim_urls_open_once_the_fake_is_registered_and_say_so_before():
    """The library alone does not know sim://, and says where it comes from; the fake's package, once named in
    serial.protocol_handler_packages (the CLI does it; importing esp8266sim does it), opens it."""
    import subprocess
    import sys
    code = ("import sys\nfrom espat.transport import open_port\nfrom espat.errors import PortError\n"
            "try:\n    open_port('sim://?latency_scale=0')\nexcept PortError as exc:\n    print(exc)\n"
            "assert 'esp8266sim' not in sys.modules\n"
            "from espat.cli.session import with_sim_urls\nwith_sim_urls()\n"
            "open_port('sim://?latency_scale=0').close()\nprint('opened')\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.splitlines() == [
        "cannot open sim://?latency_scale=0: sim:// is the fake module's: install espat[sim] and import esp8266sim "
        "(or use the espat command)", "opened"]
