"""`espat --help` and `espat <command> --help` as click renders them, kept in the user's cache.

Importing click alone takes about as long as starting Python, so help text is rendered by click once and kept,
keyed by the words asked, the terminal's width, Python, click and every source file of espat and esp8266sim (a
changed file is a new key: the text is rendered again). Only plain `espat [COMMAND...] --help` is kept.
"""
from __future__ import annotations

import hashlib
import os
import re
import sys
from typing import List, Optional

__all__ = ["cacheable", "kept_help", "read", "keep_help"]

PACKAGES = ("espat", "esp8266sim")          # whose files the help is rendered from (the CLI, sim, uno, collect)


def cacheable(argv: List[str]) -> bool:
    return bool(argv) and argv[-1] in ("--help", "-h") and all(re.fullmatch(r"[a-z][a-z-]*", w) for w in argv[:-1])


def kept_help(argv: List[str]) -> Optional[str]:
    """The file the help for `argv` is kept in (it may not exist yet); None when no key can be made."""
    import importlib.util
    try:
        click = importlib.util.find_spec("click")
    except (ImportError, ValueError):
        return None
    if click is None or not click.origin:
        return None
    width = os.environ.get("COLUMNS", "")
    if not width:
        try:
            width = str(os.get_terminal_size(sys.stdout.fileno()).columns)
        except (OSError, ValueError, AttributeError):
            width = "-"             # not a terminal: click renders at its full width
    stamp = [sys.version, width, " ".join(argv[:-1]), _stamp(click.origin)]
    for package in PACKAGES:
        spec = importlib.util.find_spec(package)
        for root in (spec.submodule_search_locations or []) if spec else []:
            for folder, dirs, files in os.walk(root):
                dirs[:] = sorted(d for d in dirs if d != "__pycache__")
                stamp += [_stamp(os.path.join(folder, name)) for name in sorted(files) if name.endswith(".py")]
    digest = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:24]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "espat", f"help-{digest}.txt")


def read(path: Optional[str]) -> Optional[str]:
    """The help kept at `path`, or None when there is none."""
    if path is None:
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError:
        return None


def keep_help(group, argv: List[str], path: Optional[str]) -> None:
    """Render the help for `argv` as click does and keep it at `path`; nothing is kept when a command is missing
    or the cache cannot be written (click then says what it says)."""
    if path is None:
        return
    ctx = group.make_context("espat", [], resilient_parsing=True)
    command = group
    for name in argv[:-1]:
        try:
            command = command.get_command(ctx, name) if hasattr(command, "get_command") else None
        except Exception:           # a command whose module is missing: click's run says so
            return
        if command is None:
            return
        ctx = command.make_context(name, [], parent=ctx, resilient_parsing=True)
    text = ctx.get_help() + "\n"
    partial = f"{path}.{os.getpid()}"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(partial, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(partial, path)       # whole or not at all, also with two espat starting at once
    except OSError:
        try:
            os.unlink(partial)
        except OSError:
            pass


def _stamp(path: str) -> str:
    try:
        st = os.stat(path)
    except OSError:
        return path
    return f"{path}:{st.st_mtime_ns}:{st.st_size}"
