#!/usr/bin/env bash
# Lint, check the architecture contract, and run the whole test suite. Tests that need a real X
# display run under Xvfb; everything else renders offscreen.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check flowdesk tests benchmarks
.venv/bin/lint-imports
if command -v xvfb-run >/dev/null 2>&1; then
  exec xvfb-run -a -s "-screen 0 1440x900x24" .venv/bin/python -m pytest "$@"
fi
exec .venv/bin/python -m pytest "$@"
