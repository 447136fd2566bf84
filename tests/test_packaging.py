"""Packaging: resources resolve and ship in the wheel; desktop files, metainfo and spec agree."""

from __future__ import annotations

import configparser
import re
import shutil
import struct
import subprocess
import sys
import tomllib
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest

import flowdesk
from flowdesk.paths import icon_paths, resource_path, resources_root

ROOT = Path(__file__).resolve().parent.parent
LINUX = ROOT / "packaging" / "linux"
APP_ID = "io.flowdesk.Flowdesk"
ICON_SIZES = [16, 24, 32, 48, 64, 128, 256, 512]


def png_size(path: Path) -> tuple[int, int]:
    data = path.read_bytes()[:24]
    assert data[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    return struct.unpack(">II", data[16:24])


def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


def desktop_entry() -> configparser.SectionProxy:
    parser = configparser.ConfigParser(interpolation=None, strict=True)
    parser.optionxform = str  # keys are case-sensitive
    parser.read(LINUX / f"{APP_ID}.desktop", encoding="utf-8")
    return parser["Desktop Entry"]


# -- resources --------------------------------------------------------------------------------


def test_resources_resolve_to_the_shipped_folder():
    root = resources_root()
    assert root.is_dir()
    assert resource_path("icons", "flowdesk.svg").is_file()
    assert (
        resource_path("icons", "flowdesk.svg")
        .read_text(encoding="utf-8")
        .lstrip()
        .startswith("<?xml")
    )


def test_every_icon_size_is_shipped_at_its_size():
    paths = icon_paths()
    assert list(paths) == ICON_SIZES
    for size, path in paths.items():
        assert png_size(path) == (size, size)


def test_platform_icons_exist():
    ico = (ROOT / "packaging" / "windows" / "flowdesk.ico").read_bytes()
    assert ico[:4] == b"\x00\x00\x01\x00" and struct.unpack("<H", ico[4:6])[0] >= 5
    icns = (ROOT / "packaging" / "macos" / "flowdesk.icns").read_bytes()
    assert icns[:4] == b"icns" and struct.unpack(">I", icns[4:8])[0] == len(icns)


def test_paths_module_stays_qt_free():
    code = "import sys, flowdesk.paths as p; p.resources_root(); print('PySide6' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    assert out.stdout.strip() == "False"


# -- the wheel --------------------------------------------------------------------------------


def test_setuptools_lists_every_package_and_maps_resources():
    config = pyproject()["tool"]["setuptools"]
    found = {
        ".".join(init.parent.relative_to(ROOT).parts)
        for init in (ROOT / "flowdesk").rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    missing = sorted(found - set(config["packages"]))
    assert not missing, f"add to [tool.setuptools] packages in pyproject.toml: {missing}"
    assert config["package-dir"]["flowdesk.resources"] == "resources"
    assert config["package-data"]["flowdesk.resources"] == ["**/*"]


@pytest.mark.slow
def test_wheel_contains_code_and_resources(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("flowdesk", "resources"):
        shutil.copytree(ROOT / name, src / name, ignore=ignore)
    result = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(src), "--no-deps", "-q", "-w", str(tmp_path)],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    (wheel,) = tmp_path.glob("flowdesk-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    expected_code = {
        path.relative_to(ROOT).as_posix()
        for path in (ROOT / "flowdesk").rglob("*.py")
        if "__pycache__" not in path.parts
    }
    assert expected_code - names == set()
    expected_resources = {
        "flowdesk/resources/" + path.relative_to(ROOT / "resources").as_posix()
        for path in (ROOT / "resources").rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }
    assert "flowdesk/resources/icons/flowdesk.svg" in expected_resources
    assert expected_resources - names == set()
    assert not [name for name in names if "__pycache__" in name or name.endswith(".pyc")]


# -- desktop integration ----------------------------------------------------------------------


def test_desktop_file_has_the_required_keys():
    entry = desktop_entry()
    for key in ("Type", "Name", "Exec", "Icon", "Categories", "Comment", "StartupWMClass"):
        assert entry.get(key), key
    assert entry["Type"] == "Application"
    assert entry["Terminal"] == "false"
    assert entry["Categories"].endswith(";")


def test_desktop_file_matches_the_executable_icon_and_window():
    from flowdesk.ui.identity import APP_NAME, DESKTOP_ID

    entry = desktop_entry()
    assert DESKTOP_ID == APP_ID
    assert entry["Icon"] == APP_ID
    assert entry["Exec"].split()[0] == "flowdesk"
    assert entry["TryExec"] == "flowdesk"
    assert pyproject()["project"]["scripts"]["flowdesk"] == "flowdesk.cli:main"
    assert entry["StartupWMClass"] == APP_NAME  # Qt's X11 class name is the application name
    spec = (ROOT / "flowdesk.spec").read_text(encoding="utf-8")
    assert re.search(r'^APP_NAME = "flowdesk"$', spec, re.M)  # dist/flowdesk/flowdesk


def test_metainfo_names_the_launcher_and_the_current_version():
    root = ET.parse(LINUX / f"{APP_ID}.metainfo.xml").getroot()
    assert root.tag == "component" and root.get("type") == "desktop-application"
    assert root.findtext("id") == APP_ID
    assert root.find("launchable").text == f"{APP_ID}.desktop"
    assert root.find("provides/binary").text == "flowdesk"
    releases = [release.get("version") for release in root.findall("releases/release")]
    assert releases and releases[0] == flowdesk.__version__, (
        f"add a <release version={flowdesk.__version__!r}> to the metainfo"
    )


@pytest.mark.parametrize(
    ("tool", "args", "name"),
    [
        ("desktop-file-validate", [], f"{APP_ID}.desktop"),
        ("appstreamcli", ["validate", "--no-net"], f"{APP_ID}.metainfo.xml"),
    ],
)
def test_linux_files_pass_their_validators(tool, args, name):
    exe = shutil.which(tool)
    if exe is None:
        pytest.skip(f"{tool} is not installed")
    result = subprocess.run([exe, *args, str(LINUX / name)], capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


# -- the PyInstaller spec and scripts ---------------------------------------------------------


def test_spec_is_one_folder_windowed_without_upx():
    spec = (ROOT / "flowdesk.spec").read_text(encoding="utf-8")
    assert "upx=True" not in spec
    assert spec.count("upx=False") == 2  # EXE and COLLECT
    assert "COLLECT(" in spec and "exclude_binaries=True" in spec  # one folder, not one file
    assert re.search(r"^\s*console=CONSOLE,$", spec, re.M)
    assert 'os.environ.get("FLOWDESK_CONSOLE") == "1"' in spec  # windowed unless asked
    assert "from flowdesk import __version__" in spec
    assert '"resources"' in spec and '"flowdesk", "resources"' in spec
    for unused in ("PySide6.QtQml", "PySide6.QtQuick", "PySide6.QtWebEngineCore"):
        assert f'"{unused}"' in spec


def test_build_script_pins_pyinstaller():
    build = (ROOT / "packaging" / "build.sh").read_text(encoding="utf-8")
    assert re.search(r'^PYINSTALLER_VERSION="6\.\d+\.\d+"$', build, re.M)
    assert "flowdesk.spec" in build
    for script in ("build.sh", "smoke_test.sh", "linux/install.sh"):
        path = ROOT / "packaging" / script
        assert path.stat().st_mode & 0o111, f"{script} is not executable"
        assert path.read_text(encoding="utf-8").startswith("#!/usr/bin/env bash\n")


# -- app identity -----------------------------------------------------------------------------


def test_apply_identity_sets_names_version_desktop_id_and_icon(qapp):
    from PySide6.QtCore import QSettings
    from PySide6.QtGui import QGuiApplication

    from flowdesk.ui.identity import apply_identity

    saved = (
        qapp.applicationName(),
        qapp.organizationName(),
        qapp.organizationDomain(),
        qapp.applicationVersion(),
        QGuiApplication.desktopFileName(),
        qapp.windowIcon(),
    )
    try:
        apply_identity(qapp)
        assert qapp.applicationName() == "Flowdesk"
        assert qapp.organizationName() == "Flowdesk"
        assert qapp.organizationDomain() == "flowdesk.io"
        assert qapp.applicationVersion() == flowdesk.__version__
        assert QGuiApplication.desktopFileName() == APP_ID
        sizes = {size.width() for size in qapp.windowIcon().availableSizes()}
        assert {16, 32, 256} <= sizes
        if sys.platform.startswith("linux"):
            settings = Path(QSettings().fileName())
            assert settings.parts[-2:] == ("Flowdesk", "Flowdesk.conf")
    finally:
        qapp.setApplicationName(saved[0])
        qapp.setOrganizationName(saved[1])
        qapp.setOrganizationDomain(saved[2])
        qapp.setApplicationVersion(saved[3])
        QGuiApplication.setDesktopFileName(saved[4])
        qapp.setWindowIcon(saved[5])
