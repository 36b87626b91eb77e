"""Rules every test of the suite follows, whichever folder it is in (tests/README.md says how a test picks its tier).

- Tiers: a test marked `slow` runs in the whole suite only (`bash scripts/test.sh`); the rest is the edit loop's
  tier (`bash scripts/test.sh -m "not slow"`). A test is slow when it is marked itself or its module says so
  (`pytestmark = pytest.mark.slow`), when it lives in a folder of SLOW_FOLDERS, or when it uses a fixture of
  SLOW_FIXTURES.
- Workers (pytest-xdist): a module-scoped fixture is made once per worker, so the tests of a module that has one
  stay together on one worker (`--dist loadgroup`); a session-wide artefact that is costly to make (a firmware
  build) is made once for all workers with `workers.shared_artifact`. Slow tests run first.
- Property tests (hypothesis): a run that leaves the slow tier out (`-m "not slow"`) draws a quarter of each test's
  examples (tests/tiers.py); the whole suite, and any run without such a `-m`, draws every one its test asks for.
"""
from __future__ import annotations

import functools
import os
import sys

import pytest

from pathlib import Path

from builds import build_every_env
from tiers import FAST_TIER_SHARE, fewer_examples, leaves_out_the_slow_tier
from workers import shared_artifact

# Bytecode caches on, whatever the shell says: with PYTHONDONTWRITEBYTECODE set, every worker rewrote the asserts of
# every test module again at collection (6 s of CPU each instead of 2.3 s), and every `espat` subprocess a test
# starts compiled the library from source. The caches go to the ignored __pycache__ folders (tests/README.md).
sys.dont_write_bytecode = False
os.environ.pop("PYTHONDONTWRITEBYTECODE", None)

HERE = Path(__file__).resolve().parent
# ESPAT_TEST_CPU=N: CPU seconds per test phase, the top N printed at the end (tests/cpu_profile.py)
pytest_plugins = ["cpu_profile"]
# Folders whose every test is slow: each runs compiled firmware in simavr.
SLOW_FOLDERS = {HERE / "avr"}
# Fixtures that make any test using them slow: every env built with the real `pio run` (`built`, below).
SLOW_FIXTURES = {"built"}


def pytest_itemcollected(item):
    # per item as it is collected: pytest-xdist reads the xdist_group marks in its own collection_modifyitems
    if _in_a_slow_folder(str(item.path)):
        item.add_marker(pytest.mark.slow)
    info = getattr(item, "_fixtureinfo", None)
    if info is None:
        return
    if SLOW_FIXTURES & set(info.names_closure):
        item.add_marker(pytest.mark.slow)
    if item.get_closest_marker("xdist_group") is None and _has_module_fixture(info):
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))


@functools.lru_cache(maxsize=None)
def _in_a_slow_folder(path: str) -> bool:
    """Once per test module, not per test: resolving the path took 0.3 s of each worker's collection."""
    return bool(SLOW_FOLDERS & set(Path(path).resolve().parents))


def _has_module_fixture(info) -> bool:
    return any(defs and defs[-1].scope == "module" for defs in info.name2fixturedefs.values())


def pytest_collection_modifyitems(config, items):
    # Slow tests first, in their modules' order: the workers start on the long tests and finish on the short ones,
    # so no worker runs a minute-long test alone at the end of the run while the others wait (the order every
    # worker collects is the same: the sort is stable). A group (xdist_group) is handed out where its first test is.
    items.sort(key=lambda item: item.get_closest_marker("slow") is None)
    if leaves_out_the_slow_tier(config.getoption("markexpr", "")):
        for test in {getattr(item, "function", None) for item in items}:
            fewer_examples(test, FAST_TIER_SHARE)


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Path:
    """Every env of platformio.ini built with tests/builds.py's SETTINGS in one `pio run`: OUT/ENV/firmware.elf and
    .hex, once for all workers, for every module that runs an env on those settings (tests/avr and the e2e tests)."""
    return shared_artifact(tmp_path_factory, "avr-built", lambda out: build_every_env(tmp_path_factory, out))
