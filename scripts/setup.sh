# Sourced by scripts/demo.sh and scripts/test.sh: makes .venv with espat installed, and (as root on Debian/Ubuntu)
# the system packages the firmware build and its tests need. Idempotent: a second run only checks.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

SYSTEM_PACKAGES="python3-venv gcc-avr avr-libc binutils-avr arduino-core-avr avrdude simavr libsimavr-dev libelf-dev pkg-config g++ make"
# espat collect's tests: its storage tests run on PostgreSQL too, its live page is checked in headless Chromium
SYSTEM_PACKAGES="$SYSTEM_PACKAGES postgresql chromium"
# the MQTT publisher is tested against a real broker; every example is also built by the Arduino IDE 1.8 build engine
SYSTEM_PACKAGES="$SYSTEM_PACKAGES mosquitto arduino-builder arduino-ctags"

missing_packages() {
    local p
    for p in $SYSTEM_PACKAGES; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || printf '%s ' "$p"
    done
}

if command -v dpkg-query >/dev/null 2>&1; then
    need=$(missing_packages)
    if [ -n "$need" ]; then
        if [ "$(id -u)" = 0 ]; then
            echo "setup: apt-get install $need" >&2
            apt-get -o DPkg::Lock::Timeout=600 update -qq
            DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends $need >/dev/null
        else
            echo "setup: missing system packages (run as root, or: sudo apt-get install $need)" >&2
        fi
    fi
fi

if [ ! -x .venv/bin/python ]; then
    python3 -m venv .venv
fi
if ! .venv/bin/python -c "import espat, esp8266sim, unosim, pytest, hypothesis, importlib.util as u; \
assert u.find_spec('adafruit_espatcontrol')" >/dev/null 2>&1 \
        || [ pyproject.toml -nt .venv/.installed ]; then
    .venv/bin/python -m pip install -q --upgrade pip >/dev/null
    .venv/bin/python -m pip install -q -e ".[test]"
    # A third-party AT client the simulator is tested against (tests/sim/test_third_party.py). Without its
    # dependencies: they are CircuitPython's hardware stack (Blinka), which a PC has no use for.
    .venv/bin/python -m pip install -q --no-deps adafruit-circuitpython-esp-atcontrol==0.11.7
    touch .venv/.installed
fi
export PATH="$PWD/.venv/bin:$PATH"

# PlatformIO from PyPI, and a private core folder seeded with the project's own Uno platform (firmware/platform) and
# SCons, so `pio run` works offline with the standard `platform = atmelavr` (firmware/tools/pio_core.py).
PLATFORMIO_VERSION=6.2.0
if ! .venv/bin/python -c "import platformio, sys; sys.exit(platformio.__version__ != '$PLATFORMIO_VERSION')" 2>/dev/null; then
    .venv/bin/python -m pip install -q "platformio==$PLATFORMIO_VERSION"
fi
export PLATFORMIO_CORE_DIR="$PWD/.pio-core" PLATFORMIO_SETTING_ENABLE_TELEMETRY=no
.venv/bin/python firmware/tools/pio_core.py >/dev/null
