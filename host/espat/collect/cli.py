"""`espat collect`: run the collector, and manage its device tokens. Imports nothing heavy until a command runs."""
from __future__ import annotations

import sys

import click

__all__ = ["collect"]

DB_HELP = "database URL: sqlite:///FILE (default: collect.sqlite3 in your data directory) or postgresql://USER@HOST/DB"


def _listen(value: str) -> tuple:
    host, sep, port = value.rpartition(":")
    if not sep or not port.isdigit() or not 0 <= int(port) <= 65535:
        raise click.BadParameter(f"{value!r} is not HOST:PORT (e.g. 127.0.0.1:8080 or 0.0.0.0:8080)")
    return host.strip("[]") or "127.0.0.1", int(port)


def _open_store(db: str | None, existing: bool = False):
    from .store import Unavailable, open_store
    try:
        store = open_store(db, existing)
        store.migrate()
    except (ValueError, Unavailable) as exc:
        raise click.ClickException(str(exc)) from None
    except Exception as exc:  # SchemaTooNew and the driver's own errors: one line, never a traceback
        raise click.ClickException(f"database: {exc}") from None
    return store


def _db(ctx: click.Context, own: str | None) -> str | None:
    """The database of a token command: its own --db, or the one given to `espat collect --db` before it (both,
    naming two databases, is a usage error rather than a guess)."""
    group = ctx.meta.get("espat.collect.db")
    if group is None:
        return own                                    # its own --db, $ESPAT_COLLECT_DB, or the default
    if ctx.get_parameter_source("db") is click.core.ParameterSource.COMMANDLINE and own != group:
        raise click.UsageError(f"two databases: --db {group} before `token` and --db {own} after it")
    return group


def _as_json(ctx: click.Context, flag: bool) -> bool:
    """`--json` after the command, or espat's own `--json` before `collect`."""
    return flag or bool(getattr(ctx.obj, "as_json", False))


def _echo_json(data) -> None:
    import json
    click.echo(json.dumps(data, separators=(",", ":")))


@click.group(invoke_without_command=True, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--listen", default="127.0.0.1:8080", show_default=True, metavar="HOST:PORT",
              help="where to take readings; 0.0.0.0:8080 to reach it from the network")
@click.option("--db", envvar="ESPAT_COLLECT_DB", metavar="URL", help=DB_HELP)
@click.option("--workers", type=click.IntRange(1, 64), default=1, show_default=True,
              help="server processes (for PostgreSQL; SQLite has one writer anyway); each keeps its own rate limits")
@click.option("--rate", type=click.FloatRange(0.01), default=5.0, show_default=True,
              help="readings a second per device, on average (over it: 429 with Retry-After)")
@click.option("--burst", type=click.IntRange(1), default=60, show_default=True,
              help="readings a device may send in one go (a board emptying its buffer after an outage)")
@click.pass_context
def collect(ctx, listen, db, workers, rate, burst):
    """Take the reporters' readings over HTTP and keep them: POST /api/readings, a live page at /.

    \b
    Point a reporter at it with ESPAT_SERVER_HOST=<this machine's address> ESPAT_SERVER_PORT=<port>
    ESPAT_SERVER_PATH=/api/readings. GET /api/readings?device=&since=&until=&format=csv gives them back;
    /api/gaps?device= shows what the field lost. Ctrl-C stops it with every acknowledged reading on disk.
    """
    if ctx.invoked_subcommand is not None:
        if ctx.get_parameter_source("db") is click.core.ParameterSource.COMMANDLINE:
            ctx.meta["espat.collect.db"] = db          # reaches `token ...` (its own --db may say the same)
        return
    host, port = _listen(listen)
    from .app import Settings
    from .server import PortBusy, bind, serve
    store = _open_store(db)
    url = store.url
    tokened = len(store.token_digests())
    store.close()
    try:
        sock = bind(host, port)
    except PortBusy as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(2)
    for line in banner(host, sock.getsockname()[1], _shown_url(url), tokened):
        click.echo(line, err=True)
    stop = serve(Settings(url, rate=rate, burst=burst), sock, workers)
    click.echo("espat collect: stopped; every acknowledged reading is in the database", err=True)
    if stop:
        sys.exit(128 + int(stop))


def _loopback(host: str) -> bool:
    import ipaddress
    try:
        return host == "localhost" or ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def banner(host: str, port: int, database: str, tokened: int) -> list:
    """What `espat collect` says when it starts: where, which database, who may post, and who may read."""
    lines = [f"espat collect: readings to http://{host if ':' not in host else f'[{host}]'}:{port}/api/readings, "
             f"live page at /; database {database}"]
    if tokened == 0:
        lines.append("  open to every device: no tokens yet (`espat collect token add DEVICE` makes one and closes "
                     "it to devices without)")
    else:
        lines.append(f"  {tokened} device token(s): devices without a token are refused")
    if not _loopback(host):
        # the read side never asks for a token, so this holds with tokens too
        lines.append(f"  note: on {host} anyone who can reach this machine can read every reading (the live page and "
                     "/api/* need no token)" + (" and post readings until the first token" if tokened == 0 else ""))
    return lines


def _shown_url(url: str) -> str:
    from sqlalchemy.engine import make_url
    return make_url(url).render_as_string(hide_password=True)


@collect.group()
def token():
    """Per-device bearer tokens (the firmware's ESPAT_TOKEN)."""


DB_OPTION = click.option("--db", envvar="ESPAT_COLLECT_DB", metavar="URL",
                         help=DB_HELP + "; also taken from `espat collect --db URL token ...`")
JSON_OPTION = click.option("--json", "as_json", is_flag=True, help="machine-readable output (errors too)")


@token.command("add")
@click.argument("device")
@DB_OPTION
@JSON_OPTION
@click.pass_context
def token_add(ctx, device, db, as_json):
    """Make DEVICE a new token (replacing any old one) and print it, once: only its hash is kept. A database
    that is not there yet is made (its directory must exist)."""
    from .contract import DEVICE_RE, DEVICE_RULE
    from .guard import new_token
    if not DEVICE_RE.fullmatch(device):
        raise click.UsageError(f"DEVICE must be {DEVICE_RULE} (the reading contract's rule, as the firmware's "
                               "ESPAT_DEVICE)")
    store = _open_store(_db(ctx, db))
    value = new_token()
    store.set_token(device, value)
    where = _shown_url(store.url)
    store.close()
    if _as_json(ctx, as_json):
        return _echo_json({"device": device, "token": value, "database": where})
    click.echo(value)
    click.echo(f"(build {device}'s firmware with ESPAT_TOKEN={value}; it is not shown again; database {where})",
               err=True)


@token.command("remove")
@click.argument("device")
@DB_OPTION
@JSON_OPTION
@click.pass_context
def token_remove(ctx, device, db, as_json):
    """Forget DEVICE's token (with no tokens left, the collector is open to every device again)."""
    store = _open_store(_db(ctx, db), existing=True)
    had = device in store.token_digests()
    if had:
        store.set_token(device, None)
    store.close()
    if not had:
        raise click.ClickException(f"{device} had no token")
    if _as_json(ctx, as_json):
        return _echo_json({"device": device, "removed": True})
    click.echo(f"{device}: token removed", err=True)


@token.command("list")
@DB_OPTION
@JSON_OPTION
@click.pass_context
def token_list(ctx, db, as_json):
    """The devices that have a token (the tokens themselves are not kept)."""
    store = _open_store(_db(ctx, db), existing=True)
    devices = sorted(store.token_digests())
    store.close()
    if _as_json(ctx, as_json):
        return _echo_json({"devices": devices})
    for device in devices:
        click.echo(device)
