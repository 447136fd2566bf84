#!/usr/bin/env bash
# Smoke-test a built Flowdesk app headless: --version, a demo workspace built by the app itself,
# `flowdesk doctor` (which starts a background child process from the bundle, as sync and export
# do in the app), `flowdesk screenshot`, which must write non-blank PNGs, and the team server
# client (psycopg with its own libpq) refusing a closed port in one line.
#
#   packaging/smoke_test.sh [PATH_TO_EXECUTABLE]      (default: dist/flowdesk/flowdesk)
#
# Nothing outside a temporary folder is touched: settings, data and logs are redirected there.
set -euo pipefail
cd "$(dirname "$0")/.."

APP="${1:-dist/flowdesk/flowdesk}"
if [ ! -x "$APP" ]; then
  echo "smoke_test.sh: no executable at $APP (build it with packaging/build.sh)" >&2
  exit 1
fi
APP="$(cd "$(dirname "$APP")" && pwd)/$(basename "$APP")"
EXPECTED="$(sed -n 's/^__version__ = "\(.*\)"$/\1/p' flowdesk/__init__.py)"

WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
export QT_QPA_PLATFORM=offscreen
export XDG_CONFIG_HOME="$WORK/config" XDG_DATA_HOME="$WORK/data"
export XDG_STATE_HOME="$WORK/state" XDG_CACHE_HOME="$WORK/cache"
export FLOWDESK_NO_KEYRING=1
fail() { echo "smoke test FAILED: $*" >&2; exit 1; }
limit() { if command -v timeout >/dev/null 2>&1; then timeout "$@"; else shift; "$@"; fi; }
start=$(date +%s)

version="$(limit 60 "$APP" --version)" || fail "--version exited with $?"
[ "$version" = "flowdesk $EXPECTED" ] || fail "--version printed '$version', expected 'flowdesk $EXPECTED'"
echo "ok  --version: $version"

limit 300 "$APP" demo --db "$WORK/demo.db" --contacts 2000 >"$WORK/demo.log" 2>&1 \
  || { cat "$WORK/demo.log" >&2; fail "demo exited with an error"; }
[ -s "$WORK/demo.db" ] || fail "demo wrote no cache"
echo "ok  demo: $(du -h "$WORK/demo.db" | cut -f1) cache"

limit 120 "$APP" doctor --db "$WORK/demo.db" >"$WORK/doctor.log" 2>&1 \
  || { cat "$WORK/doctor.log" >&2; fail "doctor found a problem"; }
grep -q "^ok    background jobs: .*(bundled app)" "$WORK/doctor.log" \
  || { cat "$WORK/doctor.log" >&2; fail "doctor did not start a bundled child process"; }
echo "ok  doctor: $(grep "background jobs" "$WORK/doctor.log")"

limit 300 "$APP" screenshot --db "$WORK/demo.db" --out "$WORK/shots" >"$WORK/shots.log" 2>&1 \
  || { cat "$WORK/shots.log" >&2; fail "screenshot exited with an error"; }
count=0
for png in "$WORK"/shots/*.png; do
  [ -e "$png" ] || break
  # A PNG signature, and more than a blank 1440x900 window would compress to.
  [ "$(head -c 8 "$png" | od -An -tx1 | tr -d ' \n')" = "89504e470d0a1a0a" ] || fail "$png is not a PNG"
  size=$(wc -c <"$png")
  [ "$size" -gt 20000 ] || fail "$png is only $size bytes (blank?)"
  count=$((count + 1))
done
[ "$count" -gt 0 ] || fail "screenshot wrote no PNG"
echo "ok  screenshot: $count PNGs"
# The team server client (psycopg and its bundled libpq): a refused connection, in one line.
set +e
limit 60 "$APP" sync --db "$WORK/team.db" --source team \
  --pg "postgresql://smoke:pw@127.0.0.1:9/flowdesk" >"$WORK/team.log" 2>&1
status=$?
set -e
[ "$status" = 2 ] && grep -q "cannot connect to the team server" "$WORK/team.log" \
  || { cat "$WORK/team.log" >&2; fail "the team server client is not in the bundle (exit $status)"; }
[ ! -e "$WORK/team.db" ] || fail "a refused team server left a cache behind"
echo "ok  team server client: $(cat "$WORK/team.log")"

echo "smoke test passed in $(( $(date +%s) - start )) s"
