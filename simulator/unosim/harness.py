"""Run a compiled Uno sketch in simavr, wired to the fake ESP-01.

    with Uno(elf, esp="127.0.0.1:PORT") as uno:     # the fake module's TCP front end
        uno.wait_for(b"ready to report", timeout=10)

The C harness (uno_harness.c and the parts beside it, harness_parts.h) is compiled on first use against Debian's
libsimavr-dev and kept in a cache keyed by its sources, so a changed harness is rebuilt and an unchanged one is not.
"""
from __future__ import annotations

import hashlib
import os
import random
import shutil
import subprocess
import threading
import time
from pathlib import Path
from typing import List, Optional, Union

__all__ = ["HarnessError", "build_harness", "cache_dir", "close_streams", "end_harness", "new_seed", "Uno"]

SOURCE = Path(__file__).with_name("uno_harness.c")
PARTS = ("randomness.c", "line_rates.c", "esp_pins.c", "harness_parts.h", "lockstep_link.h")


class HarnessError(RuntimeError):
    """The AVR harness could not be built or run."""


def cache_dir() -> Path:
    """Where the compiled harness and Optiboot are kept (XDG cache)."""
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "espat" / "avr"


def build_harness(cache: Optional[Path] = None) -> Path:
    """The path of the compiled harness, building it if needed; HarnessError says what is missing."""
    sources = [SOURCE] + [SOURCE.with_name(name) for name in PARTS]
    digest = hashlib.sha256(b"".join(path.read_bytes() for path in sources)).hexdigest()[:16]
    target = (cache or cache_dir()) / f"uno_harness-{digest}"
    if target.exists():
        return target
    for tool, package in (("gcc", "gcc"), ("pkg-config", "pkg-config")):
        if shutil.which(tool) is None:
            raise HarnessError(f"{tool} not found: apt-get install {package}")
    flags = subprocess.run(["pkg-config", "--cflags", "--libs", "simavr"], capture_output=True, text=True)
    if flags.returncode != 0:
        raise HarnessError("simavr's development files not found: apt-get install libsimavr-dev libelf-dev")
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.tmp")
    cmd = ["gcc", "-O2", "-Wall", "-o", str(partial), *(str(p) for p in sources if p.suffix == ".c"),
           *flags.stdout.split(), "-lelf"]
    built = subprocess.run(cmd, capture_output=True, text=True)
    if built.returncode != 0:
        raise HarnessError(f"building the AVR harness failed:\n{built.stderr.strip()}")
    partial.replace(target)
    return target


def new_seed() -> int:
    """A seed for a run's ADC noise when none is given: each run a different one, as each power-on of a board."""
    return random.SystemRandom().randrange(1 << 32)


def end_harness(proc: subprocess.Popen) -> int:
    """SIGTERM (the harness then writes its EEPROM and flash files back), SIGKILL if it hangs; its exit status."""
    if proc.poll() is None:
        proc.terminate()
    try:
        return proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        return proc.wait(timeout=10)


def close_streams(proc: subprocess.Popen) -> bytes:
    """Closes an ended harness's pipes; returns what it wrote on stderr."""
    err = proc.stderr.read() if proc.stderr else b""
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()
    return err


class Uno:
    """A running emulated Uno: its USB serial is `usb_write`/`output`, its ESP-01 link goes to `esp` (HOST:PORT).

    `esp_on` is "soft" (ESP-01 on pins 2/3, SoftwareSerial) or "uart0" (pins 0/1; the USB serial is then silent).
    `eeprom` names a file that keeps the EEPROM between runs, as a board keeps it across power cycles.
    `wire_log` names a file that gets every byte on a SoftwareSerial ESP link with its emulated time.
    `seed` fixes the ADC's noise (a new one each run when None; `seed` says which was drawn).
    """

    def __init__(self, elf: Union[str, Path], esp: str, esp_on: str = "soft", esp_baud: int = 9600,
                 eeprom: Union[str, Path, None] = None, a0_mv: int = 215, vcc_mv: int = 5000,
                 temp_mv: int = 314, seconds: Optional[float] = None,
                 wire_log: Union[str, Path, None] = None, pace: bool = True, seed: Optional[int] = None) -> None:
        if esp_on not in ("soft", "uart0"):
            raise ValueError(f"esp_on must be 'soft' or 'uart0', not {esp_on!r}")
        self.argv: List[str] = [str(build_harness()), str(elf), "--esp-connect", esp, "--esp", esp_on,
                                "--esp-baud", str(esp_baud), "--a0-mv", str(a0_mv), "--vcc-mv", str(vcc_mv),
                                "--temp-mv", str(temp_mv)]
        if eeprom is not None:
            self.argv += ["--eeprom", str(eeprom)]
        if seconds is not None:
            self.argv += ["--seconds", str(seconds)]
        if wire_log is not None:      # each byte on the ESP link: `T|R <emulated µs> <hex>`
            self.argv += ["--wire-log", str(wire_log)]
        if not pace:                  # as fast as the emulator goes, not held to the wall clock
            self.argv.append("--no-pace")
        self.seed = new_seed() if seed is None else seed
        self.argv += ["--seed", str(self.seed)]     # the ADC's noise: the same seed, the same readings
        self._proc: Optional[subprocess.Popen] = None
        self._output = bytearray()
        self._lock = threading.Condition()
        self._reader: Optional[threading.Thread] = None
        self.stderr = b""

    def __enter__(self) -> "Uno":
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def start(self) -> None:
        self._proc = subprocess.Popen(self.argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                      stderr=subprocess.PIPE)
        self._reader = threading.Thread(target=self._read_usb, daemon=True)
        self._reader.start()

    def _read_usb(self) -> None:
        assert self._proc is not None and self._proc.stdout is not None
        while True:
            chunk = self._proc.stdout.read1(4096)
            if not chunk:
                break
            with self._lock:
                self._output += chunk
                self._lock.notify_all()
        with self._lock:
            self._lock.notify_all()

    @property
    def output(self) -> bytes:
        """Everything the sketch wrote to its USB serial so far."""
        with self._lock:
            return bytes(self._output)

    def usb_write(self, data: bytes) -> None:
        assert self._proc is not None and self._proc.stdin is not None
        self._proc.stdin.write(data)
        self._proc.stdin.flush()

    def wait_for(self, needle: bytes, timeout: float, start: int = 0) -> int:
        """Wait until `needle` appears in the USB output (from offset `start`); returns the offset past it."""
        deadline = time.monotonic() + timeout
        with self._lock:
            while True:
                at = self._output.find(needle, start)
                if at >= 0:
                    return at + len(needle)
                left = deadline - time.monotonic()
                if left <= 0 or (self._proc is not None and self._proc.poll() is not None):
                    raise HarnessError(f"{needle!r} did not appear on the Uno's USB serial within {timeout} s; "
                                       f"it printed {bytes(self._output[-300:])!r}")
                self._lock.wait(min(left, 0.2))

    def stop(self) -> int:
        """End the emulation (SIGTERM, so the EEPROM file is written); returns the harness's exit status."""
        if self._proc is None:
            return 0
        status = end_harness(self._proc)
        if self._reader is not None:
            self._reader.join(timeout=5)
        self.stderr = close_streams(self._proc)
        return status
