"""What the compiler and the linker refuse, so a mistake never reaches a board: a string argument that is neither a RAM
string nor an F() string, a RAM string where the library was built for F() strings only, and a sketch built with
other knobs than the library (the layout tag). Each refusal is checked against a twin that differs only in the
mistake and builds, so the test fails if the refusal comes from anything else.
Needs g++: a missing compiler fails these tests, it does not skip them."""
import shutil
import subprocess

import pytest

import native_cc
from fw_native import ROOT, SHIM

LIB = ROOT / "firmware" / "lib" / "EspAt" / "src"

SKETCH = r"""
#include <EspAt.h>
class Null : public Stream {
 public:
  int available() override { return 0; }
  int read() override { return -1; }
  int peek() override { return -1; }
  size_t write(uint8_t) override { return 1; }
};
Null port;
EspAtDrv esp(port);
char ssid[12] = "run-time";
void setup() { esp.startJoin(%s, %s); }
void loop() {}
"""


def gxx():
    path = shutil.which("g++")
    assert path, "g++ missing: apt-get install g++ (scripts/test.sh does)"
    return path


def compile_sketch(tmp_path, first, second, *flags, name="s"):
    src = tmp_path / f"{name}.cpp"
    src.write_text(SKETCH % (first, second))
    return subprocess.run([gxx(), "-std=gnu++11", "-c", *flags, f"-I{SHIM}", f"-I{LIB}", str(src), "-o",
                           str(tmp_path / f"{name}.o")], capture_output=True, text=True)


@pytest.mark.parametrize("first, second", [('F("HomeNet")', 'F("pw")'), ('"HomeNet"', 'F("pw")'), ("ssid", '"pw"')])
def test_ram_and_flash_strings_both_compile(tmp_path, first, second):
    done = compile_sketch(tmp_path, first, second)
    assert done.returncode == 0, done.stderr


@pytest.mark.parametrize("bad", ["42", "(const uint8_t*)ssid", "'x'"])
def test_anything_else_does_not_compile(tmp_path, bad):
    done = compile_sketch(tmp_path, 'F("HomeNet")', bad)
    assert done.returncode != 0 and "deleted" in done.stderr, done.stderr
    assert compile_sketch(tmp_path, 'F("HomeNet")', '"pw"').returncode == 0  # the twin without the mistake


def test_a_ram_string_does_not_compile_where_only_flash_strings_are_built(tmp_path):
    flash_only = "-DESPAT_RAM_STRINGS=0"
    done = compile_sketch(tmp_path, '"HomeNet"', 'F("pw")', flash_only)
    assert done.returncode != 0 and "deleted" in done.stderr, done.stderr
    assert compile_sketch(tmp_path, 'F("HomeNet")', 'F("pw")', flash_only).returncode == 0


def link(tmp_path, sketch_flags, library_flags):
    """The sketch compiled here, the library's objects as built with `library_flags` (cached by what goes into them,
    tests/firmware/native_cc.py), and the link of the two: the refusal checked is the linker's, run every time."""
    assert compile_sketch(tmp_path, 'F("HomeNet")', 'F("pw")', *sketch_flags).returncode == 0
    objects = [tmp_path / "s.o", *native_cc.objects(["-std=gnu++11", "-fpermissive", *library_flags, f"-I{SHIM}",
                                                     f"-I{LIB}"], sorted(LIB.glob("*.cpp")) + [SHIM / "shim.cpp"])]
    return subprocess.run([gxx(), *map(str, objects), "-o", str(tmp_path / "sketch")], capture_output=True, text=True)


@pytest.mark.parametrize("sketch_flags, library_flags", [
    ((), ("-DESPAT_CLIENTS=0",)),
    (("-DESPAT_CLIENTS=0",), ()),
    (("-DESPAT_RAM_STRINGS=0",), ()),
])
def test_a_sketch_built_with_other_knobs_than_the_library_does_not_link(tmp_path, sketch_flags, library_flags):
    done = link(tmp_path, sketch_flags, library_flags)
    assert done.returncode != 0 and "espat_layout_" in done.stderr, done.stderr


@pytest.mark.parametrize("flags", [(), ("-DESPAT_CLIENTS=0", "-DESPAT_RAM_STRINGS=0")])
def test_the_same_knobs_link(tmp_path, flags):
    done = link(tmp_path, flags, flags)
    assert done.returncode == 0, done.stderr
