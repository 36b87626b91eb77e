"""Settings from the environment reach the firmware byte for byte, through the header platformio.ini's extra script
generates (firmware/tools/settings_header.py), never through a shell or a -D flag; a value the firmware cannot carry
stops the build with one line naming the variable; the device name follows the collector's contract.

The bytes are checked where the firmware sees them: the generated header compiled by g++ (as the sketches include
it) prints each value back as hex, and a real `pio run` puts them into the flash image.
Needs g++ and PlatformIO (scripts/setup.sh): a missing tool fails these tests."""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from builds import build_envs
from fw_native import ROOT, SHIM, generated_headers

sys.path.insert(0, str(ROOT / "firmware" / "tools"))
import contract_header  # noqa: E402
import settings_header  # noqa: E402

CONTRACT = contract_header.load()
# Each awkward character on its own, and all of them at once: what a shell or a -D flag used to eat.
SPECIAL = {"dollar": "pa$HOMEss", "backslash": "pa\\ss", "double-quote": 'say "hi"', "single-quote": "it's",
           "ampersand": "a&b", "semicolon": "a;b", "spaces": " two  spaces ", "utf8": "gewächshaus-ü€",
           "question-marks": "what??/", "octal-lookalike": "\u00e97digits", "all": "p$a\\s\"s'&; é\\x41"}


def value_as_compiled(tmp_path, name: str, value: str) -> bytes:
    """ESPAT_<name> = value through the generated header and g++: the bytes the firmware gets."""
    gxx = shutil.which("g++")
    assert gxx, "g++ missing: apt-get install g++"
    headers = generated_headers({f"ESPAT_{name}": value})
    for file, text in headers.items():
        (tmp_path / file).write_text(text)
    (tmp_path / "main.cpp").write_text(
        '#include <stdio.h>\n#include "espat_settings.h"\n'
        f"int main() {{ const char v[] = ESPAT_ENV_{name};\n"
        '  for (unsigned i = 0; i + 1 < sizeof v; i++) printf("%02x", (unsigned char)v[i]);\n  return 0; }\n')
    done = subprocess.run([gxx, "-std=gnu++11", "-Wall", "-Werror", "-trigraphs", str(tmp_path / "main.cpp"),
                           "-o", str(tmp_path / "v")], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    return bytes.fromhex(subprocess.run([str(tmp_path / "v")], capture_output=True, text=True, check=True).stdout)


@pytest.mark.parametrize("kind", sorted(SPECIAL))
@pytest.mark.parametrize("name", ["WIFI_SSID", "WIFI_PASS", "MQTT_USER", "MQTT_PASS"])
def test_a_value_reaches_the_firmware_byte_for_byte(tmp_path, name, kind):
    value = SPECIAL[kind]
    assert value_as_compiled(tmp_path, name, value) == value.encode()


@pytest.mark.parametrize("name, value", [("SERVER_PATH", "/api/r?a=1&b=$x;y'z\"\\"), ("TOKEN", "t$k&n;\"'\\?")])
def test_path_and_token_keep_their_visible_ascii(tmp_path, name, value):
    assert value_as_compiled(tmp_path, name, value) == value.encode()


@pytest.mark.parametrize("name, value, why", [
    ("WIFI_SSID", "a" * 33, "33 bytes"),
    ("WIFI_PASS", "p" * 65, "65 bytes"),
    ("WIFI_PASS", "line\nbreak", "control character"),
    ("SERVER_HOST", "my host", "host name"),
    ("SERVER_HOST", 'a"b', "host name"),
    ("SERVER_PORT", "80a", "port number"),
    ("SERVER_PORT", "70000", "port number"),
    ("SERVER_PATH", "api", "starting with '/'"),
    ("SERVER_PATH", "/with space", "percent-encode"),
    ("SERVER_PATH", "/gewächs", "percent-encode"),
    ("TOKEN", "has space", "visible ASCII"),
    ("INTERVAL_MS", "1m", "milliseconds"),
    ("DEVICE", "my greenhouse", "refused by the collector"),
    ("DEVICE", "gewächshaus", "refused by the collector"),
    ("DEVICE", "x" * 41, "refused by the collector"),
    ("DEVICE", "-leading-dash", "refused by the collector"),
])
def test_a_value_that_cannot_be_carried_names_the_variable(name, value, why):
    with pytest.raises(settings_header.SettingsError) as e:
        generated_headers({f"ESPAT_{name}": value})
    assert str(e.value).startswith(f"ESPAT_{name}: ") and why in str(e.value) and "\n" not in str(e.value)


NAMES = ["greenhouse-uno-1", "a", "A.b_c-9", "x" * 32, "x" * 33, "my greenhouse", "gewächshaus", ".dot", "_u",
         "-d", "", "ok.", "tab\there", "semi;colon"]


def test_the_firmware_device_rule_is_the_collectors(tmp_path):
    """The constexpr rule in the generated contract header (what secrets.h's and the default's names meet) says
    yes exactly where the collector's pattern does."""
    gxx = shutil.which("g++")
    assert gxx, "g++ missing: apt-get install g++"
    (tmp_path / "espat_contract.h").write_text(contract_header.render(CONTRACT))
    cases = "".join(f"  printf(\"%d\", deviceAllowed({json.dumps(n)}) ? 1 : 0);\n" for n in NAMES)
    (tmp_path / "main.cpp").write_text('#include <stdio.h>\n#include "espat_contract.h"\n'
                                       f"static_assert(deviceAllowed(\"uno-1\"), \"constexpr\");\nint main() {{\n{cases}}}\n")
    done = subprocess.run([gxx, "-std=gnu++11", "-Wall", str(tmp_path / "main.cpp"), "-o", str(tmp_path / "d")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = subprocess.run([str(tmp_path / "d")], capture_output=True, text=True, check=True).stdout
    want = "".join("1" if re.fullmatch(CONTRACT["device"]["pattern"], n) else "0" for n in NAMES)
    assert got == want and "0" in want and "1" in want


def test_the_status_table_is_the_contracts(tmp_path):
    """verdictFor, compiled, gives every status from 100 to 999 the action contract.json names for it, and the
    default to every status it does not name."""
    gxx = shutil.which("g++")
    assert gxx, "g++ missing: apt-get install g++"
    (tmp_path / "espat_contract.h").write_text(contract_header.render(CONTRACT))
    (tmp_path / "main.cpp").write_text('#include <stdio.h>\n#include "espat_contract.h"\n'
                                       "int main() { for (unsigned s = 100; s < 1000; s++) "
                                       'printf("%u %d\\n", s, (int)verdictFor(s)); }\n')
    done = subprocess.run([gxx, "-std=gnu++11", "-Wall", str(tmp_path / "main.cpp"), "-o", str(tmp_path / "v")],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    got = subprocess.run([str(tmp_path / "v")], capture_output=True, text=True, check=True).stdout.split("\n")
    actions = [a.capitalize() for a in contract_header.ACTIONS]
    want = [f"{s} {actions.index(CONTRACT['status'].get(str(s), CONTRACT['default']).capitalize())}"
            for s in range(100, 1000)]
    assert got[:-1] == want
    assert "enum class Verdict : uint8_t { " + ", ".join(actions) + " };" in contract_header.render(CONTRACT)


def test_a_pattern_the_translation_cannot_say_is_an_error():
    with pytest.raises(contract_header.ContractError):
        contract_header.render({**CONTRACT, "device": {"pattern": "(a|b)+", "rule": "?"}})


# ---- the real build: `pio run` with the extra script

BUILD = ROOT / "firmware" / "tools" / "build.py"


def pio(tmp_path, env, settings):
    return subprocess.run([sys.executable, str(BUILD), "--out", str(tmp_path), env], capture_output=True, text=True,
                          cwd=ROOT, env={**os.environ, **settings}, timeout=900)


@pytest.mark.slow  # tests/README.md: the tiers (builds firmware with the real `pio run`)
def test_pio_build_carries_every_special_character_into_flash(tmp_path, tmp_path_factory):
    password = SPECIAL["all"]
    ssid = "Café \"Net\" \\ $HOME"
    settings = {"ESPAT_WIFI_PASS": password, "ESPAT_WIFI_SSID": ssid, "ESPAT_SERVER_PATH": "/r?a=1&b=$x;y"}
    build_envs(tmp_path_factory, ["reporter_softserial"], {**os.environ, **settings}, tmp_path)
    subprocess.run(["avr-objcopy", "-O", "binary", "-j", ".text", "-j", ".data",
                    str(tmp_path / "reporter_softserial" / "firmware.elf"), str(tmp_path / "image.bin")], check=True)
    image = (tmp_path / "image.bin").read_bytes()
    for value in (password, ssid):
        assert value.encode() + b"\0" in image
    # the path lives inside the request line, a flash string of its own (src/reporter/post_exchange.h)
    assert b"POST /r?a=1&b=$x;y HTTP/1.1\r\nHost: " in image


def test_pio_build_refuses_a_device_name_the_collector_would_refuse(tmp_path):
    done = pio(tmp_path, "reporter_softserial", {"ESPAT_DEVICE": "my greenhouse"})
    assert done.returncode == 1
    assert "ESPAT_DEVICE: 'my greenhouse' is refused by the collector" in done.stderr


HOSTS = ["example.com", "192.168.1.10", "my_host-1.local", "a" * 64, "a" * 65, "", 'ex"ample.com', "ex,ample.com",
         "exa mple.com", "gewächshaus.de", "host:80", "a/b"]


def compile_config(tmp_path, host: str):
    """firmware/include/espat_config.h compiled as a sketch includes it, with a secrets.h naming `host`."""
    gxx = shutil.which("g++")
    assert gxx, "g++ missing: apt-get install g++"
    (tmp_path / "secrets.h").write_text(f"#define ESPAT_SERVER_HOST {settings_header.c_literal(host.encode())}\n")
    (tmp_path / "main.cpp").write_text('#include "espat_config.h"\nint main() { return 0; }\n')
    return subprocess.run([gxx, "-std=gnu++11", "-Wall", f"-I{tmp_path}", f"-I{ROOT / 'firmware' / 'include'}",
                           f"-I{SHIM}", str(tmp_path / "main.cpp"), "-o", str(tmp_path / "c")],
                          capture_output=True, text=True)


@pytest.mark.parametrize("host", HOSTS)
def test_a_host_from_secrets_h_meets_the_environments_rule(tmp_path, host):
    """A host in secrets.h (no extra script checks it) builds exactly when settings_header.py would take it from
    the environment: a `"` or `,` there once went into AT+CIPSTART's quoted argument unchecked."""
    try:
        settings_header.check("SERVER_HOST", host.encode(), CONTRACT)
        taken = bool(host)          # empty means "not set" to the environment; as a secrets.h value it is no host
    except settings_header.SettingsError:
        taken = False
    done = compile_config(tmp_path, host)
    assert (done.returncode == 0) == taken, done.stderr
    if not taken:
        assert "ESPAT_SERVER_HOST: a host name or IPv4 address" in done.stderr
