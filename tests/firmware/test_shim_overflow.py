"""The shim's receive buffer (64 bytes, an Uno's) on the virtual clock: bytes that arrive while it is full are lost,
as on a board, and the run ends there with a line on stderr, unless the test says it means it (ESPAT_SHIM_LOSSY=1).
Nothing else would tell: the firmware never asks overflow(), so a test passed on whatever the lost bytes left.

A small sketch built with the shim sleeps two seconds while the module sends, then reads what is there and says on
its USB serial whether its port overflowed."""
from __future__ import annotations

import shutil
import subprocess

import pytest

from esp8266sim import SimConfig
from esp8266sim.lockstep import LockStepBoard, NativeProgram
from esp8266sim.vclock import VirtualLoop
from fw_native import SHIM

SKETCH = r"""
#include <Arduino.h>
#include <SoftwareSerial.h>
SoftwareSerial esp(2, 3);
void setup() {
  Serial.begin(9600);
  esp.begin(9600);
  delay(2000);                  // what the module sends meanwhile waits for the first read
  while (esp.available()) esp.read();
  Serial.print(esp.overflow() ? "lost bytes\n" : "lost nothing\n");
}
void loop() { delay(100); }
"""


@pytest.fixture(scope="module")
def sketch(tmp_path_factory):
    gxx = shutil.which("g++")
    assert gxx, "g++ missing: apt-get install g++ (scripts/test.sh does)"
    work = tmp_path_factory.mktemp("overflow")
    (work / "sketch.cpp").write_text(SKETCH)
    done = subprocess.run([gxx, "-std=gnu++11", "-O1", "-g", "-Wall", "-fpermissive", f"-I{SHIM}",
                           str(work / "sketch.cpp"), str(SHIM / "shim.cpp"), "-o", str(work / "sketch")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return work / "sketch"


def run(sketch, tmp_path, burst: int, env: dict | None = None) -> str:
    """The sketch's USB text after 3 s, the module having sent `burst` bytes at 0.5 s (besides its boot text)."""
    loop = VirtualLoop()
    config = SimConfig(networks={"HomeNet": "s3cr3t"}, baud=9600, latency_scale=0.1, seed=5)
    board = LockStepBoard(loop, config, NativeProgram(sketch, env=env), adc=lambda t: (215, 314, 5000),
                          usb_log=tmp_path / "usb.txt")
    try:
        board.power_on(mcusr=1)
        if burst:
            loop.call_later(0.5, board.module.emit, b"+" * burst)
        assert board.run_until(3.0) is None
    finally:
        board.close()
        loop.close()
    return (tmp_path / "usb.txt").read_text()


def test_what_fits_in_the_buffer_is_no_loss(sketch, tmp_path):
    assert run(sketch, tmp_path, burst=40) == "lost nothing\n"


def test_a_burst_past_the_buffer_ends_the_run_on_stderr(sketch, tmp_path):
    with pytest.raises(RuntimeError, match=r"the soft port's 64-byte receive buffer overflowed at 2\.000 s: "
                                           r"\d+ bytes lost"):
        run(sketch, tmp_path, burst=100)


def test_a_test_that_means_the_loss_runs_on_and_the_sketch_can_tell(sketch, tmp_path):
    assert run(sketch, tmp_path, burst=100, env={"ESPAT_SHIM_LOSSY": "1"}) == "lost bytes\n"
