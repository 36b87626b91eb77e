"""esp8266sim: a fake ESP-01 that answers as Espressif's AT firmware does (1.7 by default, 2.x on request).

    from esp8266sim import Simulator, SimConfig
    with Simulator(SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", 8080)},
                             latency_scale=0)) as sim:
        url = sim.serve_tcp()       # socket://127.0.0.1:PORT for serial_for_url; or sim.serve_pty()
        ...                         # sim.module is the fake module, for tests that look inside

`python -m esp8266sim` (or `espat sim`) runs one from the command line; importing this package registers the
`sim://` URL handler with pyserial, so `serial.serial_for_url("sim://?network=HomeNet:s3cr3t")` opens one in
this process. Remote ends are real sockets on loopback only, reached through the host map.
"""
import serial

from .config import ConfigError, SimConfig
from .faults import FaultError
from .frontends.inprocess import HostEnd
from .simulator import Simulator

if "esp8266sim.frontends" not in serial.protocol_handler_packages:     # frontends/protocol_sim.py
    serial.protocol_handler_packages.append("esp8266sim.frontends")

__all__ = ["ConfigError", "FaultError", "HostEnd", "SimConfig", "Simulator"]
