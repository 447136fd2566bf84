"""Every place Flowdesk reads or writes, and every settings key: the one home for both.

User files: the data folder (caches; the demo workspace is ``demo.db`` there), the log folder
and the folder exports go to by default, all from platformdirs with the app's names (see
``flowdesk/ui/identity.py`` for where each lands per platform). Settings keys: the names under
which the app keeps its preferences in ``QSettings`` (the store itself is Qt's, so it stays in
the UI; the names live here so no key is spelled twice).

Shipped files:

The top-level ``resources/`` folder is installed as the package ``flowdesk.resources``: inside the
wheel for ``pip install .``, mapped onto the checkout for ``pip install -e .``, and collected to
``flowdesk/resources`` in the PyInstaller bundle. ``resource_path`` finds it through
``importlib.resources`` in all three, and falls back to the checkout's folder when Flowdesk runs
from source without being installed. Qt-free: the core may use it too.
"""

from __future__ import annotations

import sys
from functools import cache
from importlib import resources
from pathlib import Path

RESOURCES_PACKAGE = "flowdesk.resources"
APP_NAME = "Flowdesk"  # platformdirs' app name and author; Qt's application/organisation names
ORG_NAME = "Flowdesk"
DEMO_DB_NAME = "demo.db"


class SettingsKey:
    """Names of the app's preferences in QSettings."""

    WINDOW_GEOMETRY = "window/geometry"
    WINDOW_SPLITTER = "window/splitter"
    LAST_FLOW = "flows/last"
    LAST_WORKSPACE = "workspaces/last"
    RECENT_WORKSPACES = "workspaces/recent"
    EXPORT_FOLDER = "exports/folder"
    EXPORT_FORMAT = "exports/format"
    EXPORT_EXCEL_BOM = "exports/excel_bom"
    EXPORT_LOCAL_TIME = "exports/local_time"
    THEME = "view/theme"  # "dark" or "light" (View → Dark theme); FLOWDESK_THEME overrides it


def data_dir() -> Path:
    """Where caches live unless the user picks another file."""
    import platformdirs

    return Path(platformdirs.user_data_dir(APP_NAME, ORG_NAME))


def default_db_path() -> Path:
    """The demo workspace: what ``--db`` and the app open when given no file."""
    return data_dir() / DEMO_DB_NAME


def log_dir() -> Path:
    import platformdirs

    return Path(platformdirs.user_log_dir(APP_NAME, ORG_NAME))


def downloads_dir() -> Path:
    """Where exports go by default: the user's Downloads folder (home when there is none)."""
    try:
        import platformdirs

        folder = Path(platformdirs.user_downloads_dir())
    except Exception:  # noqa: BLE001 - any failure falls back to home
        folder = Path.home()
    return folder if folder.is_dir() else Path.home()


@cache
def resources_root() -> Path:
    """The folder holding the shipped resources (a real directory in every supported install)."""
    try:
        root = resources.files(RESOURCES_PACKAGE)
    except ModuleNotFoundError:
        root = None
    if root is not None:
        path = Path(str(root))
        if path.is_dir():
            return path
    frozen = getattr(sys, "_MEIPASS", None)
    candidates = [Path(frozen) / "flowdesk" / "resources"] if frozen else []
    candidates.append(Path(__file__).resolve().parent.parent / "resources")  # a source checkout
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError("Flowdesk's resources folder is missing from this installation")


def resource_path(*parts: str) -> Path:
    """The path of a shipped file, e.g. ``resource_path("icons", "flowdesk.svg")``.

    The path is returned whether or not the file exists; check with ``.exists()`` when optional.
    """
    return resources_root().joinpath(*parts)


def icon_paths() -> dict[int, Path]:
    """The app icon's PNG renderings by pixel size (see ``packaging/make_icons.py``)."""
    icons = resource_path("icons")
    found = {}
    for png in icons.glob("flowdesk-*.png"):
        size = png.stem.rpartition("-")[2]
        if size.isdigit():
            found[int(size)] = png
    return dict(sorted(found.items()))
