"""The `espat` command line: find, diagnose, configure and use an ESP-01 from a shell.

Each command lives in the module of its kind (raw, diagnose, wifi, http, tools) and is imported only when it
runs. `espat --help` is click's own rendering of the group, kept in the user's cache after the first time and
rendered again whenever this package's files, click or the terminal's width change, because importing click alone
takes as long as starting Python. Exit statuses: see errors.py.
"""
import os
import sys

__all__ = ["main"]


def main(args=None, prog_name: str = "espat", **extra):
    """The `espat` command (the console script's entry point)."""
    argv = sys.argv[1:] if args is None else list(args)
    if argv in (["--help"], ["-h"]) and prog_name == "espat" and not extra:
        kept = _kept_help()
        if kept is not None and os.path.isfile(kept):
            try:
                with open(kept, encoding="utf-8") as f:
                    sys.stdout.write(f.read())
                sys.stdout.flush()
                raise SystemExit(0)
            except OSError:
                pass
    try:
        from .group import espat
    except ModuleNotFoundError as exc:
        from .extras import missing_extra
        line = missing_extra(exc, "the espat command line")
        if line is None:
            raise
        sys.stderr.write(f"Error: {line}\n")
        raise SystemExit(1) from None
    if argv in (["--help"], ["-h"]) and prog_name == "espat" and not extra:
        _keep_help(espat, _kept_help())
    return espat.main(args=argv, prog_name=prog_name, **extra)


def _kept_help():
    """Where `espat --help` is kept for this package, this click and this width; None when that cannot be said."""
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
    here = os.path.dirname(__file__)
    stamp = [sys.version, width, click.origin]
    for path in sorted(os.listdir(here)) + [click.origin]:
        full = os.path.join(here, path)
        if full.endswith(".py"):
            st = os.stat(full)
            stamp.append(f"{full}:{st.st_mtime_ns}:{st.st_size}")
    import hashlib
    digest = hashlib.sha256("\n".join(stamp).encode()).hexdigest()[:20]
    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(cache, "espat", f"help-{digest}.txt")


def _keep_help(group, path) -> None:
    """Render `espat --help` as click does and keep it at `path` (nothing kept when the cache is not writable)."""
    if path is None:
        return
    import click
    with click.Context(group, info_name="espat", **group.context_settings) as ctx:
        text = ctx.get_help() + "\n"
    try:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        partial = f"{path}.{os.getpid()}"
        with open(partial, "w", encoding="utf-8") as f:
            f.write(text)
        os.replace(partial, path)
    except OSError:
        pass
