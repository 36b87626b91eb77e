"""`python -m esp8266sim` / `espat sim`: run a fake ESP-01 behind a pty or a TCP port until interrupted."""
from __future__ import annotations

import argparse
import signal
import sys
import threading
from typing import List, Optional

from .config import ADAPTERS, LATENCY_KNOBS, ConfigError, SimConfig, parse_host, parse_network
from .faults import FaultError
from .named import remove_files, serve_named
from .simulator import Simulator

__all__ = ["main", "build_parser"]


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:      # one line, exit status 2
        sys.stderr.write(f"esp8266sim: {message}\n")
        sys.exit(2)


def build_parser(prog: str = "esp8266sim") -> argparse.ArgumentParser:
    p = _Parser(prog=prog, description="A fake ESP-01 (ESP8266 AT firmware) on a pty or a TCP port.")
    where = p.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="serve on a pseudo-terminal (its path is printed first)")
    where.add_argument("--tcp", metavar="HOST:PORT",
                       help="serve on a TCP port (port 0 picks a free one; a loopback address unless --allow-remote)")
    p.add_argument("--allow-remote", action="store_true",
                   help="let --tcp listen where other machines reach it: they drive the fake module, and through "
                        "it open TCP links to the --host services on this machine's loopback")
    where.add_argument("--name", metavar="NAME",
                       help="serve as the named module that sim://?name=NAME opens from any process")
    p.add_argument("--idle-exit", type=float, default=600.0, metavar="S",
                   help="with --name: power off after S seconds without a host (default: %(default)s)")
    p.add_argument("--network", action="append", default=[], metavar="SSID:PASSWORD",
                   help="a Wi-Fi network the module can join (repeatable)")
    p.add_argument("--host", action="append", default=[], metavar="NAME[:PORT]=127.0.0.1:PORT",
                   help="where a name or address goes (repeatable); all else fails DNS or to connect")
    p.add_argument("--dialect", choices=["1", "2"], default="1", help="AT 1.7 (default) or AT 2.x")
    p.add_argument("--baud", type=int, help="the module's UART rate; bytes are paced at it (none: no pacing)")
    p.add_argument("--adapter", choices=sorted(ADAPTERS), default="none",
                   help="the USB-serial adapter the host reads through: ftdi hands bytes over in 62-byte packets "
                        "or after its 16 ms latency timer (default: none, bytes as they cross)")
    p.add_argument("--latency-timer", type=float, metavar="MS",
                   help="the adapter's latency timer in ms (default: the adapter's own)")
    times = p.add_argument_group("latency (seconds, a home Wi-Fi network's by default; see config.py)")
    times.add_argument("--latency-scale", type=float, default=1.0, metavar="F",
                       help="multiply every time below, 0 for instant answers (default: %(default)s)")
    for name, (default, meaning) in LATENCY_KNOBS.items():
        times.add_argument(f"--latency-{name}", type=float, metavar="S", default=default,
                           help=f"{meaning} (default: %(default)s)")
    p.add_argument("--fault", action="append", default=[], metavar="SPEC",
                   help="inject a fault (repeatable): see esp8266sim/faults.py")
    p.add_argument("--seed", type=int, default=0, help="seed for the faults' randomness")
    p.add_argument("--log", metavar="FILE", help="write a timestamped wire transcript (passwords redacted)")
    return p


def config_from_args(args: argparse.Namespace) -> SimConfig:
    networks = dict(parse_network(spec) for spec in args.network)
    hosts = dict(parse_host(spec) for spec in args.host)
    times = {name: getattr(args, f"latency_{name}") for name in LATENCY_KNOBS}
    return SimConfig(networks=networks, hosts=hosts, dialect=args.dialect, baud=args.baud,
                     latency_scale=args.latency_scale, latency_times=times, adapter=args.adapter,
                     latency_timer_ms=args.latency_timer, faults=args.fault, seed=args.seed, log_path=args.log)


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
    args = build_parser(prog).parse_args(argv)
    try:
        config = config_from_args(args)
    except (ConfigError, FaultError) as exc:
        sys.stderr.write(f"{prog}: {exc}\n")
        return 2
    host, port = "127.0.0.1", 0
    if args.tcp:
        host, _, port_text = args.tcp.rpartition(":")
        if not host or not port_text.isdigit() or int(port_text) > 65535:
            sys.stderr.write(f"{prog}: --tcp {args.tcp!r}: expected HOST:PORT\n")
            return 2
        port = int(port_text)
        if not args.allow_remote and not _loopback(host):
            sys.stderr.write(f"{prog}: --tcp {args.tcp} would let anyone who reaches this machine drive the fake "
                             "module, and through it connect to the --host services on this machine's loopback: "
                             "listen on 127.0.0.1, or add --allow-remote\n")
            return 2
    try:
        sim = Simulator(config)
    except OSError as exc:
        sys.stderr.write(f"{prog}: cannot open the log: {exc}\n")
        return 2
    stop = threading.Event()            # set by the named module when no host came for --idle-exit seconds
    signalled: List[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        # Only a note: Event.set() here would take the lock Event.wait() below holds at the moment the signal
        # lands (it runs in this same thread), and the process would hang until SIGKILL.
        signal.signal(sig, lambda signum, frame: signalled.append(signum))
    try:
        if args.pty:
            where = sim.serve_pty()
        elif args.name:
            sim.start(boot=False)           # powered on by its first host
            where = "named module at " + sim.call_async(serve_named(sim, args.name, args.idle_exit, stop))
        else:
            where = "listening on " + sim.serve_tcp(host, port)
    except ValueError as exc:
        sys.stderr.write(f"{prog}: --name: {exc}\n")
        sim.close()
        return 2
    except OSError as exc:
        sys.stderr.write(f"{prog}: cannot listen on {args.name or f'{host}:{port}'}: {exc.strerror or exc}\n")
        sim.close()
        return 2
    print(where, flush=True)
    try:
        while not signalled and not stop.wait(0.2):
            pass
    finally:
        sim.close()
        if args.name:
            remove_files(args.name)
    return 0
