#!/usr/bin/env bash
# Set everything up (idempotent) and run Oqto for the current user on this machine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="$PWD/.tools/bin:$PATH"
exec .venv/bin/oqto serve --mode local --single-user "$@"
