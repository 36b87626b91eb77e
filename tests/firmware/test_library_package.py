"""The EspAt library as the Arduino Library Manager and PlatformIO's registry take it: `pio pkg pack` succeeds
offline and its tarball holds the sources, examples and manifests; library.properties follows the Library
Manager's specification (and PlatformIO's parser of it accepts it); keywords.txt names only what the headers
declare, in the IDE's tab-separated form."""
import configparser
import json
import re
import shutil
import subprocess
import sys
import tarfile

from fw_native import ROOT

LIB = ROOT / "firmware" / "lib" / "EspAt"
PACK = ROOT / "firmware" / "tools" / "pack_library.py"
# The Library Manager's categories (Arduino's library specification, 1.5 format).
CATEGORIES = {"Display", "Communication", "Signal Input/Output", "Sensors", "Device Control", "Timing",
              "Data Storage", "Data Processing", "Other"}


def properties():
    text = (LIB / "library.properties").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#"))


def pack(out, library=LIB):
    return subprocess.run([sys.executable, str(PACK), "--out", str(out), "--library", str(library)],
                          capture_output=True, text=True, timeout=300)


def test_pio_pkg_pack_succeeds_offline_with_everything_a_user_needs(tmp_path):
    done = pack(tmp_path)
    assert done.returncode == 0, done.stderr
    tarball = done.stdout.strip()
    with tarfile.open(tarball) as t:
        names = set(t.getnames())
    wanted = {str(p.relative_to(LIB)) for p in LIB.rglob("*") if p.is_file() and p.parts[len(LIB.parts)] in
              ("src", "examples")}
    assert wanted and wanted | {"library.json", "library.properties", "keywords.txt"} == {
        n for n in names if not n.endswith("/")}
    assert tarball.endswith(f"EspAt-{properties()['version']}.tar.gz")


def test_pio_pkg_pack_refuses_a_manifest_the_registry_would(tmp_path):
    """The offline SPDX list is real: an unknown license is refused, with one line saying so."""
    bad = tmp_path / "EspAt"
    shutil.copytree(LIB, bad)
    manifest = json.loads((bad / "library.json").read_text())
    manifest["license"] = "Not-A-License-1.0"
    (bad / "library.json").write_text(json.dumps(manifest))
    done = pack(tmp_path / "out", bad)
    assert done.returncode == 1
    assert "SPDX" in done.stderr and len(done.stderr.strip().splitlines()) == 1, done.stderr


def test_library_properties_follow_the_library_manager_spec():
    props = properties()
    for key in ("name", "version", "author", "maintainer", "sentence", "paragraph", "category", "url",
                "architectures"):
        assert props.get(key), key
    assert re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 _.\-]*", props["name"])
    assert re.fullmatch(r"\d+\.\d+\.\d+", props["version"])
    assert props["category"] in CATEGORIES
    assert props["url"].startswith("https://")
    assert props["architectures"] == "avr"
    for header in props["includes"].split(","):
        assert (LIB / "src" / header.strip()).is_file(), header
    manifest = json.loads((LIB / "library.json").read_text())
    assert manifest["version"] == props["version"] and manifest["name"] == props["name"]
    assert manifest["homepage"] == props["url"]
    for header in manifest["headers"]:
        assert (LIB / "src" / header).is_file(), header
    # PlatformIO's registry reads library.properties too: its own parser and schema accept it.
    from platformio.package.manifest.parser import ManifestParserFactory
    from platformio.package.manifest.schema import ManifestSchema
    parsed = ManifestParserFactory.new_from_file(str(LIB / "library.properties")).as_dict()
    data = ManifestSchema().load_manifest({k: v for k, v in parsed.items() if k != "license"})
    assert data["name"] == "EspAt" and data["frameworks"] == ["arduino"]


def test_keywords_txt_names_what_the_headers_declare():
    headers = "\n".join(p.read_text() for p in (LIB / "src").glob("*.h"))
    lines = [line for line in (LIB / "keywords.txt").read_text().splitlines() if line and not line.startswith("#")]
    assert lines
    for line in lines:
        name, kind = re.fullmatch(r"(\w+)\t(KEYWORD1|KEYWORD2|LITERAL1)", line).groups()
        assert re.search(rf"\b{name}\b", headers), f"keywords.txt: {name} is not in the library's headers"
