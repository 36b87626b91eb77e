"""Reading the golden corpus: one exchange per file, what the host wrote and what the module answered.

The format is described in README.md next to this file. This module only parses; replay.py plays.
"""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Tuple

__all__ = ["Exchange", "CorpusError", "load", "load_dialect", "decode", "encode", "DIALECTS", "ROOT"]

ROOT = Path(__file__).parent
DIALECTS = {"1.7": "1", "2.x": "2"}     # corpus folder -> the fake's dialect name
SUFFIX = ".golden"

HOST, MODULE, NOISE = ">", "<", "~"
_KEYS = {"evidence", "inferred", "given", "server", "server-gets", "fault", "parser", "note"}
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|[rnt\\]|\*\d+\((?:[^()\\]|\\.)*\)|\$port)")
PORT = b"\x00port\x00"       # `\$port`: a free loopback port the replay picks (the module's own server listens there)


class CorpusError(ValueError):
    """A corpus file that does not follow the format; the message names the file and line."""


@dataclass(frozen=True)
class Exchange:
    """One file: its evidence, what must hold before it, and its steps (direction, bytes), oldest first.

    Adjacent steps of one direction are merged: two host steps in a row are written back to back, and the module's
    bytes are one stream until the host writes again."""
    dialect: str                        # the corpus folder: "1.7" or "2.x"
    name: str
    evidence: Tuple[str, ...]
    given: Tuple[str, ...]              # exchanges (same folder) that run first, in order
    steps: Tuple[Tuple[str, bytes], ...]
    server: str = ""                    # how the loopback server behaves ("" = no server)
    server_gets: bytes = b""            # what the server must have received by the end
    faults: Tuple[str, ...] = ()
    parser: Tuple[str, ...] = ()        # Parser options the module side needs ("remote_info")
    notes: Tuple[str, ...] = field(default=())
    inferred: Tuple[str, ...] = field(default=())     # bytes no cited evidence shows, and why they are these

    @property
    def host_bytes(self) -> bytes:
        return b"".join(data for direction, data in self.steps if direction == HOST)

    @property
    def module_bytes(self) -> bytes:
        """What the module sends, a noise step's sample included."""
        return b"".join(data for direction, data in self.steps if direction != HOST)

    @property
    def noisy(self) -> bool:
        return any(direction == NOISE for direction, _ in self.steps)


def decode(text: str, where: str = "") -> bytes:
    r"""A step's text to bytes: `\r \n \t \\ \xNN`, `\*N(text)` for `text` repeated N times, `\$port`."""
    if re.search(r"\s$", text):
        raise CorpusError(f"{where}: trailing whitespace is invisible; write a final space as \\x20")
    out = bytearray()
    pos = 0
    for m in _ESCAPE.finditer(text):
        chunk = text[pos:m.start()]
        if "\\" in chunk:
            raise CorpusError(f"{where}: unknown escape in {chunk!r}")
        out += chunk.encode("utf-8")
        code = m.group(1)
        if code[0] == "x":
            out.append(int(code[1:], 16))
        elif code == "$port":
            out += PORT
        elif code[0] == "*":
            count, _, inner = code[1:].partition("(")
            out += decode(inner[:-1], where) * int(count)
        else:
            out += {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}[code]
        pos = m.end()
    rest = text[pos:]
    if "\\" in rest:
        raise CorpusError(f"{where}: unknown escape in {rest!r}")
    out += rest.encode("utf-8")
    return bytes(out)


def encode(data: bytes) -> str:
    """Bytes as a step's text (the inverse of decode, for messages and for writing new files)."""
    out = []
    for byte in data:
        ch = chr(byte)
        if ch == "\\":
            out.append("\\\\")
        elif ch in "\r\n\t":
            out.append({"\r": "\\r", "\n": "\\n", "\t": "\\t"}[ch])
        elif 0x20 <= byte < 0x7F:
            out.append(ch)
        else:
            out.append("\\x%02x" % byte)
    text = "".join(out)
    if text.endswith(" "):
        text = text[:-1] + "\\x20"
    return text


def parse(text: str, dialect: str, name: str) -> Exchange:
    meta: Dict[str, List[str]] = {key: [] for key in _KEYS}
    steps: List[Tuple[str, bytes]] = []
    for number, line in enumerate(text.splitlines(), 1):
        where = f"{dialect}/{name}{SUFFIX}:{number}"
        if not line.strip() or line.startswith("#"):
            continue
        if line[:2] in (HOST + " ", MODULE + " ", NOISE + " "):
            direction, data = line[0], decode(line[2:], where)
            if steps and steps[-1][0] == direction:
                steps[-1] = (direction, steps[-1][1] + data)
            else:
                steps.append((direction, data))
            continue
        key, colon, value = line.partition(":")
        if not colon or key not in _KEYS:
            raise CorpusError(f"{where}: expected '> bytes', '< bytes', '# comment' or one of "
                              f"{', '.join(sorted(_KEYS))}")
        if steps and key not in ("note",):
            raise CorpusError(f"{where}: {key}: belongs before the first step")
        meta[key].append(value.strip())
    where = f"{dialect}/{name}{SUFFIX}"
    if not meta["evidence"]:
        raise CorpusError(f"{where}: no evidence: line (a document section with its URL, a capture, a parser)")
    if not all(meta["inferred"]):
        raise CorpusError(f"{where}: an inferred: line says which bytes no evidence shows, and why they are these")
    if not steps:
        raise CorpusError(f"{where}: no steps")
    for (direction, _), after in zip(steps, list(steps[1:]) + [None]):
        if direction == NOISE and (after is None or after[0] != MODULE):
            raise CorpusError(f"{where}: a ~ step must be followed by a < step (where the noise ends)")
    if len(meta["server"]) > 1 or len(meta["server-gets"]) > 1:
        raise CorpusError(f"{where}: one server: and one server-gets: at most")
    given = tuple(g.strip() for value in meta["given"] for g in value.split(",") if g.strip())
    return Exchange(
        dialect=dialect, name=name, evidence=tuple(meta["evidence"]), given=given, steps=tuple(steps),
        server=meta["server"][0] if meta["server"] else "",
        server_gets=decode(meta["server-gets"][0], where) if meta["server-gets"] else b"",
        faults=tuple(meta["fault"]), parser=tuple(meta["parser"]), notes=tuple(meta["note"]),
        inferred=tuple(meta["inferred"]))


def load(path: Path) -> Exchange:
    return parse(path.read_text(encoding="utf-8"), path.parent.name, path.name[:-len(SUFFIX)])


def load_dialect(dialect: str, root: Path = ROOT) -> Dict[str, Exchange]:
    """Every exchange of one corpus folder, by name."""
    folder = root / dialect
    return {path.name[:-len(SUFFIX)]: load(path) for path in sorted(folder.glob("*" + SUFFIX))}


def chain(exchange: Exchange, corpus: Dict[str, Exchange]) -> List[Exchange]:
    """The exchanges that must run before this one (given's givens first), each once, in order."""
    order: List[Exchange] = []
    seen = set()

    def visit(current: Exchange, path: Tuple[str, ...]) -> None:
        for name in current.given:
            if name in path:
                raise CorpusError(f"{exchange.dialect}/{name}: given: goes round in a circle: {' -> '.join(path)}")
            if name not in corpus:
                raise CorpusError(f"{current.dialect}/{current.name}: given: {name} is not in the corpus")
            if name not in seen:
                visit(corpus[name], path + (name,))
                seen.add(name)
                order.append(corpus[name])
    visit(exchange, (exchange.name,))
    return order


def answer(dialect: str, name: str, nth: int = 0) -> bytes:
    """The module's bytes of step `nth` (0: its first answer) of exchange `name`, for the fake's dialect "1" or "2"
    as well as "1.7" or "2.x": what the real firmware answers, for tests outside the replay to compare with."""
    folder = next((f for f, d in DIALECTS.items() if dialect in (f, d)), dialect)
    exchange = load(ROOT / folder / (name + SUFFIX))
    return [data for direction, data in exchange.steps if direction == MODULE][nth]
