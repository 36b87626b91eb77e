"""A host-native Uno sketch (a program built against the Arduino shim with ESPAT_SHIM_VCLOCK=1) and a fake ESP-01
on one virtual clock (vclock.VirtualLoop), in lock-step: the program runs until the loop's next timer, tells what it
sent and wrote to EEPROM, and hears what the module said; the loop then runs up to the program's time. Neither side
ever waits for wall time, and a run is the same for a seed. The frames are in the shim's vclock.h.

    loop = VirtualLoop()
    board = LockStepBoard(loop, SimConfig(networks=..., hosts=..., seed=1), NativeProgram(binary),
                          adc=lambda t: (215, 314, 5000))
    board.power_on()                 # the Uno and the module get power
    board.run_until(3600.0)          # an hour of field
    board.power_off()

The program is a host-native build (`NativeProgram`) or the compiled firmware in simavr
(unosim.lockstep_program.SimavrProgram): both speak the same frames. `adc(t)` gives the ADC's inputs in
millivolts (A0, the chip's temperature sensor, Vcc) at virtual time t; the program hears them at each sync, so a caller that changes them at set times puts a timer there (`loop.call_at`).
What the program sends counts on `commands` (every line, with its virtual time); its EEPROM is kept here
(`eeprom`, `cell_writes`) so it outlives a power cut.
"""
from __future__ import annotations

import os
import struct
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, List, Optional, Tuple

from .config import SimConfig
from .frontends.transcript import Transcript
from .module import Module
from .vclock import VirtualLoop
from .wire import Wire

__all__ = ["Exit", "LockStepBoard", "NativeProgram", "PowerOn"]

_SYNC = struct.Struct("<cQcII")         # kind, now_us, reason, tx_len, writes
_GO = struct.Struct("<cQHHHI")          # kind, horizon_us, a0, temp, vcc, rx_len
FOREVER_US = (1 << 63)


class NativeProgram:
    """A sketch built for the host against the Arduino shim (tests/firmware/shim), run with ESPAT_SHIM_VCLOCK=1."""

    def __init__(self, binary: Path, env: Optional[dict] = None) -> None:
        self.binary = Path(binary)
        self.env = dict(env or {})

    def command(self, eeprom: Path, mcusr: int, cut_at_byte: int, torn: int, fds: str) -> Tuple[list, dict]:
        """argv and environment of one power-on."""
        return [str(self.binary)], {**os.environ, **self.env, "ESPAT_SHIM_VCLOCK": "1", "ESPAT_SHIM_VCLOCK_FDS": fds,
                                    "ESPAT_SHIM_EEPROM": str(eeprom), "ESPAT_SHIM_MCUSR": str(mcusr),
                                    "ESPAT_SHIM_EEPROM_CUT": str(cut_at_byte), "ESPAT_SHIM_EEPROM_TORN": str(torn)}


@dataclass
class Exit:
    at: float               # virtual seconds
    reason: str             # "cut" (power cut in an EEPROM write), "watchdog", "off" (the harness cut it)
    cell: Optional[Tuple[int, int, int]] = None     # a cut's EEPROM byte: (address, value before, value left)


@dataclass
class PowerOn:
    """One run of the program, from power-on to its end."""
    started: float
    mcusr: int
    cut_at_byte: int = 0
    ended: Optional[Exit] = None
    eeprom_bytes: int = 0   # EEPROM bytes it wrote


@dataclass
class Command:
    at: float
    line: bytes
    joined: bool            # the module's station was connected when the line came


class LockStepBoard:
    def __init__(self, loop: VirtualLoop, config: SimConfig, program, adc: Callable[[float], Tuple[int, int, int]],
                 usb_log: Optional[Path] = None) -> None:
        self.loop = loop
        self.config = config
        self.program = program
        self.adc = adc
        self.usb_log = usb_log
        self.eeprom = bytearray(b"\xff" * 1024)
        self.cell_writes = [0] * 1024
        self.commands: List[Command] = []
        self.runs: List[PowerOn] = []
        self._line = bytearray()
        self._rx = bytearray()           # what the module said since the program's last go frame
        self._proc: Optional[subprocess.Popen] = None
        self._from: Optional[object] = None
        self._to = -1
        self._t0 = 0.0
        self._now = 0.0
        self._now_us = 0
        self._paused = False
        self.transcript = Transcript(config.log_path) if config.log_path else None      # the module's --log
        self.module = Module(config, output=lambda data: self.wire.from_module(data),
                             set_uart_rate=lambda rate: self.wire.set_module_baud(rate),
                             when_sent=lambda action: self.wire.when_sent(action),
                             log=self.transcript.write if self.transcript else (lambda direction, data: None))
        self.wire = Wire(loop, to_module=self.module.feed, to_host=self._to_host, module_baud=self.module.uart_rate,
                         paced=False, seed=config.seed, faults=config.wire_faults)
        loop.call_soon(self.module.start_timed_faults)

    # --- power --------------------------------------------------------------------------------------------------

    @property
    def running(self) -> bool:
        return self._proc is not None

    def power_on(self, mcusr: int = 1, cut_at_byte: int = 0, torn: int = 0) -> PowerOn:
        """Both boards get power now: the module boots (ready after its boot time), the program starts with `mcusr`
        as its reset cause; with `cut_at_byte` the power goes again while it writes its Nth EEPROM byte."""
        assert self._proc is None, "already on"
        self._t0 = self._now = self.loop.time()
        self.loop.call_soon(self.module.reset)
        self.loop.run_until(self._t0)
        handle, name = tempfile.mkstemp(prefix="espat-eeprom-", suffix=".bin")
        os.write(handle, bytes(self.eeprom))
        os.close(handle)
        image = Path(name)
        down_r, down_w = os.pipe()       # harness -> program
        up_r, up_w = os.pipe()           # program -> harness
        argv, env = self.program.command(image, mcusr, cut_at_byte, torn, f"{down_r},{up_w}")
        out = self.usb_log.open("ab") if self.usb_log else subprocess.DEVNULL
        try:
            self._err = tempfile.TemporaryFile()    # a file, not a pipe: nothing it says can block it
            self._proc = subprocess.Popen(argv, env=env, stdin=subprocess.DEVNULL, stdout=out,
                                          stderr=self._err, pass_fds=(down_r, up_w))
        finally:
            if self.usb_log:
                out.close()
            os.close(down_r)
            os.close(up_w)
        self._from = os.fdopen(up_r, "rb", buffering=1 << 16)
        self._to = down_w
        self._rx.clear()
        self._line.clear()
        self._paused = False
        self._now_us = 0
        run = PowerOn(self._t0, mcusr, cut_at_byte)
        self.runs.append(run)
        self._image = image
        return run

    def power_off(self, reason: str = "off") -> None:
        """The power goes: the program stops where it is, the module with it."""
        if self._proc is not None:
            self._end(Exit(self.loop.time(), reason))
        self._unpower_module()

    def _unpower_module(self) -> None:
        self.loop.call_soon(self.module.reset, False, None, False)
        self.loop.run_until(self.loop.time())

    def _end(self, exit: Exit) -> None:
        proc, self._proc = self._proc, None
        self.runs[-1].ended = exit
        try:
            os.close(self._to)
        except OSError:
            pass
        self._from.close()
        if proc.poll() is None:
            proc.kill()
        proc.wait(timeout=10)
        self._image.unlink(missing_ok=True)
        err = self._said()
        if exit.reason not in ("cut", "watchdog", "off"):
            raise RuntimeError(f"the program ended at {exit.at:.3f} s: {err}")

    def _said(self) -> str:
        """What the program wrote to stderr (the last 2000 characters); closes that file."""
        self._err.seek(0)
        text = self._err.read().decode(errors="replace").strip()[-2000:]
        self._err.close()
        return text

    # --- running ------------------------------------------------------------------------------------------------

    def run_until(self, t: float) -> Optional[Exit]:
        """Runs the program and the module to virtual time `t`, the program (if it is on) in lock-step, and leaves
        it paused at `t` so that whatever the caller changes now reaches it at `t`. If the program ends before `t`
        (a power cut in an EEPROM write, a watchdog reset), returns how, with the loop at that moment."""
        if self._proc is None:
            self.loop.run_until(t)
            return None
        stop = self.loop.call_at(t, lambda: None)       # so the program's horizon never passes t
        try:
            while self._proc is not None:
                if self._paused:
                    if self._now >= t:
                        return None
                    self._go()
                self._step(t)
        finally:
            stop.cancel()
        return self.runs[-1].ended

    def _step(self, stop: float) -> None:
        head = self._read(_SYNC.size)
        kind, now_us, reason, tx_len, writes = _SYNC.unpack(head)
        tx = self._read(tx_len) if tx_len else b""
        ee = self._read(3 * writes) if writes else b""
        at = self._t0 + now_us / 1e6
        self.loop.run_until(max(at, self.loop.time()))
        self._now = self.loop.time()
        self._now_us = now_us
        cell = None
        for i in range(writes):
            address, value = struct.unpack_from("<HB", ee, 3 * i)
            cell = (address & 1023, self.eeprom[address & 1023], value)
            self.eeprom[address & 1023] = value
            self.cell_writes[address & 1023] += 1
        self.runs[-1].eeprom_bytes += writes
        if tx:
            self._note_commands(tx)
            self.loop.call_soon(self.wire.from_host, tx)
            self.loop.run_until(self._now)
        if kind == b"X":
            why = {b"C": "cut", b"W": "watchdog"}.get(reason, reason.decode(errors="replace"))
            self._end(Exit(self._now, why, cell if why == "cut" else None))     # a cut's byte is the frame's last
            self._unpower_module()              # one supply: the module loses power with the Uno
            return
        self._paused = True
        if self._now < stop:
            self._go()

    def _go(self) -> None:
        """The go frame for a program paused at its last sync: how far it may run, the ADC, what it hears."""
        self._paused = False
        wake = self.loop.next_timer()
        horizon = FOREVER_US if wake is None else max(self._now_us + 1, int((wake - self._t0) * 1e6 + 0.999))
        a0, temp, vcc = self.adc(self._now)
        rx, self._rx = bytes(self._rx), bytearray()
        os.write(self._to, _GO.pack(b"G", horizon, a0, temp, vcc, len(rx)) + rx)

    def _read(self, n: int) -> bytes:
        data = self._from.read(n)
        if len(data) != n:
            proc = self._proc
            self._proc = None
            proc.kill()
            proc.wait(timeout=10)
            self._from.close()              # its pipes and EEPROM image go with it, as at any other end
            try:
                os.close(self._to)
            except OSError:
                pass
            self._image.unlink(missing_ok=True)
            raise RuntimeError(f"the program stopped talking at {self._now:.3f} s "
                               f"(exit {proc.returncode}): {self._said()}")
        return data

    def _to_host(self, data: bytes) -> None:
        if self._proc is not None:
            self._rx += data

    def _note_commands(self, data: bytes) -> None:
        """Every line the program sends the module, with its time (payloads too: callers match on AT commands). A
        payload's last bytes end a line even with no newline (an HTTP body has none), so the command after it is a
        line of its own. Called before the module has these bytes: what it still takes as payload is where that
        payload ends."""
        left = self.module.data.payload_left
        cut = len(self._line) + left if 0 < left <= len(data) else None
        self._line += data
        while True:
            newline = self._line.find(b"\n")
            if cut is not None and (newline < 0 or newline >= cut):
                line, taken, cut = bytes(self._line[:cut]), cut, None
            elif newline >= 0:
                line, taken = bytes(self._line[:newline]), newline + 1
                cut = cut - taken if cut is not None else None
            else:
                if len(self._line) > 4096:
                    del self._line[:-64]
                return
            self.commands.append(Command(self._now, line.rstrip(b"\r"), self.module.joined is not None))
            del self._line[:taken]

    def count(self, prefix: bytes, since: float = 0.0, until: float = float("inf")) -> int:
        """Lines starting with `prefix` the program sent in [since, until)."""
        return sum(1 for c in self.commands if since <= c.at < until and c.line.startswith(prefix))

    def close(self) -> None:
        if self._proc is not None:
            self._end(Exit(self.loop.time(), "off"))
        if self.transcript:
            self.transcript.close()
