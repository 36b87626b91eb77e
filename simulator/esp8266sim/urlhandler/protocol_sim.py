"""`sim://`: a fake ESP-01 in this process, opened like any serial port.

    serial.serial_for_url("sim://?network=HomeNet:s3cr3t&host=example.com=127.0.0.1:8080", baudrate=115200)

Query parameters (network, host and fault repeat): network=SSID:PASSWORD, host=NAME=127.0.0.1:PORT,
dialect=1|2, baud=N (the module's UART rate, and the wire is paced at it), latency_scale=F, fault=SPEC, seed=N,
log=FILE. The port's own `baudrate` is the host's rate: when it is not the module's, both sides read garbage,
as with a real module at another rate. Without baud=, the module runs at 115200 and nothing is paced.
"""
from __future__ import annotations

import urllib.parse

from serial.serialutil import PortNotOpenError, SerialBase, SerialException

from ..config import ConfigError, SimConfig, parse_host, parse_network
from ..faults import FaultError
from ..simulator import Simulator

_KEYS = {"network", "host", "dialect", "baud", "latency_scale", "fault", "seed", "log"}


def config_from_url(url: str) -> SimConfig:
    parts = urllib.parse.urlsplit(url)
    if parts.scheme != "sim":
        raise SerialException(f"expected a sim:// URL, not {url!r}")
    query = urllib.parse.parse_qsl(parts.query, keep_blank_values=True)
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
        return SimConfig(networks=networks, hosts=hosts, dialect=single.get("dialect", "1"), baud=baud,
                         latency_scale=float(single.get("latency_scale", 1.0)), faults=faults,
                         seed=int(single.get("seed", 0)), log_path=single.get("log"))
    except (ConfigError, FaultError, ValueError) as exc:
        raise SerialException(f"sim://: {exc}") from None


class Serial(SerialBase):
    """A serial port whose other end is a fake ESP-01."""

    def __init__(self, *args, **kwargs) -> None:
        self._sim = None
        self._end = None
        super().__init__(*args, **kwargs)

    def open(self) -> None:
        if self.is_open:
            raise SerialException("Port is already open.")
        if self._port is None:
            raise SerialException("Port must be configured before it can be used.")
        config = config_from_url(self.portstr)
        self._sim = Simulator(config)
        self._end = self._sim.attach(self._baudrate)
        self.is_open = True

    @property
    def simulator(self) -> Simulator:
        """The simulator behind this port, for tests that look inside the fake module."""
        return self._sim

    def _reconfigure_port(self) -> None:
        if self._end is not None:
            self._end.set_baud(self._baudrate)

    def close(self) -> None:
        if self.is_open:
            self.is_open = False
            self._end.close()
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
