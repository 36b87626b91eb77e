"""Serial ports on this machine, and a guess at what is behind each one from its USB VID:PID."""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import List, Optional

__all__ = ["ADAPTERS", "SerialPort", "serial_ports"]

ADAPTERS = {
    (0x2341, 0x0043): "Arduino Uno", (0x2341, 0x0001): "Arduino Uno", (0x2A03, 0x0043): "Arduino Uno",
    (0x1A86, 0x7523): "CH340", (0x1A86, 0x55D4): "CH9102", (0x10C4, 0xEA60): "CP210x",
    (0x0403, 0x6001): "FTDI FT232R", (0x0403, 0x6015): "FTDI FT231X", (0x067B, 0x2303): "Prolific PL2303",
}


@dataclass(frozen=True)
class SerialPort:
    device: str
    vid_pid: Optional[str]          # "1a86:7523", None for a port that is not USB
    adapter: str                    # the guess from ADAPTERS, "" when unknown
    description: str

    def as_dict(self) -> dict:
        return asdict(self)


def serial_ports() -> List[SerialPort]:
    """Every serial port pyserial finds, sorted by device name."""
    from serial.tools import list_ports
    found = []
    for info in sorted(list_ports.comports(), key=lambda i: i.device):
        usb = info.vid is not None
        found.append(SerialPort(info.device, f"{info.vid:04x}:{info.pid:04x}" if usb else None,
                                ADAPTERS.get((info.vid, info.pid), "") if usb else "", info.description))
    return found
