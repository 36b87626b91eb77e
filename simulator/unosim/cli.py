"""`espat uno`: a virtual Arduino Uno on a pseudo-terminal, its ESP-01 the fake module (or any module URL).

    espat uno --network HomeNet:s3cr3t99 --host example.com=127.0.0.1:8080
    pio run -e reporter_softserial -t upload --upload-port /dev/pts/N
    pio device monitor -p /dev/pts/N -b 115200

Prints the port's path on stdout, then runs until Ctrl-C (flash and EEPROM files are written back then).
`--control PORT` opens a loopback TCP port taking lines such as `A0=0.3`, `vcc=4.8` or `temp-mv=330`, which change
the inputs while the sketch runs.
"""
from __future__ import annotations

import signal
import socketserver
import sys
import threading
from pathlib import Path
from typing import Optional

import click

from esp8266sim.config import ConfigError, SimConfig, parse_host, parse_network
from esp8266sim.faults import FaultError
from esp8266sim.simulator import Simulator

from .board import ANALOG_PINS, ESP_WIRING, Uno, check_volts
from .fakewires import wire_to_fake
from .harness import HarnessError, new_seed
from .image import ImageError
from .relay import PortRelay, RelayError

__all__ = ["uno"]


def _analog(ctx, param, values):
    out = {}
    for spec in values:
        pin, sep, volts = spec.partition("=")
        try:
            out[pin.upper()] = check_volts(pin, float(volts), 5.0) if sep else None
        except ValueError as exc:
            raise click.BadParameter(str(exc) if sep and volts else f"{spec!r}: expected A0=VOLTS") from None
        if out[pin.upper()] is None:
            raise click.BadParameter(f"{spec!r}: expected A0=VOLTS")
    return out


def apply_control_line(board: Uno, line: str) -> str:
    """`A0=0.3`, `vcc=4.8`, `temp-mv=330`: the answer is `ok` or one line saying what was wrong."""
    name, sep, value = line.strip().partition("=")
    try:
        if not sep:
            raise ValueError("expected NAME=VALUE")
        if name.upper() in ANALOG_PINS:
            board.set_analog(name.upper(), float(value))
        elif name.lower() == "vcc":
            board.set_vcc(float(value))
        elif name.lower() == "temp-mv":
            board.set_temp_mv(int(value))
        else:
            raise ValueError(f"unknown input {name!r} (A0..A5, vcc, temp-mv)")
    except (ValueError, HarnessError) as exc:
        return f"error: {exc}"
    return "ok"


def serve_control(board: Uno, port: int) -> socketserver.TCPServer:
    class Handler(socketserver.StreamRequestHandler):
        def handle(self):
            for raw in self.rfile:
                line = raw.decode(errors="replace").strip()
                if line:
                    self.wfile.write((apply_control_line(board, line) + "\n").encode())

    server = socketserver.ThreadingTCPServer(("127.0.0.1", port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@click.command(short_help="Virtual Uno that PlatformIO uploads to.")
@click.option("--esp", "wiring", type=click.Choice(sorted(ESP_WIRING)), default="softserial", show_default=True,
              help="where the ESP-01 is wired: pins 2/3 at 9600 (SoftwareSerial) or pins 0/1 at 115200")
@click.option("--adc", "analog", multiple=True, callback=_analog, metavar="A0=VOLTS",
              help="an analog input's voltage (repeatable; default A0=0.215, an LM35 at 21.5 °C)")
@click.option("--vcc", type=click.FloatRange(1.8, 5.5), default=5.0, show_default=True, help="supply voltage")
@click.option("--temp-mv", type=click.IntRange(0, 1100), default=314, show_default=True,
              help="the chip's temperature sensor (314 mV is about 25 °C)")
@click.option("--eeprom", type=click.Path(dir_okay=False, path_type=Path), help="keep EEPROM in this file")
@click.option("--flash", type=click.Path(dir_okay=False, path_type=Path),
              help="keep flash in this file (32 KB), so an uploaded sketch survives a restart")
@click.option("--firmware", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="start with this sketch (ELF or HEX) instead of uploading one")
@click.option("--esp-port", metavar="URL", help="wire the ESP side to this module (device or pyserial URL)")
@click.option("--esp-rst", type=click.IntRange(0, 19), default=4, show_default=True, metavar="PIN",
              help="the Uno pin wired to the fake ESP-01's RST (a sketch built with -DESPAT_RESET_PIN=PIN)")
@click.option("--esp-ch-pd", type=click.IntRange(0, 19), metavar="PIN",
              help="the Uno pin wired to the fake ESP-01's CH_PD (default: none, CH_PD tied high)")
@click.option("--control", type=click.IntRange(0, 65535), metavar="PORT",
              help="loopback TCP port taking lines A0=VOLTS, vcc=VOLTS, temp-mv=MV during the run")
@click.option("--network", multiple=True, metavar="SSID:PASSWORD", help="a network the fake module can join")
@click.option("--host", "hosts", multiple=True, metavar="NAME[:PORT]=127.0.0.1:PORT",
              help="where the fake module's connections to a name go")
@click.option("--dialect", type=click.Choice(["1", "2"]), default="1", help="fake module: AT 1.7 or AT 2.x")
@click.option("--latency-scale", type=click.FloatRange(0), default=1.0, help="fake module: scale its delays")
@click.option("--fault", multiple=True, metavar="SPEC", help="fake module: inject a fault (repeatable)")
@click.option("--seed", type=click.IntRange(0, 2**32 - 1),
              help="the run's randomness: the board's ADC noise and the fake module's faults (default: a new one "
                   "each run, shown at the start, as each power-on of a board differs)")
@click.option("--log", type=click.Path(dir_okay=False), help="fake module: write a wire transcript")
def uno(wiring, analog, vcc, temp_mv, eeprom, flash, firmware, esp_port, esp_rst, esp_ch_pd, control, network,
        hosts, dialect, latency_scale, fault, seed, log) -> None:
    """A virtual Arduino Uno: prints the path of its USB serial port, which avrdude and `pio run -t upload
    --upload-port PATH` upload to and a serial monitor reads; its ESP-01 is the fake module."""
    baud = ESP_WIRING[wiring][1]
    seed = new_seed() if seed is None else seed
    sim: Optional[Simulator] = None
    relay: Optional[PortRelay] = None
    board: Optional[Uno] = None
    stop = threading.Event()
    stopped_by = []

    def on_signal(signum, _frame):
        stopped_by.append(signum)
        stop.set()

    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, on_signal)
    try:
        if esp_port:
            relay = PortRelay(esp_port, baud)
            esp = relay.address
        else:
            config = SimConfig(networks=dict(parse_network(s) for s in network),
                               hosts=dict(parse_host(s) for s in hosts), dialect=dialect, baud=baud,
                               latency_scale=latency_scale, faults=list(fault), seed=seed, log_path=log)
            sim = Simulator(config)
            esp = sim.serve_tcp().split("//", 1)[1]
        board = Uno(esp, wiring=wiring, flash=flash, firmware=firmware, eeprom=eeprom, analog=analog,
                    vcc=vcc, temp_mv=temp_mv, seed=seed, esp_rst=None if relay else esp_rst,
                    esp_ch_pd=None if relay else esp_ch_pd)
        if sim is not None:
            wire_to_fake(board, sim)
        port = board.start()
        server = serve_control(board, control) if control is not None else None
        click.echo(port)
        where = "pins 2/3 (SoftwareSerial)" if wiring == "softserial" else "pins 0/1 (UART)"
        pins = "".join(f", {name} on pin {pin}" for name, pin in (("RST", esp_rst), ("CH_PD", esp_ch_pd))
                       if pin is not None and sim is not None)
        click.echo(f"virtual Uno: USB serial {port}; ESP-01 on {where} at {baud} baud{pins}"
                   + (f"; control on 127.0.0.1:{server.server_address[1]}" if server else "")
                   + f"; seed {seed}; Ctrl-C stops it", err=True)
        click.echo("(avrdude's `ioctl(\"TIOCMGET\")` errors at each upload are harmless: a pseudo-terminal has no "
                   "modem lines, and opening it resets the board as DTR does)", err=True)
        while not stop.wait(0.5):
            if not board.running():
                board.stop()
                raise click.ClickException("the virtual Uno stopped: "
                                           + board.stderr.decode(errors="replace").strip()[-300:])
    except (ImageError, ConfigError, FaultError, RelayError, ValueError) as exc:
        raise click.UsageError(str(exc)) from None
    except HarnessError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:
        raise click.ClickException(f"{exc.strerror or exc}") from None
    finally:
        if board is not None:
            board.stop()
        if sim is not None:
            sim.close()
        if relay is not None:
            relay.close()
    if stopped_by:      # stopped cleanly (flash and EEPROM written back); the status still says by what
        sys.exit(128 + stopped_by[0])


if __name__ == "__main__":
    sys.exit(uno())
