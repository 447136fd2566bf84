"""flowdesk.core stays free of Qt, so it runs and is tested with no display and no Qt at all."""

from __future__ import annotations

import ast
import pkgutil
import subprocess
import sys
from pathlib import Path

import flowdesk.core

FORBIDDEN = ("PySide6", "pyqtgraph", "shiboken6", "flowdesk.ui")
CORE = Path(flowdesk.core.__file__).parent


def _imports(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    found = []
    for node in ast.walk(tree):  # walks function bodies too: lazy imports count
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_no_core_module_imports_qt():
    offenders = [
        f"{path.relative_to(CORE.parent.parent)}:{line} imports {name}"
        for path in sorted(CORE.rglob("*.py"))
        for line, name in _imports(path)
        if any(name == f or name.startswith(f + ".") for f in FORBIDDEN)
    ]
    assert offenders == []


def test_the_check_catches_a_qt_import(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def later():\n    from PySide6.QtCore import QObject\n")
    assert _imports(sample) == [(2, "PySide6.QtCore")]


def test_importing_all_of_core_loads_no_qt():
    names = [m.name for m in pkgutil.walk_packages(flowdesk.core.__path__, "flowdesk.core.")]
    code = (
        "import importlib, sys\n"
        f"for name in {names!r}: importlib.import_module(name)\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('PySide6', 'pyqtgraph', 'shiboken6')))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


CLI = CORE.parent / "cli"


def test_command_modules_never_import_the_cli_package():
    """cli/__init__ imports every command; a command importing it back would be a cycle."""
    offenders = []
    for path in sorted(CLI.glob("*.py")):
        if path.name in ("__init__.py", "docs.py"):  # docs renders the parser; no command uses it
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module + "." + alias.name for alias in node.names]
                if node.module == "flowdesk.cli" and not all(
                    (CLI / (n.rsplit(".", 1)[1] + ".py")).exists() for n in names
                ):
                    offenders.append(f"{path.name}:{node.lineno}")
            elif isinstance(node, ast.Import):
                offenders += [
                    f"{path.name}:{node.lineno}"
                    for alias in node.names
                    if alias.name == "flowdesk.cli"
                ]
    assert offenders == []


def test_the_core_never_sees_the_command_line():
    offenders = [
        f"{path.relative_to(CORE.parent.parent)}:{line} imports {name}"
        for path in sorted(CORE.rglob("*.py"))
        for line, name in _imports(path)
        if name in ("argparse", "click") or name.startswith("flowdesk.cli")
    ]
    assert offenders == []


def test_every_command_is_registered_from_its_own_module():
    from flowdesk import cli

    modules = {p.stem for p in CLI.glob("*.py")} - {"__init__", "_common", "open_app", "docs"}
    assert set(cli.COMMANDS) == modules
