"""The `espat` command line: find, diagnose, configure and use an ESP-01 from a shell.

Each command lives in the module of its kind (raw, diagnose, wifi, http, tools) and is imported only when it
runs. Help text is click's own rendering, kept after the first time (helpcache.py), because importing click alone
takes as long as starting Python. Exit statuses: see errors.py.
"""
import sys

__all__ = ["main"]


def main(args=None, prog_name: str = "espat", **extra):
    """The `espat` command (the console script's entry point)."""
    argv = sys.argv[1:] if args is None else list(args)
    kept = None
    if prog_name == "espat" and not extra:
        from . import helpcache
        kept = helpcache.kept_help(argv) if helpcache.cacheable(argv) else None
        text = helpcache.read(kept)
        if text is not None:
            sys.stdout.write(text)
            sys.stdout.flush()
            raise SystemExit(0)     # else not kept yet: click renders it, and it is kept below
    try:
        from .group import espat
    except ModuleNotFoundError as exc:
        from .extras import missing_extra
        line = missing_extra(exc, "the espat command line")
        if line is None:
            raise
        sys.stderr.write(f"Error: {line}\n")
        raise SystemExit(1) from None
    if kept is not None:
        from .helpcache import keep_help
        keep_help(espat, argv, kept)
    return espat.main(args=argv, prog_name=prog_name, **extra)
