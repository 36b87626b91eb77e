"""The one set of settings the firmware's envs are built with for the tests that run them in simavr (tests/avr, and
the e2e modules of tests/firmware), and that build: every env of platformio.ini in one `pio run`, made once per run
for all workers (the `built` fixture of tests/conftest.py). A module that needs other settings (a user's, a token,
the field's) builds its own; one that can run on these takes them from `built`, so no env is built twice alike."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "firmware" / "tools" / "build.py"

SETTINGS = {"ESPAT_WIFI_SSID": "HomeNet", "ESPAT_WIFI_PASS": "s3cr3t99", "ESPAT_SERVER_HOST": "example.com",
            "ESPAT_SERVER_PORT": "80", "ESPAT_SERVER_PATH": "/api/readings", "ESPAT_DEVICE": "uno-test",
            "ESPAT_INTERVAL_MS": "2000"}


def build_every_env(out: Path) -> None:
    """OUT/ENV/firmware.elf and .hex for every env, with SETTINGS and no token."""
    done = subprocess.run([sys.executable, str(BUILD), "--out", str(out)],
                          env={**os.environ, "ESPAT_TOKEN": "", **SETTINGS}, capture_output=True, text=True,
                          timeout=900)
    assert done.returncode == 0, done.stderr
