"""EspStr on the Uno itself: RAM and F() strings read, measured, printed and quoted as what they are, and both kinds
reaching the module through the driver (a RAM ssid with an F() password joins; a RAM host name connects). On the
AVR a string is two bytes, a flash one marked by its address's top bit (EspAtStr.h), which a native build never
compiles: this sketch runs in simavr against the fake ESP-01.
Needs gcc-avr, arduino-core-avr, simavr and libsimavr-dev: missing tools fail these tests, they do not skip."""
import subprocess
import sys
from pathlib import Path

import pytest

from esp8266sim import SimConfig, Simulator
from unosim import Uno
from simtools import ExactServer

pytestmark = pytest.mark.slow     # tests/README.md: the tiers (runs a simulated Uno)

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "firmware" / "tools"))
import pio_core  # noqa: E402  (a sibling script of the build tools, not a package)

SKETCH = r"""
#include <EspAt.h>
#include <EspAtSoftUart.h>
#include <EspAtUsbTx.h>

EspAtUsbTx out;
EspAtDrv esp(espUart);
EspAtClient client(esp);
char ssid[] = "HomeNet";
char host[] = "example.com";
char quoted[] = "a,\"b\"\\";
// A flash string that is not there (an optional user or password held in a variable): empty, as nullptr is.
const __FlashStringHelper* volatile noFlash = nullptr;

void show(EspStr s, bool where) {
  if (where) out.print(s.inFlash() ? F("flash ") : F("ram "));
  out.print(s.length());
  out.write(' ');
  out.write(s.empty() ? '-' : s.at(1));
  out.write(' ');
  s.printTo(out);
  out.write(' ');
  s.printQuoted(out);
  out.print(F("|\r\n"));
}

void setup() {
  out.begin();
  espUart.begin();
  show(quoted, true);
  show(F("c,\"d\"\\"), true);
  show("", true);
  show(F(""), true);
  show(nullptr, false);
  show(noFlash, false);
  out.print(F("join "));
  out.print((int)espat::begin(esp, ssid, F("s3cr3t99")));
  out.print(F("\r\nconnect "));
  out.print(client.connect(host, 80));
  client.stop();
  out.print(F("\r\ndone\r\n"));
}

void loop() {}
"""

EXPECTED = (b'ram 6 , a,"b"\\ "a\\,\\"b\\"\\\\"|\r\n'
            b'flash 6 , c,"d"\\ "c\\,\\"d\\"\\\\"|\r\n'
            b'ram 0 -  ""|\r\n'
            b'flash 0 -  ""|\r\n'
            b'0 -  ""|\r\n'
            b'0 -  ""|\r\n'
            b"join 0\r\n"
            b"connect 1\r\n"
            b"done\r\n")


@pytest.fixture(scope="module")
def elf(tmp_path_factory) -> Path:
    work = tmp_path_factory.mktemp("strings")
    sketch = work / "Strings" / "Strings.ino"
    sketch.parent.mkdir()
    sketch.write_text(SKETCH)
    core = pio_core.seed()
    done = subprocess.run([*pio_core.pio_command(), "ci", "--board", "uno", "--lib",
                           str(ROOT / "firmware" / "lib" / "EspAt"), "--build-dir", str(work / "build"),
                           "--keep-build-dir", str(sketch)], env=pio_core.environ(core), capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return work / "build" / ".pio" / "build" / "uno" / "firmware.elf"


def test_ram_and_flash_strings_are_read_as_what_they_are_on_the_uno(elf, tmp_path):
    server = ExactServer(lambda request: b"")
    config = SimConfig(networks={"HomeNet": "s3cr3t99"}, hosts={"example.com": ("127.0.0.1", server.port)},
                       baud=9600, latency_scale=0.1, log_path=str(tmp_path / "module.log"))
    try:
        with Simulator(config) as sim:
            with Uno.sketch(elf, esp=sim.serve_tcp().split("//", 1)[1]) as uno:
                end = uno.wait_for(b"done\r\n", timeout=90)
                usb = uno.output[:end]
    finally:
        server.close()
    assert usb == EXPECTED, usb
    said = (tmp_path / "module.log").read_text()
    # (the module's log masks the password: "join 0" above says it was right)
    assert 'AT+CWJAP_CUR="HomeNet",' in said and 'AT+CIPSTART=0,"TCP","example.com",80' in said, said
