"""The host-native sketches against the fake ESP-01 and a server on one virtual clock (esp8266sim.lockstep), for
the tests that need minutes of board time or a wire whose timing the host's load must not change: idle time is
skipped, so 240 board-seconds take seconds, not a minute at a 4x clock, and the module's bytes reach the sketch at
the wire's rate in its own time, however long the machine leaves either side unscheduled. What a run gives is what
fw_native.Run gives (USB text, what the board sent the module, the EEPROM after); the collector answers as
fw_native.Collector does, its delays in virtual seconds."""
from __future__ import annotations

import asyncio
import threading
from pathlib import Path

from esp8266sim import SimConfig
from esp8266sim.lockstep import LockStepBoard, NativeProgram
from esp8266sim.vclock import VirtualLoop

from fw_native import SETTINGS, build, read_wire_log, store

ADC_MV = (215, 314, 5000)    # A0, temperature sensor, Vcc: the shim's defaults without a virtual clock


class VirtualServer:
    """A loopback server on a VirtualLoop of its own (`loop`, `port`); a subclass answers in `_handle`."""

    def __init__(self):
        self.loop = VirtualLoop()
        task = self.loop.create_task(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.loop.run_until(0.0)
        self.port = task.result().sockets[0].getsockname()[1]

    def close(self) -> None:
        self.loop.close()

    async def _handle(self, reader, writer):
        raise NotImplementedError


class VirtualCollector(VirtualServer):
    """fw_native.Collector's answers (answers, by_key, delay, retry_after; Connection: close) on a VirtualLoop of
    its own: `posts`, `stored`, `accepted`, `statuses` and `connections` as there; `answered_at`, each post's
    answer's virtual time."""

    def __init__(self, answers: dict | None = None, by_key: bool = False, delay: float = 0.0,
                 retry_after: dict | None = None, keep_alive: bool = False):
        self.posts, self.stored, self.accepted, self.statuses = [], {}, [], []
        self.answers, self.retry_after = dict(answers or {}), dict(retry_after or {})
        self.by_key_seen, self.by_key, self.delay = {}, by_key, delay
        self.connections = 0
        self.keep_alive = keep_alive    # each connection left open for the client's next request, as HTTP/1.1's
        self.answered_at = []
        self.lock = threading.Lock()    # as fw_native.Collector's; everything here runs on the test's thread
        super().__init__()

    async def _handle(self, reader, writer):
        self.connections += 1
        while await self._one_request(reader, writer) and self.keep_alive:
            pass
        writer.close()

    async def _one_request(self, reader, writer) -> bool:
        """Reads one request and answers it; False when the client closed instead."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
        lines = head.decode("latin-1").split("\r\n")
        path = lines[0].split()[1]
        headers = dict(line.split(": ", 1) for line in lines[1:] if ": " in line)
        length = int(next(v for k, v in headers.items() if k.lower() == "content-length"))
        try:
            body = await reader.readexactly(length)
        except (asyncio.IncompleteReadError, ConnectionError):
            return False
        if self.delay:
            await asyncio.sleep(self.delay)
        status = self._answer(path, headers, body)
        extra = "Server: vcollector\r\n"     # as http.server's answers start
        if self.retry_after.get(len(self.posts)) is not None:
            extra = f"Retry-After: {self.retry_after[len(self.posts)]}\r\n"
        close = "" if self.keep_alive else "Connection: close\r\n"
        writer.write(f"HTTP/1.1 {status} X\r\n{extra}Content-Length: 0\r\n{close}\r\n".encode())
        try:
            await writer.drain()
        except ConnectionError:
            return False
        return True

    def seqs_stored(self) -> set:
        return {key[-1] for key in self.stored}

    def _answer(self, path, headers, body) -> int:
        self.posts.append((path, headers, body))
        self.answered_at.append(self.loop.time())
        return store(self, self.answers.get(len(self.posts), 201), body, self.by_key_seen if self.by_key else None)


def run_virtual(env: str, workdir: Path, loop: VirtualLoop, port: int, *, seconds: float, settings: dict = SETTINGS,
                flags: tuple = (), stop_when=None, faults=(), step: float = 0.5, dialect: str = "1",
                baud: int = 9600, seed: int = 5, adc: tuple = ADC_MV, program_env: dict | None = None,
                module_log: Path | None = None) -> tuple:
    """Runs the sketch `env` on the virtual clock (`loop`, with example.com at `port` on it) until `seconds`
    board-seconds pass or stop_when(USB text so far) holds (checked every `step` board-seconds). `adc`: the
    shim's ADC inputs in mV (A0, the chip's sensor, Vcc); `program_env`: more of the shim's environment;
    `module_log`: the fake's --log. Returns (USB text, the wire log as fw_native.read_wire_log gives it, its times
    virtual, the EEPROM after)."""
    binary = build(env, settings, flags)
    workdir.mkdir(parents=True, exist_ok=True)
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, hosts={"example.com": ("127.0.0.1", port)}, baud=baud,
                       latency_scale=0.1, seed=seed, faults=list(faults), dialect=dialect,
                       log_path=str(module_log) if module_log else None)
    program = NativeProgram(binary, env={**(program_env or {}), "ESPAT_SHIM_WIRELOG": str(workdir / "wire.bin")})
    usb_log = workdir / "usb.txt"
    board = LockStepBoard(loop, config, program, adc=lambda t: adc, usb_log=usb_log)
    try:
        start = loop.time()
        board.power_on(mcusr=0)     # as the shim without a virtual clock: MCUSR nothing set
        at, ended = start, None
        while at < start + seconds and ended is None:
            at = min(start + seconds, at + step)
            ended = board.run_until(at)
            if stop_when is not None and stop_when(usb_log.read_bytes()):
                break
        assert ended is None, f"the program ended: {ended}"
        eeprom = bytes(board.eeprom)
    finally:
        board.close()
    return usb_log.read_bytes(), read_wire_log(workdir / "wire.bin"), eeprom


def run_board_virtual(workdir: Path, server, *, seconds: float, settings: dict = SETTINGS, flags: tuple = (),
                      stop_when=None, faults=(), step: float = 0.5) -> tuple:
    """Runs the softserial reporter on the virtual clock until `seconds` board-seconds pass or stop_when() holds
    (checked every `step` board-seconds). `server`: a VirtualCollector, or a port (nobody listening: a server that
    is down). Returns (USB text, what it sent the module, the EEPROM after)."""
    loop, port = (server.loop, server.port) if isinstance(server, VirtualCollector) else (VirtualLoop(), server)
    try:
        usb, wire, eeprom = run_virtual("reporter_softserial", workdir, loop, port, seconds=seconds,
                                        settings=settings, flags=flags, faults=faults, step=step,
                                        stop_when=None if stop_when is None else lambda _: stop_when())
    finally:
        if not isinstance(server, VirtualCollector):
            loop.close()
    return usb, b"".join(data for d, _, data in wire if d == "T"), eeprom
