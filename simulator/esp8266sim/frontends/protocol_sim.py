"""`sim://`: a fake ESP-01 in this process, opened like any serial port.

    serial.serial_for_url("sim://?network=HomeNet:s3cr3t&host=example.com=127.0.0.1:8080", baudrate=115200)

Query parameters (network, host and fault repeat): network=SSID:PASSWORD, host=NAME=127.0.0.1:PORT,
dialect=1|2, baud=N (the module's UART rate, and the wire is paced at it), adapter=none|ftdi, latency_timer=MS,
latency_scale=F, latency_rtt=S and the other latency knobs (config.LATENCY_KNOBS: latency_join, latency_dns,
latency_connect, latency_send, latency_boot), fault=SPEC, seed=N, log=FILE. The port's own `baudrate` is the
host's rate: when it is not the module's, both sides read garbage, as with a real module at another rate.
Without baud=, the module runs at 115200 and nothing is paced.

name=NAME keeps the module after the port closes, like a board left plugged in: the first open starts it in a
background process, every later `sim://?name=NAME` from any process plugs the cable in again, with its Wi-Fi,
links and settings as they were (named.py). The first open's settings hold; a later one gives only name= or the
same settings. One host at a time.
"""
from __future__ import annotations

import urllib.parse
from typing import List, Tuple

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from ..config import LATENCY_KNOBS, ConfigError, SimConfig, parse_host, parse_network
from ..faults import FaultError
from ..simulator import Simulator
from .named import NamedError, open_named

_TIMES = {f"latency_{name}" for name in LATENCY_KNOBS}
_KEYS = {"network", "host", "dialect", "baud", "adapter", "latency_timer", "latency_scale", "fault", "seed",
         "log", "name"} | _TIMES


def _query(url: str) -> List[Tuple[str, str]]:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sim":
        raise SerialException(f"expected a sim:// URL, not {url!r}")
    return urllib.parse.parse_qsl(parts.query, keep_blank_values=True)


def config_from_url(url: str) -> SimConfig:
    query = _query(url)
    unknown = sorted({key for key, _ in query} - _KEYS)
    if unknown:
        raise SerialException(f"sim:// does not know {', '.join(unknown)}; it takes {', '.join(sorted(_KEYS))}")
    networks, hosts, faults, single = {}, {}, [], {}
    try:
        for key, value in query:
            if key == "network":
                ssid, password = parse_network(value)
                networks[ssid] = password
            elif key == "host":
                name, target = parse_host(value)
                hosts[name] = target
            elif key == "fault":
                faults.append(value)
            else:
                single[key] = value
        baud = int(single["baud"]) if "baud" in single else None
        times = {key[len("latency_"):]: float(value) for key, value in single.items() if key in _TIMES}
        timer = float(single["latency_timer"]) if "latency_timer" in single else None
        return SimConfig(networks=networks, hosts=hosts, dialect=single.get("dialect", "1"), baud=baud,
                         latency_scale=float(single.get("latency_scale", 1.0)), latency_times=times,
                         adapter=single.get("adapter", "none"), latency_timer_ms=timer, faults=faults,
                         seed=int(single.get("seed", 0)), log_path=single.get("log"))
    except (ConfigError, FaultError, ValueError) as exc:
        raise SerialException(f"sim://: {exc}") from None


class Serial(SerialBase):
    """A serial port whose other end is a fake ESP-01."""

    def __init__(self, *args, **kwargs) -> None:
        self._sim = None
        self._end = None
        self._name = None
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        config = config_from_url(self.portstr)
        query = _query(self.portstr)
        self._name = dict(query).get("name")
        if self._name is not None:
            settings = sorted((key, value) for key, value in query if key != "name")
            try:
                self._end = open_named(self._name, settings, self._baudrate)
            except (NamedError, ValueError) as exc:
                raise SerialException(str(exc)) from None
            self.is_open = True
            return
        self._sim = Simulator(config)
        self._end = self._sim.attach(self._baudrate)
        self.is_open = True

    @property
    def simulator(self) -> Simulator:
        """The simulator behind this port, for tests that look inside the fake module (None: a named module,
        which runs in its own process)."""
        return self._sim

    def _reconfigure_port(self) -> None:
        if self._end is not None:
            self._end.set_baud(self._baudrate)

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._end.close()
            if self._sim is not None:
                self._sim.close()
        super().close()

    @property
    def in_waiting(self) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        return self._end.waiting

    def read(self, size: int = 1) -> bytes:
        if not self.is_open:
            raise PortNotOpenError()
        return self._end.read(size, self._timeout)

    def write(self, data) -> int:
        if not self.is_open:
            raise PortNotOpenError()
        data = bytes(data)
        self._end.write(data)
        return len(data)

    def reset_input_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()
        self._end.clear()

    def reset_output_buffer(self) -> None:
        if not self.is_open:
            raise PortNotOpenError()

    @property
    def out_waiting(self) -> int:
        return 0

    def _update_break_state(self) -> None:
        pass

    def _update_rts_state(self) -> None:
        pass

    def _update_dtr_state(self) -> None:
        pass

    @property
    def cts(self) -> bool:
        return True

    @property
    def dsr(self) -> bool:
        return True

    @property
    def ri(self) -> bool:
        return False

    @property
    def cd(self) -> bool:
        return True

