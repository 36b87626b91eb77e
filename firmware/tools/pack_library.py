#!/usr/bin/env python3
"""`pio pkg pack` the EspAt library (firmware/lib/EspAt) offline: the tarball PlatformIO's registry takes.

    python firmware/tools/pack_library.py [--out DIR]      # prints the tarball's path

`pio pkg pack` validates library.json as the registry does, and checks its `license` against the SPDX license
list, which it downloads. Offline, the list comes from the `license-expression` package (its bundled SPDX ids)
instead; everything else is PlatformIO's own code. Exit status 1 with its one-line reason when the manifest is
refused.
"""
from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LIBRARY = ROOT / "firmware" / "lib" / "EspAt"


def spdx_ids() -> set[str]:
    from license_expression import get_spdx_licensing
    return {s for s in get_spdx_licensing().known_symbols if not s.startswith("LicenseRef-")}


def pack(out: Path, library: Path = LIBRARY) -> Path:
    """Runs `pio pkg pack` in this process (so the SPDX list can be supplied); the tarball's path. Raises
    ValueError with PlatformIO's reason when it refuses the manifest."""
    import contextlib
    import io

    from platformio.__main__ import main as pio
    from platformio.package.manifest.schema import ManifestSchema
    ids = spdx_ids()
    ManifestSchema.load_spdx_licenses = staticmethod(lambda: {"licenses": [{"licenseId": i} for i in ids]})
    out.mkdir(parents=True, exist_ok=True)
    said = io.StringIO()
    with contextlib.redirect_stdout(said), contextlib.redirect_stderr(said):
        status = pio(["pio", "pkg", "pack", str(library), "--output", str(out)])
    wrote = re.search(r'Wrote a tarball to "([^"]+)"', said.getvalue())
    if status != 0 or not wrote:
        raise ValueError(" ".join(said.getvalue().split()) or f"pio pkg pack: exit {status}")
    return Path(wrote.group(1))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Pack the EspAt library for PlatformIO's registry, offline.")
    ap.add_argument("--out", type=Path, default=Path.cwd())
    ap.add_argument("--library", type=Path, default=LIBRARY, help="the library folder (default: EspAt's)")
    args = ap.parse_args(argv)
    try:
        print(pack(args.out.resolve(), args.library.resolve()))
    except ValueError as e:
        print(f"pack_library: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
