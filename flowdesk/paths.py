"""Where Flowdesk's shipped files are, whichever way it was installed.

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
