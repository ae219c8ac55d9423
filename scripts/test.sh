#!/usr/bin/env bash
# Set everything up for the tests (idempotent), then run the linters, the type checker and
# the whole test suite. Extra arguments go to pytest.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="$PWD/.tools/bin:$PATH"
echo "==> ruff"
.venv/bin/ruff check .
.venv/bin/ruff format --check .
echo "==> mypy"
.venv/bin/mypy
echo "==> web: generated API types current, eslint + prettier, tsc, vitest"
(cd web && npm run --silent check:api && npm run --silent lint && npm run --silent typecheck &&
    npm run --silent test)
echo "==> pytest"
exec .venv/bin/pytest "$@"
