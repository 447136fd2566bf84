"""Who the app is to the operating system: names, version, desktop id and window icon.

The names decide where Qt and platformdirs keep Flowdesk's files:

* ``QSettings``: ``~/.config/Flowdesk/Flowdesk.conf`` (Linux),
  ``~/Library/Preferences/io.flowdesk.Flowdesk.plist`` (macOS, from the organisation domain),
  ``HKEY_CURRENT_USER\\Software\\Flowdesk\\Flowdesk`` (Windows);
* data and logs (platformdirs with the same app and author names, see ``flowdesk.paths``):
  ``~/.local/share/Flowdesk`` and ``~/.local/state/Flowdesk/log``,
  ``~/Library/Application Support/Flowdesk`` and ``~/Library/Logs/Flowdesk``,
  ``%LOCALAPPDATA%\\Flowdesk\\Flowdesk`` and ``…\\Flowdesk\\Flowdesk\\Logs``.

``DESKTOP_ID`` matches ``packaging/linux/io.flowdesk.Flowdesk.desktop``, so Wayland compositors
and docks pair the window with its launcher and icon.
"""

from __future__ import annotations

import contextlib
import sys

from PySide6.QtCore import QCoreApplication, QSize
from PySide6.QtGui import QGuiApplication, QIcon

from flowdesk import __version__
from flowdesk.paths import APP_NAME, ORG_NAME, icon_paths, resource_path

ORG_DOMAIN = "flowdesk.io"
DESKTOP_ID = "io.flowdesk.Flowdesk"


def app_icon() -> QIcon:
    """The app icon with every shipped PNG size (crisp in title bars, docks and task switchers)."""
    icon = QIcon()
    for size, path in icon_paths().items():
        icon.addFile(str(path), QSize(size, size))
    if icon.isNull():
        svg = resource_path("icons", "flowdesk.svg")
        if svg.exists():
            icon.addFile(str(svg))
    return icon


def apply_identity(app: QCoreApplication | None = None) -> None:
    """Set names, version, desktop id and (once a QGuiApplication exists) the window icon.

    Safe before the application object is created (the name setters are static) and again after
    it; call it before the first ``QSettings`` or window is made.
    """
    QCoreApplication.setApplicationName(APP_NAME)
    QCoreApplication.setOrganizationName(ORG_NAME)
    QCoreApplication.setOrganizationDomain(ORG_DOMAIN)
    QCoreApplication.setApplicationVersion(__version__)
    QGuiApplication.setDesktopFileName(DESKTOP_ID)
    _set_windows_app_id()
    app = app or QCoreApplication.instance()
    if isinstance(app, QGuiApplication):
        icon = app_icon()
        if not icon.isNull():
            app.setWindowIcon(icon)


def _set_windows_app_id() -> None:
    """Windows: group the taskbar button under Flowdesk's icon, not the Python interpreter's."""
    if sys.platform != "win32":
        return
    import ctypes

    with contextlib.suppress(AttributeError, OSError):
        ctypes.windll.shell32.SetCurrentProcessExplicitAppUserModelID(DESKTOP_ID)
