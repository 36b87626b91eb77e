"""The sketches' settings from the environment, as a C header: every byte of a value reaches the firmware as it
was set (a password `pa$HOMEss` stays `pa$HOMEss`), because the value never passes through a shell or a -D flag:
it is written as a C string literal with every byte that is not plain ASCII, and `"`, `\\` and `?`, escaped.

A value that the firmware cannot carry to where it goes (an AT command, the HTTP request, the JSON body) is refused
with a one-line error naming the variable. The device name follows the collector's contract (contract.json), so a
name the collector would refuse does not build.

    render(environ_bytes, contract) -> header text      (raises SettingsError)

Used by the PlatformIO extra script (pio_generate.py) and the host-native test builds (tests/firmware/fw_native.py).
"""
from __future__ import annotations

import re

# Every setting the sketches read, in the order the header lists them.
NAMES = ("WIFI_SSID", "WIFI_PASS", "SERVER_HOST", "SERVER_PORT", "SERVER_PATH", "DEVICE", "INTERVAL_MS", "TOKEN",
         "MQTT_USER", "MQTT_PASS")
HEADER_NAME = "espat_settings.h"


class SettingsError(Exception):
    """A value the firmware cannot carry; the message is one line naming the variable."""


def _visible_ascii(value: bytes) -> bool:
    return all(0x21 <= b <= 0x7E for b in value)


def check(name: str, value: bytes, contract: dict) -> None:
    """Raises SettingsError when ESPAT_<name>'s value cannot reach its place byte for byte. Empty is always fine:
    it means "not set here" (secrets.h or espat_config.h's default applies)."""
    var = f"ESPAT_{name}"
    if not value:
        return
    if any(b < 0x20 or b == 0x7F for b in value):
        raise SettingsError(f"{var}: a control character cannot be carried (AT commands end at a line break)")
    if name == "WIFI_SSID" and len(value) > 32:
        raise SettingsError(f"{var}: {len(value)} bytes; an SSID has at most 32")
    if name == "WIFI_PASS" and len(value) > 64:
        raise SettingsError(f"{var}: {len(value)} bytes; a Wi-Fi password has at most 64")
    if name == "SERVER_HOST" and (len(value) > 64 or not re.fullmatch(rb"[A-Za-z0-9._-]+", value)):
        raise SettingsError(f"{var}: a host name or IPv4 address of at most 64 letters, digits, '.', '-' or '_'")
    if name == "SERVER_PORT" and not (re.fullmatch(rb"[0-9]{1,5}", value) and 1 <= int(value) <= 65535):
        raise SettingsError(f"{var}: a port number 1-65535")
    if name == "SERVER_PATH" and not (value.startswith(b"/") and _visible_ascii(value)):
        raise SettingsError(f"{var}: a path starting with '/' of visible ASCII (percent-encode spaces and UTF-8)")
    if name == "TOKEN" and not _visible_ascii(value):
        raise SettingsError(f"{var}: visible ASCII only (it goes into an Authorization header)")
    if name == "INTERVAL_MS" and not (re.fullmatch(rb"[0-9]{1,9}", value) and 100 <= int(value) <= 86400000):
        raise SettingsError(f"{var}: milliseconds, 100-86400000")
    if name == "DEVICE":
        rule = contract["device"]
        try:
            text = value.decode("ascii")
        except UnicodeDecodeError:
            text = None
        if text is None or not re.fullmatch(rule["pattern"], text):
            raise SettingsError(f"{var}: {value.decode(errors='replace')!r} is refused by the collector: "
                                f"{rule['rule']}")


def c_literal(value: bytes) -> str:
    """A C string literal holding exactly `value`: printable ASCII as is, the rest as three-digit octal escapes
    (never more than three digits, so a following digit cannot join an escape)."""
    out = []
    for b in value:
        if b in b'"\\?':
            out.append("\\" + chr(b))
        elif 0x20 <= b < 0x7F:
            out.append(chr(b))
        else:
            out.append(f"\\{b:03o}")
    return '"' + "".join(out) + '"'


def render(environ: dict, contract: dict) -> str:
    """The header for the settings in `environ` (bytes keys and values, like os.environb)."""
    lines = ["// Generated at build time from the ESPAT_* environment variables (firmware/tools/settings_header.py).",
             "// Do not edit: set the variables, or use secrets.h, which an empty variable leaves in charge.",
             "#pragma once"]
    for name in NAMES:
        value = environ.get(f"ESPAT_{name}".encode(), b"")
        check(name, value, contract)
        lines.append(f"#define ESPAT_ENV_{name} {c_literal(value)}")
    return "\n".join(lines) + "\n"
