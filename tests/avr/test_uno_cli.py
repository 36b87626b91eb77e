"""`espat uno` as a user runs it: the port's path on stdout, inputs changed through the control port, one-line
errors for a busy flash file or module port, Ctrl-C writing the flash back."""
from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import serial

from unotools import until_answering

ESPAT = [sys.executable, "-m", "espat.cli"]


def start_uno(*args: str) -> tuple:
    proc = subprocess.Popen([*ESPAT, "uno", "--network", "HomeNet:s3cr3t99", "--latency-scale", "0.1", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    port = proc.stdout.readline().strip()
    status = proc.stderr.readline()
    assert port.startswith("/dev/"), (port, status, proc.stderr.read() if proc.poll() is not None else "")
    return proc, port, status


def stop(proc: subprocess.Popen, sig=signal.SIGINT) -> int:
    proc.send_signal(sig)
    try:
        return proc.wait(timeout=30)
    finally:
        proc.stdout.close()
        proc.stderr.close()


def test_espat_uno_runs_a_sketch_and_takes_control_lines(built, tmp_path):
    flash = tmp_path / "uno.flash"
    proc, port, status = start_uno("--firmware", str(built / "bridge" / "firmware.elf"), "--flash", str(flash),
                                   "--control", "0", "--seed", "5", "--esp-ch-pd", "7")
    try:
        assert "ESP-01 on pins 2/3 (SoftwareSerial) at 9600 baud, RST on pin 4, CH_PD on pin 7" in status
        assert "; seed 5;" in status
        assert "TIOCMGET" in proc.stderr.readline()     # avrdude's errors on a pty, said to be harmless
        control_port = int(re.search(r"control on 127\.0\.0\.1:(\d+)", status).group(1))
        with serial.Serial(port, 9600, timeout=0.5) as usb:
            until_answering(usb)
        with socket.create_connection(("127.0.0.1", control_port), timeout=10) as control:
            answers = control.makefile("rw")
            for line, want in (("A0=0.3", "ok"), ("vcc=4.5", "ok"), ("temp-mv=330", "ok"),
                               ("A9=1", "error: unknown input 'A9' (A0..A5, vcc, temp-mv)"),
                               ("A1=7", "error: A1=7.0 V: an analog input reads 0 to Vcc (4.5 V)")):
                answers.write(line + "\n")
                answers.flush()
                assert answers.readline().strip() == want
        second = subprocess.run([*ESPAT, "uno", "--flash", str(flash)], capture_output=True, text=True, timeout=60)
        assert second.returncode == 2
        assert f"{flash} is in use by another virtual Uno" in second.stderr
        assert "Traceback" not in second.stderr
    finally:
        assert stop(proc) == 128 + signal.SIGINT
    assert flash.stat().st_size == 32768


def test_a_module_port_already_open_is_a_one_line_error(tmp_path):
    master, slave = os.openpty()
    name = os.ttyname(slave)
    try:
        with serial.Serial(name, 115200, exclusive=True):
            done = subprocess.run([*ESPAT, "uno", "--esp-port", name], capture_output=True, text=True, timeout=60)
    finally:
        os.close(master)
        os.close(slave)
    assert done.returncode == 2
    assert f"--esp-port {name}" in done.stderr and "Traceback" not in done.stderr
