"""The reporter's JSON body, compiled with g++ against the Arduino shim: the buffer size the sketch reserves
(readingJsonMax, from the device name's length) holds the widest reading exactly, one byte less refuses it whole,
and what comes out is the JSON the server expects. Needs g++: a missing compiler fails this test."""
import json
import shutil
import subprocess

from fw_native import ROOT, SHIM

PROGRAM = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report_json.h"

// The shim's main() calls setup() first. Every number at its widest, for device names of 0..20 characters: the
// size, and what each buffer gives; then one typical reading.
void loop() {}
void setup() {
  static const char names[] = "abcdefghijklmnopqrst";
  Reading r;
  r.uptimeMs = 4294967295UL;
  r.a0Tenths = -32767;  // (-32768 negated overflows an AVR int; the width is the same)
  r.chipTenths = -32767;
  r.vccMv = 65535;
  for (size_t n = 0; n <= 20; n++) {
    char device[21], buf[256];
    memcpy(device, names, n);
    device[n] = 0;
    size_t max = readingJsonMax(n);
    size_t fits = formatReading(buf, max, device, 4294967295UL, 4294967295UL, r);
    size_t tight = formatReading(buf, max - 1, device, 4294967295UL, 4294967295UL, r);
    printf("%zu %zu %zu %.*s\n", max, fits, tight, (int)fits, buf);
  }
  Reading typical = {123456, 215, 250, 4998};
  char buf[256];
  size_t len = formatReading(buf, sizeof buf, "uno-1", 3, 17, typical);
  printf("%.*s\n", (int)len, buf);
  fflush(stdout);
  exit(0);
}
"""


def test_the_body_buffer_holds_the_widest_reading_exactly(tmp_path):
    gxx = shutil.which("g++")
    assert gxx, "g++ missing: apt-get install g++ (scripts/test.sh does)"
    (tmp_path / "main.cpp").write_text(PROGRAM)
    reporter = ROOT / "firmware" / "src" / "reporter"
    binary = tmp_path / "json"
    done = subprocess.run([gxx, "-std=gnu++11", "-Wall", f"-I{SHIM}", f"-I{reporter}", str(tmp_path / "main.cpp"),
                           str(reporter / "report_json.cpp"), str(SHIM / "shim.cpp"), "-o", str(binary)],
                          capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    lines = subprocess.run([str(binary)], capture_output=True, text=True, check=True).stdout.splitlines()
    for n, line in enumerate(lines[:21]):
        size, fits, tight, body = line.split(" ", 3)
        assert int(fits) == int(size) == len(body), line   # the widest reading fills the buffer to the byte
        assert int(tight) == 0, line                        # one byte less: refused whole, never cut
        reading = json.loads(body)
        assert reading["device"] == "abcdefghijklmnopqrst"[:n]
        assert reading["readings"] == {"a0_c": -3276.7, "chip_c": -3276.7, "vcc_mv": 65535}
    assert json.loads(lines[21]) == {"device": "uno-1", "boot": 3, "seq": 17, "uptime_ms": 123456,
                                     "readings": {"a0_c": 21.5, "chip_c": 25.0, "vcc_mv": 4998}}
    assert lines[21].startswith('{"device":"uno-1","boot":3,"seq":17,"uptime_ms":123456,"readings":{"a0_c":21.5,')
