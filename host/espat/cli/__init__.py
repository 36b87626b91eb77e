"""The `espat` command line: find, diagnose, configure and use an ESP-01 from a shell.

Each command lives in the module of its kind (raw, diagnose, wifi, http, tools) and is imported only when it
runs. `espat --help` prints help.txt, click's own rendering of the group kept beside this file (a test checks it
is current), because importing click alone takes as long as starting Python. Exit statuses: see group.py.
"""
import os
import sys

__all__ = ["main"]

HELP_FILE = os.path.join(os.path.dirname(__file__), "help.txt")
HELP_WIDTH = 80                 # click's widest help; narrower terminals get click's own rendering


def main(args=None, prog_name: str = "espat", **extra):
    """The `espat` command (the console script's entry point)."""
    argv = sys.argv[1:] if args is None else list(args)
    if argv in (["--help"], ["-h"]) and prog_name == "espat" and not extra and _wide_enough():
        try:
            with open(HELP_FILE, encoding="utf-8") as f:
                sys.stdout.write(f.read())
            sys.stdout.flush()
            raise SystemExit(0)
        except OSError:
            pass                # not installed with its data: click renders it
    try:
        from .group import espat
    except ModuleNotFoundError as exc:
        from .extras import missing_extra
        line = missing_extra(exc, "the espat command line")
        if line is None:
            raise
        sys.stderr.write(f"Error: {line}\n")
        raise SystemExit(1) from None
    return espat.main(args=argv, prog_name=prog_name, **extra)


def _wide_enough() -> bool:
    if "COLUMNS" in os.environ:
        return os.environ["COLUMNS"].isdigit() and int(os.environ["COLUMNS"]) >= HELP_WIDTH
    try:
        return os.get_terminal_size(sys.stdout.fileno()).columns >= HELP_WIDTH
    except (OSError, ValueError, AttributeError):
        return True             # not a terminal: click renders at its full width too
