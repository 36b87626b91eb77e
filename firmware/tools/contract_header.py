"""The collector's reading contract (host/espat_collect/contract.json) as a C++ header for the reporter: what each
HTTP status means to the board (an enum, a table and one function) and the device name rule (constexpr, so the reporter
refuses at compile time a name from secrets.h or the defaults that the collector would refuse).

    render(contract) -> header text      (raises ContractError when the file asks what C cannot say)

The device pattern is translated, not interpreted: a sequence of character classes, each once or {m,n} times, is
what the translation knows; anything else is a one-line error, so a new rule cannot be silently ignored.
"""
from __future__ import annotations

import json
import re
from pathlib import Path

CONTRACT = Path(__file__).resolve().parents[2] / "host" / "espat_collect" / "contract.json"
HEADER_NAME = "espat_contract.h"
# The board's actions, in the enum's order; contract.json names them in "status" and "default".
ACTIONS = ("stored", "repeat", "conflict", "drop", "keep", "backoff")
PIECE = re.compile(r"\[((?:\\.|[^\]\\])+)\](?:\{(\d+),(\d+)\})?")


class ContractError(Exception):
    """contract.json says something this translation cannot turn into C; one line."""


def load(path: Path = CONTRACT) -> dict:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError) as e:
        raise ContractError(f"{path}: {e}") from None


def _class_ranges(body: str) -> list[tuple[int, int]]:
    chars, i = [], 0
    while i < len(body):
        if body[i] == "\\" and i + 1 < len(body):
            chars.append(body[i + 1])
            i += 2
        else:
            chars.append(body[i])
            i += 1
    ranges, i = [], 0
    while i < len(chars):
        if i + 2 < len(chars) and chars[i + 1] == "-":
            ranges.append((ord(chars[i]), ord(chars[i + 2])))
            i += 3
        else:
            ranges.append((ord(chars[i]), ord(chars[i])))
            i += 1
    return ranges


def device_pieces(pattern: str) -> list[tuple[list[tuple[int, int]], int, int]]:
    """[(ranges, min, max)] for a pattern made of character classes, each once or {m,n} times."""
    pieces, pos = [], 0
    for m in PIECE.finditer(pattern):
        if m.start() != pos:
            break
        low, high = (int(m.group(2)), int(m.group(3))) if m.group(2) else (1, 1)
        pieces.append((_class_ranges(m.group(1)), low, high))
        pos = m.end()
    if pos != len(pattern) or not pieces:
        raise ContractError(f"contract.json device pattern {pattern!r}: only character classes, each once or "
                            "{m,n} times, can be checked at build time")
    return pieces


def render(contract: dict) -> str:
    out = ["// Generated at build time from host/espat_collect/contract.json (firmware/tools/contract_header.py).",
           "// Do not edit: change the contract, which the collector reads too.",
           "#pragma once", "#include <stdint.h>", "",
           "// What an HTTP status means to the board (contract.json \"status\").",
           "enum class Verdict : uint8_t { " + ", ".join(a.capitalize() for a in ACTIONS) + " };", ""]
    default = contract.get("default", "keep")
    statuses = contract.get("status", {})
    for action in (default, *statuses.values()):
        if action not in ACTIONS:
            raise ContractError(f"contract.json: status action {action!r} is not one of {', '.join(ACTIONS)}")
    # A table, not a switch: the statuses whose action is not the default, each as one word (the code in the low
    # 10 bits, the action above), searched in a loop -- on the AVR a case costs about 8 B of code, an entry 2 B.
    listed = [(int(code), action) for code, action in sorted(statuses.items(), key=lambda kv: int(kv[0]))
              if action != default]
    for code, _ in listed:
        if not 100 <= code <= 999:
            raise ContractError(f"contract.json: status {code} is not an HTTP status (100-999)")
    entries = ", ".join(f"{code} | {ACTIONS.index(action)} << 10 /* {action} */" for code, action in listed)
    out.append("#if defined(__has_include) && __has_include(<avr/pgmspace.h>)")
    out.append("#include <avr/pgmspace.h>")
    out.append("#else  // a plain host compiler (the header's own tests)")
    out.append("#define PROGMEM")
    out.append("#define pgm_read_word(p) (*(p))")
    out.append("#endif")
    out.append(f"const uint16_t kEspatVerdicts[{max(len(listed), 1)}] PROGMEM = {{{entries or '0'}}};")
    out.append("inline Verdict verdictFor(unsigned status) {")
    out.append(f"  for (const uint16_t* p = kEspatVerdicts; p != kEspatVerdicts + {len(listed)}; p++) {{")
    out.append("    uint16_t e = pgm_read_word(p);")
    out.append("    if ((e & 1023) == status) return (Verdict)(e >> 10);")
    out.append("  }")
    out.append(f"  return Verdict::{default.capitalize()};")
    out.append("}")
    out.append("")
    rule = contract["device"]
    pieces = device_pieces(rule["pattern"])
    out.append(f"// The device name rule: {rule['rule']} (pattern {rule['pattern']}).")
    out.append(f"#define ESPAT_CONTRACT_DEVICE_RULE {json.dumps(rule['rule'])}")
    for n, (ranges, _, _) in enumerate(pieces):
        test = " || ".join(f"c == {a}" if a == b else f"(c >= {a} && c <= {b})" for a, b in ranges)
        out.append(f"constexpr bool espatDeviceIn{n}(unsigned char c) {{ return {test}; }}")
    # Greedy, piece by piece, last piece first so each function is declared before use.
    out.append(f"constexpr bool espatDeviceFrom{len(pieces)}(const char* s, unsigned) {{ return *s == 0; }}")
    for n in range(len(pieces) - 1, -1, -1):
        _, low, high = pieces[n]
        out.append(f"constexpr bool espatDeviceFrom{n}(const char* s, unsigned n) {{")
        out.append(f"  return n < {high} && *s && espatDeviceIn{n}((unsigned char)*s) ? "
                   f"espatDeviceFrom{n}(s + 1, n + 1) : n >= {low} && espatDeviceFrom{n + 1}(s, 0);")
        out.append("}")
    out.append("constexpr bool deviceAllowed(const char* name) { return espatDeviceFrom0(name, 0); }")
    return "\n".join(out) + "\n"
