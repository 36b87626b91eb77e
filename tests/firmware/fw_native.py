"""Host-native builds of the sketches: the env's sources and build flags from platformio.ini (through build.py),
compiled with g++ against the Arduino shim in tests/firmware/shim, and the helpers that run one against the fake
ESP-01 and a loopback HTTP server. Used by test_native_*.py and bench/firmware_wire.py.
"""
from __future__ import annotations

import hashlib
import importlib.util
import json
import os
import shutil
import struct
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import native_cc

ROOT = Path(__file__).resolve().parents[2]
SHIM = ROOT / "tests" / "firmware" / "shim"
INI = ROOT / "platformio.ini"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "espat" / "native"

# What the sketches are built with here; the fake module and the collector are set up to match.
SETTINGS = {"ESPAT_WIFI_SSID": "HomeNet", "ESPAT_WIFI_PASS": "s3cr3t", "ESPAT_SERVER_HOST": "example.com",
            "ESPAT_SERVER_PORT": "80", "ESPAT_SERVER_PATH": "/api/readings", "ESPAT_DEVICE": "bench-7",
            "ESPAT_INTERVAL_MS": "2000"}


def _build_tool():
    if "espat_fw_build" in sys.modules:
        return sys.modules["espat_fw_build"]
    spec = importlib.util.spec_from_file_location("espat_fw_build", ROOT / "firmware" / "tools" / "build.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["espat_fw_build"] = module  # its dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


_build_lock = threading.Lock()


def build(env: str, settings: dict = SETTINGS, extra_flags: tuple = ()) -> Path:
    """Compiles `env` for the host; the binary is cached by the hash of its sources and flags. One build at a
    time: a program started while another thread writes an executable can inherit its open file (ETXTBSY)."""
    with _build_lock:
        return _build(env, settings, extra_flags)


def generated_headers(settings: dict) -> dict:
    """What platformio.ini's extra script (firmware/tools/pio_generate.py) writes for these settings:
    {header name: text}. Raises settings_header.SettingsError for a value the firmware cannot carry."""
    _build_tool()  # puts firmware/tools on sys.path
    import contract_header
    import settings_header
    contract = contract_header.load()
    environ = {k.encode(): v.encode() if isinstance(v, str) else v for k, v in settings.items()}
    return {settings_header.HEADER_NAME: settings_header.render(environ, contract),
            contract_header.HEADER_NAME: contract_header.render(contract)}


def _build(env: str, settings: dict, extra_flags: tuple) -> Path:
    tool = _build_tool()
    project = tool.read_project(INI)
    config = project.envs[env]
    headers = generated_headers(settings)
    digest = hashlib.sha256("\0".join(f"{k}={v}" for k, v in sorted(headers.items())).encode())
    generated = CACHE / "generated" / digest.hexdigest()[:16]
    if not generated.exists():
        tmp_dir = generated.with_suffix(f".{os.getpid()}.tmp")
        tmp_dir.mkdir(parents=True, exist_ok=True)
        for name, text in headers.items():
            (tmp_dir / name).write_text(text)
        try:
            tmp_dir.rename(generated)
        except OSError:  # another process made it meanwhile
            shutil.rmtree(tmp_dir, ignore_errors=True)
    sources = tool.select_sources(project.src_dir, config.src_filter)
    libraries = [lib for lib in tool.resolve_libraries(sources, project.lib_dir)
                 if project.lib_dir in lib.parents]  # the framework's own libraries are the shim's
    shared = [p for lib in libraries for p in sorted(lib.rglob("*.cpp"))] + [SHIM / "shim.cpp"]
    # The env's defines and language options; its AVR code-generation and linker options (-m..., -Wl,...) are the
    # target's, meaningless to the host compiler.
    flags = ["-std=gnu++11", "-O1", "-g", "-Wall", "-Wno-unused-variable", "-fpermissive",
             *(f for f in config.build_flags if not f.startswith(("-m", "-Wl,"))), *extra_flags]
    beside = [project.include_dir, *libraries]
    # Only the sketch's own files include the settings headers (through espat_config.h), so the library and the shim
    # are compiled without their folder: their objects serve every settings (native_cc keeps them), and a build on
    # other settings compiles the sketch's files alone.
    objects = [*native_cc.objects([*flags, *(f"-I{i}" for i in (SHIM, *beside))], shared),
               *native_cc.objects([*flags, *(f"-I{i}" for i in (SHIM, generated, *beside))], sources)]
    return native_cc.link(env, flags, objects)


def store(collector, status: int, body: bytes, seen: dict | None) -> int:
    """What a collector keeps of a POST its script answers `status`, and the status it answers: with `seen` (the
    contract's whole key -> what was sampled) a repeat key is 200 when the sampling is the same and 409 when not,
    each status noted in `statuses`; without, a 201 is noted in `accepted` by (boot, seq)."""
    if status != 201:
        return status
    reading = json.loads(body)
    if seen is not None:
        key = (reading["device"], reading["incarnation"], reading["boot"], reading["seq"])
        sampled = (reading["uptime_ms"], reading["readings"])
        if key in seen:
            status = 200 if seen[key] == sampled else 409
        else:
            seen[key] = sampled
            collector.stored[(reading["incarnation"], reading["boot"], reading["seq"])] = reading
        collector.statuses.append(status)
    else:
        key = (reading["boot"], reading["seq"])
        collector.accepted.append(key)
        collector.stored.setdefault(key, reading)
    return status


class Collector:
    """A loopback HTTP/1.1 server that keeps every POST. `answers` maps request numbers (from 1) to an HTTP status
    other than 201; like a real ingest server it stores by (boot, seq), so a reading sent twice is counted once.
    With keep_alive it leaves each connection open for the client's next request (HTTP/1.1's default); otherwise
    it answers `Connection: close` and closes. `connections` counts the connections it accepted."""

    def __init__(self, answers: dict | None = None, keep_alive: bool = False, by_key: bool = False,
                 delay: float = 0.0, retry_after: dict | None = None):
        """by_key: store by the contract's whole key (device, incarnation, boot, seq) and answer a repeat 200 when
        what was sampled is the same, 409 when it differs (contract.json "sampled"). delay: seconds before each
        answer (a slow server). retry_after: request number -> the Retry-After header's value sent with it."""
        self.posts = []        # (path, headers, body) of every request, in arrival order
        self.stored = {}       # (boot, seq) -> reading
        self.accepted = []     # (boot, seq) of every request answered 201, repeats included
        self.answers = dict(answers or {})
        self.connections = 0
        self.by_key = {}       # by_key: contract key -> what was sampled
        self.statuses = []     # by_key: the status of each answer
        self.lock = threading.Lock()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def setup(self):
                super().setup()
                with collector.lock:
                    collector.connections += 1

            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                if delay:
                    time.sleep(delay)
                with collector.lock:
                    collector.posts.append((self.path, dict(self.headers), body))
                    number = len(collector.posts)
                    status = store(collector, collector.answers.get(number, 201), body,
                                   collector.by_key if by_key else None)
                self.send_response(status)
                if (retry_after or {}).get(number) is not None:
                    self.send_header("Retry-After", str(retry_after[number]))
                self.send_header("Content-Length", "0")
                if not keep_alive:
                    self.send_header("Connection", "close")
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def readings(self) -> list:
        with self.lock:
            return [json.loads(body) for _, _, body in self.posts]

    def seqs_stored(self) -> set:
        with self.lock:
            return {seq for _, seq in self.stored}

    def close(self):
        self.server.shutdown()
        self.server.server_close()


def _crc8(data: bytes) -> int:
    crc = 0x5A  # boot_identity.cpp's CRC-8: polynomial 0x07, from 0x5A
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc << 1 ^ 0x07) & 0xFF if crc & 0x80 else crc << 1 & 0xFF
    return crc


def identity_copies(eeprom: bytes) -> list:
    """The reporter's boot identity (firmware/src/reporter/boot_identity.h): (generation, incarnation) of each of
    its four 9-byte copies at the start of EEPROM that passes its CRC, in copy order."""
    copies = [eeprom[i * 9:i * 9 + 9] for i in range(4)]
    return [(int.from_bytes(c[:4], "little"), int.from_bytes(c[4:8], "little")) for c in copies if _crc8(c[:8]) == c[8]]


def identity_image(generation: int, incarnation: int) -> bytes:
    """A 1 KiB EEPROM holding one identity copy (where the board would have written that generation); the rest
    blank, so the queue is formatted at the next start."""
    copy = generation.to_bytes(4, "little") + incarnation.to_bytes(4, "little")
    image = bytearray(b"\xff" * 1024)
    at = (generation % 4) * 9
    image[at:at + 9] = copy + bytes([_crc8(copy)])
    return bytes(image)


def read_wire_log(path: Path) -> list:
    """The shim's wire log as [(direction 'T'|'R', µs since start, bytes)]."""
    data = path.read_bytes()
    chunks, i = [], 0
    while i < len(data):
        direction = chr(data[i])
        us, n = struct.unpack_from("<QI", data, i + 1)
        chunks.append((direction, us, data[i + 13:i + 13 + n]))
        i += 13 + n
    return chunks


class Run:
    """One run of a host-native sketch against an already running fake ESP-01 (`esp` = 127.0.0.1:PORT)."""

    def __init__(self, binary: Path, esp: str, workdir: Path, clock_scale: float = 1.0, env: dict | None = None):
        self.wire_log = workdir / "wire.bin"
        self.eeprom = workdir / "eeprom.bin"
        full_env = {**os.environ, "ESPAT_SHIM_ESP": esp, "ESPAT_SHIM_WIRELOG": str(self.wire_log),
                    "ESPAT_SHIM_EEPROM": str(self.eeprom), "ESPAT_SHIM_CLOCK_SCALE": str(clock_scale), **(env or {})}
        self.stdout_path = workdir / "usb.txt"
        self._stdout = self.stdout_path.open("wb")
        self.proc = subprocess.Popen([str(binary)], env=full_env, stdin=subprocess.DEVNULL, stdout=self._stdout,
                                     stderr=subprocess.PIPE)

    def wait_until(self, done, limit: float) -> bool:
        """Polls `done()` until true, the program exits, or `limit` seconds pass."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            if done():
                return True
            if self.proc.poll() is not None:
                return done()
            time.sleep(0.05)
        return done()

    def usb(self) -> bytes:
        """What the sketch has written to USB so far."""
        return self.stdout_path.read_bytes()

    def stop(self) -> tuple:
        """Ends the program; returns (exit status or None if it was still running, stderr text, USB text)."""
        status = self.proc.poll()
        if status is None:
            self.proc.terminate()
        _, err = self.proc.communicate(timeout=10)
        self._stdout.close()
        return status, err.decode(errors="replace"), self.stdout_path.read_bytes()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self._stdout.close()
