"""The reporter's JSON body, compiled with g++ against the Arduino shim: the keys in the order of the collector's
contract, the incarnation as eight lowercase hex digits (leading zeros kept), every number at its widest still
valid JSON, and the compile-time check that refuses a device name JSON would need escaped.
Needs g++: a missing compiler fails this test."""
import json
import re
import subprocess

import pytest

import native_cc
from fw_native import ROOT, SHIM

REPORTER = ROOT / "firmware" / "src" / "reporter"

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>

#include "report_json.h"

class Stdout : public Print {
 public:
  size_t write(uint8_t c) override { return fputc(c, stdout) == EOF ? 0 : 1; }
};

// The shim's main() calls setup() first: the widest reading, then a typical one, one per line.
void loop() {}
void setup() {
  Stdout out;
  ReadingJson json;
  json.device = F("abcdefghijklmnopqrst");
  json.incarnation = 0xFFFFFFFEUL;
  json.reading = {4294967295UL, 65535, {4294967295UL, 1023, 0, 1}};
  json.dropped = 65535;
  json.ageMs = 4294967294UL;
  json.diag = {4294967295UL, 4294967295UL, 4294967295UL, 4294967295UL};
  out.print(json);
  out.println();
  json.device = F("uno-1");
  json.incarnation = 0x0a2b3c4dUL;
  json.reading = {3, 17, {123456, 200, 382, 225}};
  json.dropped = 0;
  json.ageMs = kAgeUnknown;  // a reading from an earlier boot: no age
  json.diag = {4, 2, 3, 1};
  out.print(json);
  out.println();
  fflush(stdout);
  exit(0);
}
"""


LIBRARY = ROOT / "firmware" / "lib" / "EspAt" / "src"


def compile_and_run(tmp_path, source, flags=()):
    (tmp_path / "main.cpp").write_text(source)
    binary = native_cc.program("json", ["-std=gnu++11", "-Wall", f"-I{SHIM}", f"-I{REPORTER}",
                                        f"-I{ROOT / 'firmware' / 'include'}", f"-I{LIBRARY}", *flags],
                               [tmp_path / "main.cpp", REPORTER / "report_json.cpp", REPORTER / "sensors.cpp",
                                LIBRARY / "EspAtDecimal.cpp", SHIM / "shim.cpp"])
    return subprocess.run([str(binary)], capture_output=True, text=True, check=True)


def test_the_body_follows_the_collectors_contract(tmp_path):
    lines = compile_and_run(tmp_path, PROGRAM).stdout.splitlines()
    widest = json.loads(lines[0])
    # Raw ADC: A0 1023 steps of 1.1 V = 1098.9 mV (109.8 °C), the sensor at 0, the bandgap at 1 (Vcc 1,125,300 mV
    # would not fit 16 bits: what the sketch computes, wrapped, is what it prints -- the point is valid JSON).
    assert widest["device"] == "abcdefghijklmnopqrst" and widest["incarnation"] == "fffffffe"
    assert (widest["boot"], widest["seq"], widest["uptime_ms"]) == (4294967295, 65535, 4294967295)
    assert widest["dropped"] == 65535 and widest["age_ms"] == 4294967294
    assert widest["diag"] == {"reset_cause": 4294967295, "esp_reboots": 4294967295, "wifi_joins": 4294967295,
                              "link_failures": 4294967295}
    assert lines[1] == ('{"device":"uno-1","incarnation":"0a2b3c4d","boot":3,"seq":17,"uptime_ms":123456,'
                        '"readings":{"a0_c":21.4,"chip_c":121.3,"vcc_mv":5001},"dropped":0,'
                        '"diag":{"reset_cause":4,"esp_reboots":2,"wifi_joins":3,"link_failures":1}}')


def test_the_small_decimal_writer_prints_the_same_body(tmp_path):
    """The HTTP reporters print the body's numbers with the library's own writer (ESPAT_SMALL_DECIMAL; on the board
    EspAtDecimal.S, tests/avr/test_small_decimal.py): the same bytes as Print's, here with its host build."""
    assert compile_and_run(tmp_path, PROGRAM, ["-DESPAT_SMALL_DECIMAL=1"]).stdout == \
        compile_and_run(tmp_path, PROGRAM).stdout


def test_the_keys_are_the_contracts():
    """Every key the body has is a required or optional field of contract.json, every required one is there."""
    contract = json.loads((ROOT / "host" / "espat_collect" / "contract.json").read_text())
    keys = re.findall(r'\\"(\w+)\\":', (REPORTER / "report_json.cpp").read_text())
    top = {k for k in keys if k in contract["required"] or k in contract["optional"]}
    assert set(contract["required"]) <= top
    assert set(contract["diag"]["fields"]) <= set(keys)
