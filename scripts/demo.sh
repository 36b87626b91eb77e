#!/usr/bin/env bash
# The main job: a scripted session against the fake ESP-01 (or a real module with --port), wire transcript shown.
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
exec espat demo "$@"
