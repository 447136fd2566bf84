#!/usr/bin/env bash
# Install what Flowdesk needs on a fresh Debian/Ubuntu machine: the system libraries Qt loads,
# a virtual environment in .venv, and the package with its test tools. Safe to run again.
#
#   scripts/bootstrap.sh             what the tests need, a PostgreSQL server's binaries included
#                                    (the team-server tests start their own server with them)
#   scripts/bootstrap.sh --desktop   instead of PostgreSQL, fonts for the names the demo shows
#                                    (Chinese, Japanese, Devanagari, emoji), which a headless image
#                                    lacks (make run)
set -euo pipefail
cd "$(dirname "$0")/.."

DESKTOP=0
for arg in "$@"; do
  case "$arg" in
    --desktop) DESKTOP=1 ;;
    *) echo "bootstrap.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

DEBIAN_PACKAGES=(
  python3-venv xvfb xauth fonts-dejavu-core
  libegl1 libgl1 libfontconfig1 libdbus-1-3 libxkbcommon0 libxkbcommon-x11-0
  libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 libxcb-image0 libxcb-render-util0
  libxcb-xinerama0 libxcb-shape0 libxcb-randr0 libxcb-xfixes0 libxcb-sync1 libxcb-xkb1
)

DESKTOP_FONTS=(fonts-noto-cjk fonts-lohit-deva fonts-noto-color-emoji)
# initdb and postgres (under /usr/lib/postgresql/*/bin) for tests/pg_server.py; desktops need no
# PostgreSQL server of their own.
TEST_PACKAGES=(postgresql)
if [ "$DESKTOP" = 1 ]; then
  DEBIAN_PACKAGES+=("${DESKTOP_FONTS[@]}")
else
  DEBIAN_PACKAGES+=("${TEST_PACKAGES[@]}")
fi

if command -v apt-get >/dev/null 2>&1; then
  missing=()
  for pkg in "${DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  if [ ${#missing[@]} -gt 0 ]; then
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    echo "Installing system packages: ${missing[*]}"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  fi
fi

PYTHON="${PYTHON:-python3}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
fi
.venv/bin/python -m pip install -q --upgrade pip
.venv/bin/python -m pip install -q -e ".[test]"
