#!/usr/bin/env bash
# Open Flowdesk on the demo workspace, building it the first time.
set -euo pipefail
cd "$(dirname "$0")/.."
DB="${FLOWDESK_DB:-$(.venv/bin/python -c 'from flowdesk.paths import default_db_path; print(default_db_path())')}"
if [ ! -s "$DB" ]; then
  .venv/bin/flowdesk demo --db "$DB" --contacts 20000
fi
exec .venv/bin/flowdesk --db "$DB"
