#!/usr/bin/env bash
# Install the built Flowdesk app with its launcher, icons and AppStream data.
#
#   packaging/linux/install.sh                 for the current user (~/.local)
#   sudo packaging/linux/install.sh --system   for every user (/opt/flowdesk, /usr/local)
#   packaging/linux/install.sh --uninstall     remove it again (add --system for a system install)
#
# The app folder is taken from the first argument that is not an option, else ./flowdesk beside
# this script (the release archive), else dist/flowdesk of the checkout.
set -euo pipefail

HERE="$(cd "$(dirname "$0")" && pwd)"
APP_ID="io.flowdesk.Flowdesk"
SYSTEM=0
UNINSTALL=0
APP_SRC=""
for arg in "$@"; do
  case "$arg" in
    --system) SYSTEM=1 ;;
    --uninstall) UNINSTALL=1 ;;
    -h|--help) sed -n '2,9p' "$0"; exit 0 ;;
    -*) echo "install.sh: unknown option $arg" >&2; exit 2 ;;
    *) APP_SRC="$arg" ;;
  esac
done

if [ "$SYSTEM" = 1 ]; then
  PREFIX=/usr/local
  APP_DIR=/opt/flowdesk
else
  PREFIX="$HOME/.local"
  APP_DIR="$HOME/.local/lib/flowdesk"
fi
BIN="$PREFIX/bin/flowdesk"
SHARE="$PREFIX/share"
ICON_SIZES=(16 24 32 48 64 128 256 512)

refresh_caches() {
  if command -v update-desktop-database >/dev/null 2>&1; then
    update-desktop-database -q "$SHARE/applications" || true
  fi
  if command -v gtk-update-icon-cache >/dev/null 2>&1; then
    gtk-update-icon-cache -q -f -t "$SHARE/icons/hicolor" || true
  fi
}

if [ "$UNINSTALL" = 1 ]; then
  rm -rf "$APP_DIR"
  rm -f "$BIN" "$SHARE/applications/$APP_ID.desktop" "$SHARE/metainfo/$APP_ID.metainfo.xml"
  rm -f "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
  for size in "${ICON_SIZES[@]}"; do
    rm -f "$SHARE/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
  done
  refresh_caches
  echo "Flowdesk removed from $APP_DIR (settings and data in your home folder are kept)"
  exit 0
fi

if [ -z "$APP_SRC" ]; then
  for candidate in "$HERE/flowdesk" "$HERE/../../dist/flowdesk"; do
    if [ -x "$candidate/flowdesk" ]; then APP_SRC="$candidate"; break; fi
  done
fi
if [ -z "$APP_SRC" ] || [ ! -x "$APP_SRC/flowdesk" ]; then
  echo "install.sh: no built app found; run packaging/build.sh first or pass its folder" >&2
  exit 1
fi
APP_SRC="$(cd "$APP_SRC" && pwd)"
ICONS="$APP_SRC/_internal/flowdesk/resources/icons"

mkdir -p "$(dirname "$APP_DIR")" "$PREFIX/bin" "$SHARE/applications" "$SHARE/metainfo"
if [ "$APP_SRC" != "$APP_DIR" ]; then
  rm -rf "$APP_DIR"
  cp -a "$APP_SRC" "$APP_DIR"
fi
ln -sfn "$APP_DIR/flowdesk" "$BIN"

# The launcher points at the installed executable, so it works even when ~/.local/bin is not on
# the desktop session's PATH.
sed -e "s|^Exec=flowdesk|Exec=$BIN|" -e "s|^TryExec=flowdesk|TryExec=$BIN|" \
  "$HERE/$APP_ID.desktop" > "$SHARE/applications/$APP_ID.desktop"
chmod 644 "$SHARE/applications/$APP_ID.desktop"
install -m 644 "$HERE/$APP_ID.metainfo.xml" "$SHARE/metainfo/$APP_ID.metainfo.xml"
install -D -m 644 "$ICONS/flowdesk.svg" "$SHARE/icons/hicolor/scalable/apps/$APP_ID.svg"
for size in "${ICON_SIZES[@]}"; do
  install -D -m 644 "$ICONS/flowdesk-$size.png" "$SHARE/icons/hicolor/${size}x${size}/apps/$APP_ID.png"
done
refresh_caches

echo "Flowdesk installed in $APP_DIR"
echo "  command:  $BIN"
echo "  launcher: $SHARE/applications/$APP_ID.desktop"
