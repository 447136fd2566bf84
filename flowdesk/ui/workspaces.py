"""Several sources side by side: each workspace (the demo, one per ActiveCampaign account, one
per team server) is its own cache file, listed and switched from the File menu."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings
from PySide6.QtWidgets import QFileDialog, QMessageBox, QWidget

from flowdesk.core import workspace
from flowdesk.core.db import connect
from flowdesk.core.errors import UserError
from flowdesk.paths import SettingsKey, data_dir

MAX_RECENT = 8


def workspace_dir() -> Path:
    return data_dir()


def workspace_name(path: Path) -> str:
    """What the File menu shows: the source's own name where the cache knows it. The file is
    read, never migrated nor written (a broken or foreign file is still listed, by its name)."""
    found = workspace.describe_file(path)
    return found.title(path.stem) if found is not None else path.stem


def recent_workspaces(settings: QSettings, current: Path | None = None) -> list[Path]:
    """Recently opened caches that still exist, then any other cache in the data folder."""
    seen: list[Path] = []
    stored = settings.value(SettingsKey.RECENT_WORKSPACES, [], list) or []
    candidates = [Path(p) for p in stored]
    if workspace_dir().is_dir():
        candidates += sorted(workspace_dir().glob("*.db"))
    for path in candidates:
        resolved = path.resolve()
        if resolved.exists() and resolved not in seen:
            seen.append(resolved)
    if current is not None and current.resolve() in seen:
        seen.remove(current.resolve())
    return seen[:MAX_RECENT]


def remember_workspace(settings: QSettings, path: Path) -> None:
    stored = [str(path.resolve())] + [
        p
        for p in (settings.value(SettingsKey.RECENT_WORKSPACES, [], list) or [])
        if p != str(path.resolve())
    ]
    settings.setValue(SettingsKey.RECENT_WORKSPACES, stored[:MAX_RECENT])


def choose_cache_file(parent: QWidget | None) -> Path | None:
    path, _ = QFileDialog.getOpenFileName(
        parent, "Open workspace", str(workspace_dir()), "Flowdesk caches (*.db);;All files (*)"
    )
    return Path(path) if path else None


def connect_source(parent: QWidget | None, tasks, kind: str) -> Path | None:  # noqa: ANN001
    """Ask for an account of the API source ``kind`` (ActiveCampaign, RapidPro/TextIt, Twilio
    Studio), then give it its own cache file, made a workspace of that kind; returns the file
    (or None: cancelled, or the file holds something else, said in a message box)."""
    from flowdesk.core.sources.activecampaign import account_label
    from flowdesk.ui.connect_dialog import FORMS, ask_for_connection

    form = FORMS[kind]
    connection = ask_for_connection(tasks, form, parent)
    if connection is None:
        return None
    if kind == workspace.ACTIVECAMPAIGN:
        label = account_label(connection.url)
    else:
        label = connection.account or urllib.parse.urlsplit(connection.url).netloc
    options = workspace.SourceOptions(url=connection.url, account=connection.account)
    return _new_workspace(
        parent,
        form.title,
        f"{kind}-{_file_safe(label) or 'account'}",
        lambda db: workspace.connect_source(db, kind, options),
    )


def connect_team_server(parent: QWidget | None, tasks) -> Path | None:  # noqa: ANN001
    """Ask for a team server, then give it its own cache file; returns that file (or None)."""
    from flowdesk.core.team.source import source_for_url
    from flowdesk.ui.team_dialog import ask_for_team_server

    url = ask_for_team_server(tasks, parent)
    if not url:
        return None
    source = source_for_url(url)
    return _new_workspace(
        parent,
        "Connect team server",
        f"team-{_file_safe(source.address.display) or 'server'}",
        lambda db: workspace.connect_team(db, source.base_url, source.name),
    )


def _file_safe(label: str) -> str:
    """An account's name as a file name: letters, digits, - and _ (the rest become -)."""
    return "".join(ch if ch.isalnum() or ch in "-_" else "-" for ch in label).strip("-")


def _new_workspace(
    parent: QWidget | None, title: str, stem: str, claim: Callable[[Any], None]
) -> Path | None:
    """The cache file ``<stem>.db`` in the data folder, made a workspace by ``claim(db)``;
    None once a message box said why not (the file cannot be created, or holds another
    source's data)."""
    path = workspace_dir() / f"{stem}.db"
    try:
        db = connect(path)
    except Exception as exc:  # noqa: BLE001 - shown to the user, nothing is lost
        QMessageBox.warning(parent, title, f"Cannot create {path}: {exc}")
        return None
    try:
        claim(db)
    except UserError as exc:
        QMessageBox.warning(parent, title, str(exc))
        return None
    finally:
        db.conn.close()
    return path
