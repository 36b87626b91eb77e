"""The native object cache (tests/firmware/native_cc.py) never hands back an object compiled from an older header:
a header edited in any folder the compiler may read it from, however that folder is named on the command line,
gives another object, compiled from the header as it is now.
Needs g++: a missing compiler fails these tests."""
import subprocess

import pytest

import native_cc

SOURCE = '#include "value.h"\n#include <stdio.h>\nint main() { printf("%d\\n", VALUE); return 0; }\n'


def run(tmp_path, flags):
    program = native_cc.program("cache_probe", flags, [tmp_path / "src" / "probe.cpp"])
    return subprocess.run([str(program)], capture_output=True, text=True, check=True).stdout.strip()


# each: the flags that name tmp_path/inc as a place value.h may come from
WAYS = {
    "-Idir": lambda inc: [f"-I{inc}"],
    "-I dir": lambda inc: ["-I", str(inc)],
    "-iquote dir": lambda inc: ["-iquote", str(inc)],
    "-iquotedir": lambda inc: [f"-iquote{inc}"],
    "-isystem dir": lambda inc: ["-isystem", str(inc)],
    "-idirafter dir": lambda inc: ["-idirafter", str(inc)],
}


@pytest.mark.parametrize("way", sorted(WAYS))
def test_a_header_edited_in_an_include_folder_is_compiled_again(tmp_path, monkeypatch, way):
    monkeypatch.setattr(native_cc, "CACHE", tmp_path / "cache")
    (tmp_path / "src").mkdir()
    (tmp_path / "inc").mkdir()
    (tmp_path / "src" / "probe.cpp").write_text(SOURCE)
    flags = WAYS[way](tmp_path / "inc")
    (tmp_path / "inc" / "value.h").write_text("#define VALUE 1\n")
    assert run(tmp_path, flags) == "1"
    (tmp_path / "inc" / "value.h").write_text("#define VALUE 2\n")
    assert run(tmp_path, flags) == "2"


def test_a_forced_include_edited_is_compiled_again(tmp_path, monkeypatch):
    monkeypatch.setattr(native_cc, "CACHE", tmp_path / "cache")
    (tmp_path / "src").mkdir()
    (tmp_path / "inc").mkdir()
    (tmp_path / "src" / "probe.cpp").write_text(SOURCE.replace('#include "value.h"\n', ""))
    (tmp_path / "src" / "value.h").write_text("")  # (not the one read: -include names its own file)
    forced = tmp_path / "inc" / "forced.h"
    flags = ["-include", str(forced)]
    forced.write_text("#define VALUE 1\n")
    assert run(tmp_path, flags) == "1"
    forced.write_text("#define VALUE 2\n")
    assert run(tmp_path, flags) == "2"
