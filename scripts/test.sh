#!/usr/bin/env bash
# The whole test suite: installs what it needs (see scripts/setup.sh), then runs pytest over tests/.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
source "$(dirname "${BASH_SOURCE[0]}")/postgres.sh"
exec python -m pytest -q "$@"
