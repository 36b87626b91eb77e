"""`python -m esp8266sim` / `espat sim`: run a fake ESP-01 behind a pty or a TCP port until interrupted."""
from __future__ import annotations

import signal
import sys
import threading
from typing import Dict, List, Optional

import click

from .config import ADAPTERS, LATENCY_KNOBS, ConfigError, SimConfig, parse_host, parse_network
from .faults import FaultError
from .frontends.named import remove_files, serve_named
from .simulator import Simulator

__all__ = ["main", "sim"]


def _latency_options(command):
    """--latency-NAME for every knob of config.LATENCY_KNOBS, with its meaning and default."""
    for name, (default, meaning) in reversed(list(LATENCY_KNOBS.items())):
        command = click.option(f"--latency-{name}", type=float, metavar="S", default=default,
                               help=f"{meaning} (default: {default})")(command)
    return command


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--pty", is_flag=True, help="serve on a pseudo-terminal (its path is printed first)")
@click.option("--tcp", metavar="HOST:PORT",
              help="serve on a TCP port (port 0 picks a free one; a loopback address unless --allow-remote)")
@click.option("--allow-remote", is_flag=True,
              help="let --tcp listen where other machines reach it: they drive the fake module, and through it "
                   "open TCP links to the --host services on this machine's loopback")
@click.option("--name", metavar="NAME", help="serve as the named module that sim://?name=NAME opens from any process")
@click.option("--idle-exit", type=float, default=600.0, metavar="S",
              help="with --name: power off after S seconds without a host (default: 600.0)")
@click.option("--network", multiple=True, metavar="SSID:PASSWORD",
              help="a Wi-Fi network the module can join (repeatable)")
@click.option("--host", multiple=True, metavar="NAME[:PORT]=127.0.0.1:PORT",
              help="where a name or address goes (repeatable); all else fails DNS or to connect")
@click.option("--dialect", type=click.Choice(["1", "2"]), default="1", help="AT 1.7 (default) or AT 2.x")
@click.option("--baud", type=int, metavar="BAUD", help="the module's UART rate; bytes are paced at it (none: no pacing)")
@click.option("--adapter", type=click.Choice(sorted(ADAPTERS)), default="none",
              help="the USB-serial adapter the host reads through: ftdi hands bytes over in 62-byte packets or "
                   "after its 16 ms latency timer (default: none, bytes as they cross)")
@click.option("--latency-timer", type=float, metavar="MS",
              help="the adapter's latency timer in ms (default: the adapter's own)")
@click.option("--latency-scale", type=float, default=1.0, metavar="F",
              help="multiply every latency time below, 0 for instant answers (default: 1.0)")
@_latency_options
@click.option("--fault", multiple=True, metavar="SPEC", help="inject a fault (repeatable): see esp8266sim/faults.py")
@click.option("--seed", type=int, default=0, metavar="SEED", help="seed for the faults' randomness")
@click.option("--log", metavar="FILE", help="write a timestamped wire transcript (passwords redacted)")
@click.pass_context
def sim(ctx: click.Context, **options) -> int:
    """A fake ESP-01 (ESP8266 AT firmware) on a pty or a TCP port.

    The latency options are seconds, a home Wi-Fi network's by default (see config.py)."""
    prog = ctx.command_path
    where = [flag for flag in ("pty", "tcp", "name") if options[flag]]
    if len(where) > 1:
        raise click.UsageError(f"--{where[0]} and --{where[1]} go one at a time")
    try:
        config = config_from_options(options)
    except (ConfigError, FaultError) as exc:
        _fail(prog, str(exc))
    return _serve(prog, config, options["pty"], options["tcp"], options["allow_remote"], options["name"],
                  options["idle_exit"])


def config_from_options(options: Dict) -> SimConfig:
    networks = dict(parse_network(spec) for spec in options["network"])
    hosts = dict(parse_host(spec) for spec in options["host"])
    times = {name: options[f"latency_{name}"] for name in LATENCY_KNOBS}
    return SimConfig(networks=networks, hosts=hosts, dialect=options["dialect"], baud=options["baud"],
                     latency_scale=options["latency_scale"], latency_times=times, adapter=options["adapter"],
                     latency_timer_ms=options["latency_timer"], faults=list(options["fault"]), seed=options["seed"],
                     log_path=options["log"])


def _fail(prog: str, message: str) -> None:
    """One line on stderr and exit status 2: a user's mistake."""
    sys.stderr.write(f"{prog}: {message}\n")
    raise SystemExit(2)


def _loopback(host: str) -> bool:
    import ipaddress
    host = host.strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False            # a name: it may resolve to anything


def main(argv: Optional[List[str]] = None, prog: str = "esp8266sim") -> int:
    """`python -m esp8266sim`: a usage error is one line and exit status 2, as every other mistake."""
    try:
        return sim.main(args=argv, prog_name=prog, standalone_mode=False) or 0
    except click.ClickException as exc:
        sys.stderr.write(f"{prog}: {exc.format_message()}\n")
        return exc.exit_code
    except click.Abort:
        return 130
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 1


def _serve(prog: str, config: SimConfig, pty: bool, tcp: Optional[str], allow_remote: bool, name: Optional[str],
           idle_exit: float) -> int:
    host, port = "127.0.0.1", 0
    if tcp:
        host, _, port_text = tcp.rpartition(":")
        if not host or not port_text.isdigit() or int(port_text) > 65535:
            _fail(prog, f"--tcp {tcp!r}: expected HOST:PORT")
        port = int(port_text)
        if not allow_remote and not _loopback(host):
            _fail(prog, f"--tcp {tcp} would let anyone who reaches this machine drive the fake module, and "
                        "through it connect to the --host services on this machine's loopback: listen on 127.0.0.1, "
                        "or add --allow-remote")
    try:
        device = Simulator(config)
    except OSError as exc:
        _fail(prog, f"cannot open the log: {exc}")
    stop = threading.Event()            # set by the named module when no host came for --idle-exit seconds
    signalled: List[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Only a note: Event.set() here would take the lock Event.wait() below holds at the moment the signal
        # lands (it runs in this same thread), and the process would hang until SIGKILL.
        signal.signal(sig, lambda signum, frame: signalled.append(signum))
    try:
        if pty:
            where = device.serve_pty()
        elif name:
            device.start(boot=False)           # powered on by its first host
            where = "named module at " + device.call_async(serve_named(device, name, idle_exit, stop))
        else:
            where = "listening on " + device.serve_tcp(host, port)
    except ValueError as exc:
        device.close()
        _fail(prog, f"--name: {exc}")
    except OSError as exc:
        device.close()
        _fail(prog, f"cannot listen on {name or f'{host}:{port}'}: {exc.strerror or exc}")
    print(where, flush=True)
    try:
        while not signalled and not stop.wait(0.2):
            pass
    finally:
        device.close()
        if name:
            remove_files(name)
    return 0

