"""The virtual Uno: simavr running a sketch in the AVR harness, its ESP-01 link on TCP (the fake module's front end).

One class, two ways to power it:

    with Uno(esp="127.0.0.1:PORT", flash=Path("uno.flash")) as uno:     # the board `espat uno` serves
        print(uno.port)                       # /dev/pts/N: upload with avrdude or `pio run -t upload` here
        uno.set_analog("A0", 0.25)            # the LM35 on A0 now reads 25 °C (give or take the ADC's noise)

    with Uno.sketch(elf, esp="127.0.0.1:PORT") as uno:                   # a build under test
        uno.wait_for(b"ready to report", timeout=10)                      # its USB serial on the harness's pipes

The board starts in Optiboot, as a fused Uno does; opening the port resets it into the bootloader (the USB chip's
DTR pulse), and so does avrdude's STK500 sync while a sketch runs. Flash and EEPROM live in files when asked, so
an uploaded sketch is still there on the next start, as on a board. A sketch run starts the ELF from reset with no
bootloader; its USB serial is the harness's stdin and stdout, so it has no control lines and no ESP pins.
"""
from __future__ import annotations

import fcntl
import os
import queue
import subprocess
import tempfile
import threading
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

from esp8266sim.wire import GARBAGE

from .harness import HarnessError, build_harness, close_streams, end_harness, new_seed
from .image import BOOT_SECTION, FLASH_SIZE, ImageError, blank_flash, elf_symbol, read_firmware
from .optiboot import optiboot_image

__all__ = ["Uno", "ANALOG_PINS", "ESP_WIRING"]

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


class Uno:
    """One emulated Uno in a harness process (see the module's docstring); `port` is its USB serial once started
    (None for a sketch run, whose USB serial is `usb_write` and `output`). `seed` fixes the ADC's noise (a new one
    each run when None; `seed` says which was drawn)."""

    def __init__(self, esp: str, wiring: str = "softserial", esp_baud: Optional[int] = None,
                 flash: Optional[PathLike] = None, firmware: Optional[PathLike] = None,
                 eeprom: Optional[PathLike] = None, analog: Optional[Dict[str, float]] = None,
                 vcc: float = 5.0, temp_mv: int = 314, paint_from: Optional[int] = None,
                 seed: Optional[int] = None, esp_rst: Optional[int] = 4, esp_ch_pd: Optional[int] = None,
                 usb: str = "pty", seconds: Optional[float] = None, wire_log: Optional[PathLike] = None,
                 pace: bool = True) -> None:
        if wiring not in ESP_WIRING:
            raise ValueError(f"wiring is one of {', '.join(ESP_WIRING)}, not {wiring!r}")
        if usb not in ("pty", "pipes"):
            raise ValueError(f"usb is 'pty' or 'pipes', not {usb!r}")
        self.esp, self.wiring, self.usb = esp, wiring, usb
        self.esp_baud = esp_baud or ESP_WIRING[wiring][1]
        self.flash = Path(flash) if flash is not None else None
        self.firmware = Path(firmware) if firmware is not None else None
        self.eeprom = Path(eeprom) if eeprom is not None else None
        self.analog = {pin.upper(): check_volts(pin, v, vcc) for pin, v in (analog or {}).items()}
        self.vcc, self.temp_mv = vcc, temp_mv
        self.seed = new_seed() if seed is None else seed     # the ADC's noise, drawn afresh each run unless given
        self.esp_pins = {"rst": check_pin(esp_rst), "ch_pd": check_pin(esp_ch_pd)}  # Uno pins wired to the ESP's
        self.on_esp_pin: Callable[[str, int], None] = lambda name, level: None    # told each change of their level
        self.seconds, self.wire_log, self.pace = seconds, wire_log, pace
        if usb == "pipes":
            # stdin and stdout carry the USB serial: no control line, no `esp-pin` report, no free-RAM question
            if self.firmware is None or flash is not None or paint_from is not None:
                raise ValueError("a sketch run takes the sketch's ELF, and no flash file or RAM painting")
            if set(self.analog) - {"A0"} or any(pin is not None for pin in self.esp_pins.values()):
                raise ValueError("a sketch run sets A0 only, and wires no ESP pins (they need the pty board)")
            self.sketch_image: Optional[bytes] = None
        else:
            if seconds is not None or wire_log is not None or not pace:
                raise ValueError("seconds, wire_log and pace are a sketch run's (Uno.sketch)")
            self.sketch_image = read_firmware(self.firmware) if self.firmware is not None else None  # refused early
            if paint_from is None and self.firmware is not None:
                end = elf_symbol(self.firmware, "_end")
                paint_from = end - SRAM_OFFSET if end is not None else None
        self.paint_from = paint_from
        self.port: Optional[str] = None
        self._proc: Optional[subprocess.Popen] = None
        self._answers: "queue.Queue[str]" = queue.Queue()
        self._scratch: Optional[tempfile.TemporaryDirectory] = None
        self._output = bytearray()
        self._usb_ready = threading.Condition()
        self._reader: Optional[threading.Thread] = None
        self.stderr = b""
        self._lock: Optional[int] = None

    @classmethod
    def sketch(cls, elf: PathLike, esp: str, wiring: str = "softserial", esp_baud: Optional[int] = None,
               eeprom: Optional[PathLike] = None, a0: float = 0.215, vcc: float = 5.0, temp_mv: int = 314,
               seconds: Optional[float] = None, wire_log: Optional[PathLike] = None, pace: bool = True,
               seed: Optional[int] = None) -> "Uno":
        """A compiled sketch run from reset, its USB serial on pipes. `seconds` ends the run after that much
        emulated time; `wire_log` names a file that gets every byte on a SoftwareSerial ESP link with its emulated
        time (`T|R <µs> <hex>`); without `pace` it runs as fast as the emulator goes, not held to the wall clock."""
        return cls(esp, wiring=wiring, esp_baud=esp_baud, firmware=elf, eeprom=eeprom, analog={"A0": a0}, vcc=vcc,
                   temp_mv=temp_mv, seed=seed, esp_rst=None, usb="pipes", seconds=seconds, wire_log=wire_log,
                   pace=pace)

    def __enter__(self) -> "Uno":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _argv(self) -> List[str]:
        wiring, _ = ESP_WIRING[self.wiring]
        argv = ["--esp-connect", self.esp, "--esp", wiring, "--esp-baud", str(self.esp_baud),
                "--a0-mv", str(round(self.analog.get("A0", 0.215) * 1000)),
                "--vcc-mv", str(round(self.vcc * 1000)), "--temp-mv", str(self.temp_mv)]
        if self.eeprom is not None:
            argv += ["--eeprom", str(self.eeprom)]
        return argv

    def start(self) -> Optional[str]:
        """Power on; returns the USB serial's path (None for a sketch run)."""
        if self.usb == "pipes":
            self._start_sketch()
            return None
        return self._start_board()

    def _start_sketch(self) -> None:
        argv = [str(build_harness()), str(self.firmware)] + self._argv()
        if self.seconds is not None:
            argv += ["--seconds", str(self.seconds)]
        if self.wire_log is not None:
            argv += ["--wire-log", str(self.wire_log)]
        if not self.pace:
            argv.append("--no-pace")
        argv += ["--seed", str(self.seed)]
        self._proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_usb, daemon=True)
        self._reader.start()

    def _start_board(self) -> str:
        if self.flash is not None:
            path = self.flash
            path.parent.mkdir(parents=True, exist_ok=True)
            self._lock = lock_file(path)
        try:
            image = flash_image(self.flash, self.sketch_image)
        except ImageError:
            self.stop()
            raise
        if self.flash is None:
            self._scratch = tempfile.TemporaryDirectory(prefix="espat-uno-")
            path = Path(self._scratch.name) / "flash.bin"
        path.write_bytes(image)
        argv = [str(build_harness()), "--flash-file", str(path), "--usb-pty"] + self._argv() + [
            "--seed", str(self.seed), "--garbage", GARBAGE.hex()]
        for name, pin in self.esp_pins.items():
            if pin is not None:
                argv += [f"--esp-{name.replace('_', '-')}", str(pin)]
        if self.flash is not None:
            argv.append("--save-flash")
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

    # --- a sketch run's USB serial ----------------------------------------------------------------------------------

    def _read_usb(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            chunk = self._proc.stdout.read1(4096)
            if not chunk:
                break
            with self._usb_ready:
                self._output += chunk
                self._usb_ready.notify_all()
        with self._usb_ready:
            self._usb_ready.notify_all()

    @property
    def output(self) -> bytes:
        """Everything the sketch wrote to its USB serial so far (a sketch run)."""
        with self._usb_ready:
            return bytes(self._output)

    def usb_write(self, data: bytes) -> None:
        assert self.usb == "pipes" and self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(data)
        self._proc.stdin.flush()

    def wait_for(self, needle: bytes, timeout: float, start: int = 0) -> int:
        """Wait until `needle` appears in the USB output (from offset `start`); returns the offset past it."""
        deadline = time.monotonic() + timeout
        with self._usb_ready:
            while True:
                at = self._output.find(needle, start)
                if at >= 0:
                    return at + len(needle)
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc is not None and self._proc.poll() is not None):
                    raise HarnessError(f"{needle!r} did not appear on the Uno's USB serial within {timeout} s; "
                                       f"it printed {bytes(self._output[-300:])!r}")
                self._usb_ready.wait(min(left, 0.2))

    # --- the board's control lines ----------------------------------------------------------------------------------

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
        if self.usb != "pty":
            raise HarnessError("a sketch run has no control lines (its stdin is the USB serial)")
        if self._proc is None or self._proc.poll() is not None:
            raise HarnessError("the virtual Uno is not running")
        self._proc.stdin.write(line.encode() + b"\n")
        self._proc.stdin.flush()

    def set_analog(self, pin: str, volts: float) -> None:
        """Drive an analog pin (A0..A5) to `volts`, from now on."""
        volts = check_volts(pin, volts, self.vcc)
        self._control(f"adc {ANALOG_PINS.index(pin.upper())} {round(volts * 1000)}")

    def set_esp_baud(self, rate: int, after: Optional[int] = None) -> None:
        """The module now talks at `rate` (AT+UART_CUR): the board's end of the ESP wire follows, as on hardware.
        `after`: how many bytes the module had sent on this connection when it switched; those reach the board at
        the old rate however late they come through the socket (None: those the harness has read so far)."""
        self._control(f"esp-baud {int(rate)}" + (f" after {int(after)}" if after is not None else ""))

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
        """Power off: SIGTERM, so the harness writes flash and EEPROM back to their files; its exit status."""
        if self._proc is None:
            return 0
        status = end_harness(self._proc)
        if self._reader is not None:
            self._reader.join(timeout=5)
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
