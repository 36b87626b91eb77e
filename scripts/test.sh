#!/usr/bin/env bash
# The whole test suite: installs what it needs (see scripts/setup.sh), then runs pytest over tests/ on pytest-xdist
# workers (four per core: much of the suite waits on sockets, simulated boards and timeouts, and with four per core
# those waits overlap other tests' work until the cores are busy; ESPAT_TEST_WORKERS overrides). Arguments go to
# pytest: `bash scripts/test.sh -m "not slow"` is the edit loop's tier (tests/README.md).
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
# At most 32: each worker holds about 90-150 MB and collects every test, and the slow tests that overlap are fewer.
workers=$(( 4 * $(nproc) > 32 ? 32 : 4 * $(nproc) ))
exec python -m pytest -q -n "${ESPAT_TEST_WORKERS:-$workers}" --dist loadgroup "$@"
