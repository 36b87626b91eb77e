"""A virtual Uno: simavr running Optiboot and a sketch, its USB serial a pseudo-terminal, its ESP-01 link on TCP.

    with VirtualUno(esp="127.0.0.1:PORT", flash=Path("uno.flash")) as uno:
        print(uno.port)                       # /dev/pts/N: upload with avrdude or `pio run -t upload` here
        uno.set_analog("A0", 0.25)            # the LM35 on A0 now reads 25 °C (give or take the ADC's noise)

The board starts in Optiboot, as a fused Uno does; opening the port resets it into the bootloader (the USB chip's
DTR pulse), and so does avrdude's STK500 sync while a sketch runs. Flash and EEPROM live in files when asked, so
an uploaded sketch is still there on the next start, as on a board.
"""
from __future__ import annotations

import fcntl
import os
import queue
import subprocess
import tempfile
import threading
from pathlib import Path
from typing import Callable, Dict, Optional, Union

from esp8266sim.wire import GARBAGE

from .harness import HarnessError, build_harness, close_streams, end_harness, new_seed
from .image import BOOT_SECTION, FLASH_SIZE, ImageError, blank_flash, elf_symbol, read_firmware
from .optiboot import optiboot_image

__all__ = ["VirtualUno", "ANALOG_PINS", "ESP_WIRING"]

ANALOG_PINS = ("A0", "A1", "A2", "A3", "A4", "A5")
SRAM_OFFSET = 0x800000          # avr-gcc's ELF puts data-space addresses here
# --esp: (the harness's wiring name, the baud rate the sketches talk to the module at)
ESP_WIRING = {"softserial": ("soft", 9600), "hwserial": ("uart0", 115200)}

PathLike = Union[str, Path]


def flash_image(flash: Optional[Path], sketch: Optional[bytes]) -> bytes:
    """What the chip holds at power-on: the kept flash (or a blank chip), Optiboot on top, the sketch if given."""
    image = blank_flash()
    if flash is not None and flash.exists():
        kept = flash.read_bytes()
        if len(kept) != FLASH_SIZE:
            raise ImageError(f"{flash}: {len(kept)} bytes; a flash file holds exactly {FLASH_SIZE}")
        image[:] = kept
    if sketch is not None:
        image[:BOOT_SECTION] = b"\xff" * BOOT_SECTION
        image[:len(sketch)] = sketch
    for address, chunk in optiboot_image().items():
        image[address:address + len(chunk)] = chunk
    return bytes(image)


class VirtualUno:
    """One emulated Uno in a harness process; `port` is its USB serial once started."""

    def __init__(self, esp: str, wiring: str = "softserial", esp_baud: Optional[int] = None,
                 flash: Optional[PathLike] = None, firmware: Optional[PathLike] = None,
                 eeprom: Optional[PathLike] = None, analog: Optional[Dict[str, float]] = None,
                 vcc: float = 5.0, temp_mv: int = 314, paint_from: Optional[int] = None,
                 seed: Optional[int] = None, esp_rst: Optional[int] = 4, esp_ch_pd: Optional[int] = None) -> None:
        if wiring not in ESP_WIRING:
            raise ValueError(f"wiring is one of {', '.join(ESP_WIRING)}, not {wiring!r}")
        self.esp, self.wiring = esp, wiring
        self.esp_baud = esp_baud or ESP_WIRING[wiring][1]
        self.flash = Path(flash) if flash is not None else None
        self.firmware = Path(firmware) if firmware is not None else None
        self.sketch = read_firmware(self.firmware) if self.firmware is not None else None  # refused early
        self.eeprom = Path(eeprom) if eeprom is not None else None
        self.analog = {pin: check_volts(pin, v, vcc) for pin, v in (analog or {}).items()}
        self.vcc, self.temp_mv = vcc, temp_mv
        self.seed = new_seed() if seed is None else seed     # the ADC's noise, drawn afresh each run unless given
        self.esp_pins = {"rst": check_pin(esp_rst), "ch_pd": check_pin(esp_ch_pd)}  # Uno pins wired to the ESP's
        self.on_esp_pin: Callable[[str, int], None] = lambda name, level: None    # told each change of their level
        if paint_from is None and self.firmware is not None:
            end = elf_symbol(self.firmware, "_end")
            paint_from = end - SRAM_OFFSET if end is not None else None
        self.paint_from = paint_from
        self.port: Optional[str] = None
        self._proc: Optional[subprocess.Popen] = None
        self._answers: "queue.Queue[str]" = queue.Queue()
        self._scratch: Optional[tempfile.TemporaryDirectory] = None
        self.stderr = b""
        self._lock: Optional[int] = None

    def __enter__(self) -> "VirtualUno":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> str:
        if self.flash is not None:
            path = self.flash
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = lock_file(path)
        try:
            image = flash_image(self.flash, self.sketch)
        except ImageError:
            self.stop()
            raise
        if self.flash is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="espat-uno-")
            path = Path(self._scratch.name) / "flash.bin"
        path.write_bytes(image)
        wiring, _ = ESP_WIRING[self.wiring]
        argv = [str(build_harness()), "--flash-file", str(path), "--usb-pty", "--esp-connect", self.esp,
                "--esp", wiring, "--esp-baud", str(self.esp_baud), "--vcc-mv", str(round(self.vcc * 1000)),
                "--temp-mv", str(self.temp_mv), "--a0-mv", str(round(self.analog.get("A0", 0.215) * 1000)),
                "--seed", str(self.seed), "--garbage", GARBAGE.hex()]
        for name, pin in self.esp_pins.items():
            if pin is not None:
                argv += [f"--esp-{name.replace('_', '-')}", str(pin)]
        if self.flash is not None:
            argv.append("--save-flash")
        if self.eeprom is not None:
            argv += ["--eeprom", str(self.eeprom)]
        if self.paint_from is not None:
            argv += ["--paint-from", str(self.paint_from)]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        first = self._proc.stdout.readline().decode(errors="replace").strip()
        if not first.startswith("usb-pty "):
            self._proc.wait(timeout=10)
            raise HarnessError(self._proc.stderr.read().decode(errors="replace").strip() or "the harness stopped")
        self.port = first.split(" ", 1)[1]
        threading.Thread(target=self._read_answers, daemon=True).start()
        for pin, volts in self.analog.items():
            self.set_analog(pin, volts)
        return self.port

    def _read_answers(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        for line in self._proc.stdout:
            text = line.decode(errors="replace").strip()
            if text.startswith("esp-pin "):
                _, name, level = text.split()
                self.on_esp_pin(name, int(level))
            else:
                self._answers.put(text)

    def _control(self, line: str) -> None:
        if self._proc is None or self._proc.poll() is not None:
            raise HarnessError("the virtual Uno is not running")
        self._proc.stdin.write(line.encode() + b"\n")
        self._proc.stdin.flush()

    def set_analog(self, pin: str, volts: float) -> None:
        """Drive an analog pin (A0..A5) to `volts`, from now on."""
        volts = check_volts(pin, volts, self.vcc)
        self._control(f"adc {ANALOG_PINS.index(pin.upper())} {round(volts * 1000)}")

    def set_esp_baud(self, rate: int) -> None:
        """The module now talks at `rate` (AT+UART_CUR): the board's end of the ESP wire follows, as on hardware."""
        self._control(f"esp-baud {int(rate)}")

    def set_vcc(self, volts: float) -> None:
        """The supply voltage (what the sketch's bandgap measurement of Vcc sees)."""
        if not 1.8 <= volts <= 5.5:
            raise ValueError(f"Vcc {volts} V: the ATmega328P runs on 1.8 to 5.5 V")
        self.vcc = volts
        self._control(f"vcc {round(volts * 1000)}")

    def set_temp_mv(self, millivolts: int) -> None:
        """The chip's temperature sensor output (314 mV is about 25 °C, about 1 mV per °C)."""
        self._control(f"temp {int(millivolts)}")

    def free_ram(self, timeout: float = 10.0) -> int:
        """Bytes of SRAM no variable and no stack frame has touched since the last reset (stack painting)."""
        if self.paint_from is None:
            raise HarnessError("free RAM is measured only for a sketch whose ELF is known (--firmware ELF)")
        self._control("ram")
        try:
            answer = self._answers.get(timeout=timeout)
        except queue.Empty:
            raise HarnessError("the virtual Uno did not answer the free-RAM question") from None
        return int(answer.split()[1])

    def running(self) -> bool:
        return self._proc is not None and self._proc.poll() is None

    def stop(self) -> int:
        """Power off: SIGTERM, so the harness writes flash and EEPROM back to their files."""
        if self._proc is None:
            return 0
        status = end_harness(self._proc)
        self.stderr = close_streams(self._proc)
        if self._scratch is not None:
            self._scratch.cleanup()
            self._scratch = None
        if self._lock is not None:
            os.close(self._lock)
            self._lock = None
        return status


def lock_file(path: Path) -> int:
    """One board per flash file, as one chip per board: a second `espat uno --flash` on it is refused."""
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise ImageError(f"{path} is in use by another virtual Uno") from None
    return fd


def check_pin(pin: Optional[int]) -> Optional[int]:
    if pin is not None and not 0 <= pin <= 19:
        raise ValueError(f"pin {pin}: the Uno's pins are 0 to 19 (14 to 19 are A0 to A5)")
    return pin


def check_volts(pin: str, volts: float, vcc: float) -> float:
    if pin.upper() not in ANALOG_PINS:
        raise ValueError(f"{pin}: the Uno's analog pins are {', '.join(ANALOG_PINS)}")
    if not 0 <= volts <= vcc:
        raise ValueError(f"{pin}={volts} V: an analog input reads 0 to Vcc ({vcc} V)")
    return float(volts)
