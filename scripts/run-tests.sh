#!/usr/bin/env bash
# Lint, check the architecture contract, and run the whole test suite offscreen; then the
# real-window smoke test on an Xvfb display.
set -euo pipefail
cd "$(dirname "$0")/.."
.venv/bin/ruff check flowdesk tests benchmarks
.venv/bin/lint-imports
QT_QPA_PLATFORM=offscreen .venv/bin/python -m pytest -m "not xvfb" "$@"
if command -v xvfb-run >/dev/null 2>&1; then
  QT_QPA_PLATFORM=xcb xvfb-run -a -s "-screen 0 1440x900x24" \
    .venv/bin/python -m pytest -m xvfb -p no:cacheprovider tests/ui/test_window_xvfb.py
fi
