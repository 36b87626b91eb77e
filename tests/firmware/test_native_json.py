"""The reporter's JSON body, compiled with g++ against the Arduino shim: the keys in the order of the collector's
contract, the incarnation as eight lowercase hex digits (leading zeros kept), every number at its widest still
valid JSON, and the compile-time check that refuses a device name JSON would need escaped.
Needs g++: a missing compiler fails this test."""
import json
import shutil
import subprocess

import pytest

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
  json.boot = json.seq = 4294967295UL;
  json.dropped = 65535;
  json.reading = {4294967295UL, -32767, -32767, 65535};
  out.print(json);
  out.println();
  json.device = F("uno-1");
  json.incarnation = 0x0a2b3c4dUL;
  json.boot = 3;
  json.seq = 17;
  json.dropped = 0;
  json.reading = {123456, 215, 250, 4998};
  out.print(json);
  out.println();
  fflush(stdout);
  exit(0);
}
"""


def compile_and_run(tmp_path, source, run=True):
    gxx = shutil.which("g++")
    assert gxx, "g++ missing: apt-get install g++ (scripts/test.sh does)"
    (tmp_path / "main.cpp").write_text(source)
    binary = tmp_path / "json"
    done = subprocess.run([gxx, "-std=gnu++11", "-Wall", f"-I{SHIM}", f"-I{REPORTER}", str(tmp_path / "main.cpp"),
                           str(REPORTER / "report_json.cpp"), str(SHIM / "shim.cpp"), "-o", str(binary)],
                          capture_output=True, text=True)
    if done.returncode or not run:
        return done
    return subprocess.run([str(binary)], capture_output=True, text=True, check=True)


def test_the_body_follows_the_collectors_contract(tmp_path):
    lines = compile_and_run(tmp_path, PROGRAM).stdout.splitlines()
    widest = json.loads(lines[0])
    assert widest == {"device": "abcdefghijklmnopqrst", "incarnation": "fffffffe", "boot": 4294967295,
                      "seq": 4294967295, "uptime_ms": 4294967295,
                      "readings": {"a0_c": -3276.7, "chip_c": -3276.7, "vcc_mv": 65535}, "dropped": 65535}
    assert lines[1] == ('{"device":"uno-1","incarnation":"0a2b3c4d","boot":3,"seq":17,"uptime_ms":123456,'
                        '"readings":{"a0_c":21.5,"chip_c":25.0,"vcc_mv":4998},"dropped":0}')


@pytest.mark.parametrize("name, plain", [("greenhouse-uno-1", True), ("caf\\xc3\\xa9 7", True),
                                         ('say \\"hi\\"', False), ("back\\\\slash", False), ("tab\\there", False),
                                         ("bell\\x07", False)])
def test_a_device_name_json_would_need_escaped_is_refused_at_compile_time(tmp_path, name, plain):
    source = ('#include "report_json.h"\nstatic_assert(jsonPlain("%s"), "needs escaping");\n'
              "void setup() {}\nvoid loop() {}\n" % name)
    done = compile_and_run(tmp_path, source, run=False)
    if plain:
        assert done.returncode == 0, done.stderr
    else:
        assert done.returncode != 0 and "needs escaping" in done.stderr
