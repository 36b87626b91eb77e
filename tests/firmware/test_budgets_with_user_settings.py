"""Every environment stays inside its budget (test_build.py's BUDGETS) when built with a real user's settings, not
only the short defaults: the strings live in flash and the device name sizes the JSON, so longer ones cost.
Issue 10's settings: SSID HomeNetwork-2G, a 21-character password, host sensors.example.org, port 8080, path
/api/readings, device greenhouse-uno-1, interval 60000, and a 32-character bearer token."""
import os
import re
import subprocess
import sys

import pytest

from fw_native import ROOT
from test_build import BUDGETS

USER_SETTINGS = {"ESPAT_WIFI_SSID": "HomeNetwork-2G", "ESPAT_WIFI_PASS": "correct-horse-battery",
                 "ESPAT_SERVER_HOST": "sensors.example.org", "ESPAT_SERVER_PORT": "8080",
                 "ESPAT_SERVER_PATH": "/api/readings", "ESPAT_DEVICE": "greenhouse-uno-1",
                 "ESPAT_INTERVAL_MS": "60000", "ESPAT_TOKEN": "3f9c2a7b41d8e6f0a5b3c9d27e4f1a86"}


@pytest.fixture(scope="module")
def sizes(tmp_path_factory):
    assert len(USER_SETTINGS["ESPAT_WIFI_PASS"]) == 21 and len(USER_SETTINGS["ESPAT_TOKEN"]) == 32
    done = subprocess.run([sys.executable, str(ROOT / "firmware" / "tools" / "build.py"), "--out",
                           str(tmp_path_factory.mktemp("fw"))], env={**os.environ, **USER_SETTINGS},
                          capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    return {m.group(1): (int(m.group(2)), int(m.group(3)))
            for m in re.finditer(r"^(\w+): flash (\d+) B, RAM (\d+) B$", done.stdout, re.M)}


@pytest.mark.parametrize("env", sorted(BUDGETS))
def test_env_fits_its_budget_with_a_users_settings(sizes, env):
    flash, ram = sizes[env]
    max_flash, max_ram = BUDGETS[env]
    assert flash <= max_flash and ram <= max_ram, f"{env}: flash {flash}/{max_flash} B, RAM {ram}/{max_ram} B"
