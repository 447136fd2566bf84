#!/usr/bin/env bash
# Build the standalone Flowdesk app: from a clean clone to dist/flowdesk/flowdesk.
#
#   packaging/build.sh             build dist/flowdesk/ (one folder: the executable and _internal/)
#   packaging/build.sh --smoke     ... then run packaging/smoke_test.sh on it
#   packaging/build.sh --archive   ... then pack dist/flowdesk-<version>-linux-<arch>.tar.gz with
#                                  the launcher, AppStream data and install.sh (Linux)
#
# Creates the project's venv with scripts/bootstrap.sh when it is missing, and installs the
# pinned PyInstaller into it. Environment: PYTHON (interpreter for a new venv),
# FLOWDESK_CONSOLE=1 (console executable; see flowdesk.spec).
set -euo pipefail
cd "$(dirname "$0")/.."

PYINSTALLER_VERSION="6.22.3"
HOOKS_CONTRIB_VERSION="2026.9"

SMOKE=0
ARCHIVE=0
for arg in "$@"; do
  case "$arg" in
    --smoke) SMOKE=1 ;;
    --archive) ARCHIVE=1 ;;
    -h|--help) sed -n '2,12p' "$0"; exit 0 ;;
    *) echo "build.sh: unknown option $arg" >&2; exit 2 ;;
  esac
done

PY=.venv/bin/python
if [ ! -x "$PY" ] || ! "$PY" -c "import flowdesk, PySide6, pyqtgraph, openpyxl" >/dev/null 2>&1; then
  echo "== Setting up .venv (scripts/bootstrap.sh)"
  ./scripts/bootstrap.sh
fi

installed="$("$PY" -c 'import PyInstaller; print(PyInstaller.__version__)' 2>/dev/null || true)"
if [ "$installed" != "$PYINSTALLER_VERSION" ]; then
  echo "== Installing PyInstaller $PYINSTALLER_VERSION into .venv"
  "$PY" -m pip install -q "pyinstaller==$PYINSTALLER_VERSION" \
    "pyinstaller-hooks-contrib==$HOOKS_CONTRIB_VERSION"
fi

VERSION="$("$PY" -c 'import flowdesk; print(flowdesk.__version__)')"
echo "== Building Flowdesk $VERSION with PyInstaller $PYINSTALLER_VERSION"
start=$(date +%s)
rm -rf dist/flowdesk build/flowdesk
"$PY" -m PyInstaller --noconfirm --clean --log-level WARN \
  --distpath dist --workpath build flowdesk.spec
elapsed=$(( $(date +%s) - start ))

APP=dist/flowdesk/flowdesk
if [ "$(uname -s)" = "Darwin" ]; then
  echo "== Built dist/Flowdesk.app and dist/flowdesk/ in ${elapsed} s"
else
  echo "== Built $APP in ${elapsed} s; folder size $(du -sh dist/flowdesk | cut -f1)"
fi

if [ "$SMOKE" = 1 ]; then
  packaging/smoke_test.sh "$APP"
fi

if [ "$ARCHIVE" = 1 ] && [ "$(uname -s)" = "Linux" ]; then
  name="flowdesk-$VERSION-linux-$(uname -m)"
  stage="build/$name"
  rm -rf "$stage"
  mkdir -p "$stage"
  cp -a dist/flowdesk "$stage/flowdesk"
  cp packaging/linux/install.sh packaging/linux/io.flowdesk.Flowdesk.desktop \
    packaging/linux/io.flowdesk.Flowdesk.metainfo.xml "$stage/"
  tar -C build -czf "dist/$name.tar.gz" "$name"
  rm -rf "$stage"
  echo "== Packed dist/$name.tar.gz ($(du -h "dist/$name.tar.gz" | cut -f1))"
fi
