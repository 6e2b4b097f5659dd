#!/usr/bin/env bash
# What `make test` runs after the checks: start the emulators, run every suite with their
# endpoints in the environment, and stop the emulators however the run ends (trap).
# Extra arguments go to pytest (e.g. scripts/test-all.sh -x -k s3).
set -euo pipefail
cd "$(dirname "$0")/.."

trap 'scripts/emulators.sh down' EXIT
scripts/emulators.sh up
set -a
# shellcheck disable=SC1091
. .emulators/env
set +a
.venv/bin/python -m pytest tests conformance -q -p no:cacheprovider "$@"
