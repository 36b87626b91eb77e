#!/usr/bin/env python3
"""Flash and static RAM of the firmware that issue 16 budgets, built with the real PlatformIO and Debian's avr-gcc
(the Arduino IDE's flags) and a user's realistic settings (tests/firmware/test_build.py's REALISTIC), printed
beside the budgets and beside the peers' WebClient figures.

The peers' figures are quoted from issue 16 (measured there by an earlier session with this same toolchain: the
WebClient examples of WiFiEspAT 2.0.0 and WiFiEsp, built for the Uno); they are not rebuilt here, as the peers'
sources are not part of this repository.

    python bench/firmware_size.py
"""
from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TOOLS = ROOT / "firmware" / "tools"
sys.path.insert(0, str(TOOLS))


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


build = _load("espat_fw_build", TOOLS / "build.py")
examples = _load("espat_build_examples", TOOLS / "build_examples.py")
REALISTIC = _load("espat_test_build", ROOT / "tests" / "firmware" / "test_build.py").REALISTIC

# (flash bytes, static RAM bytes) at most, issue 16 section 4 (and issue 15 for reporter_hwserial)
BUDGETS = {"WebClient": (6500, 450), "MqttPublish": (8000, 600), "reporter_softserial": (8000, 600),
           "reporter_hwserial": (7000, 500)}
PEERS = [("WiFiEspAT 2.0.0 WebClient", 11660, 811), ("WiFiEsp WebClient", 13240, 864)]


def main() -> int:
    env = {**os.environ, **REALISTIC}
    rows = []
    with tempfile.TemporaryDirectory(prefix="espat-size-") as out:
        out = Path(out)
        saved = dict(os.environ)
        os.environ.update(REALISTIC)
        try:
            sizes = build.pio_build(ROOT / "platformio.ini", ["reporter_softserial", "reporter_hwserial"], out / "envs")
        finally:
            os.environ.clear()
            os.environ.update(saved)
        for name, (flash, ram, _) in sizes.items():
            rows.append((name, flash, ram))
        for name in examples.examples():
            flash, ram, _ = examples.build(name, "soft", out / "examples", environ=env)
            rows.append((f"{name} (example, pins 2/3)", flash, ram))
    print("firmware sizes with a user's settings (flash B / static RAM B), Debian avr-gcc 5.4, Arduino IDE flags")
    print(f"{'firmware':<36} {'flash':>7} {'RAM':>5}   {'budget':>11}   verdict")
    for name, flash, ram in rows:
        key = name.split(" ")[0]
        budget = BUDGETS.get(key)
        if budget:
            ok = flash <= budget[0] and ram <= budget[1]
            verdict = "within" if ok else f"OVER by {max(0, flash - budget[0])} B flash, {max(0, ram - budget[1])} B RAM"
            print(f"{name:<36} {flash:>7} {ram:>5}   {budget[0]:>6}/{budget[1]:<4}   {verdict}")
        else:
            print(f"{name:<36} {flash:>7} {ram:>5}   {'-':>11}")
    web = next((f, r) for n, f, r in rows if n.startswith("WebClient"))
    print("\nWebClient beside the peers' (their figures quoted from issue 16, same toolchain, not rebuilt here):")
    print(f"{'EspAt WebClient':<36} {web[0]:>7} {web[1]:>5}")
    for name, flash, ram in PEERS:
        print(f"{name:<36} {flash:>7} {ram:>5}   EspAt uses {web[0] / flash:.0%} of its flash, {web[1] / ram:.0%} of its RAM")
    return 0


if __name__ == "__main__":
    sys.exit(main())
