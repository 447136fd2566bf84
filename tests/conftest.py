"""Shared fixtures: an offscreen Qt platform unless a real display is asked for, temp caches,
the small demo workspace (built once per session, copied for each test)."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("FLOWDESK_NO_KEYRING", "1")

import shutil  # noqa: E402
from pathlib import Path  # noqa: E402

import pytest  # noqa: E402

from flowdesk.core.db import connect  # noqa: E402


@pytest.fixture
def db(tmp_path):
    database = connect(tmp_path / "cache.db")
    yield database
    database.conn.close()


@pytest.fixture(scope="session")
def pg_server():
    """A real PostgreSQL server started for this test session (tests/pg_server.py)."""
    from tests.pg_server import find_bindir, running_server

    if find_bindir() is None:
        pytest.skip("PostgreSQL server binaries not installed (scripts/bootstrap.sh installs them)")
    with running_server() as server:
        yield server


@pytest.fixture
def pg_url(pg_server, request):
    """The admin URL of a fresh, empty database on the session's server."""
    name = "t_" + "".join(c if c.isalnum() else "_" for c in request.node.name.lower())[:50]
    return pg_server.url(pg_server.create_database(name))


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The small demo workspace, built once per session: read it, never write it (a test that
    writes takes its own copy, ``demo_db_path``)."""
    from flowdesk.core.db import set_meta
    from flowdesk.core.demo import DemoSource
    from flowdesk.core.sync import SyncEngine

    path = tmp_path_factory.mktemp("demo") / "demo.db"
    db = connect(path)
    with db.conn:
        set_meta(db, "demo", {"seed": 3, "contacts": 400})
    report = SyncEngine(db).run(DemoSource(seed=3, contacts=400))
    assert report.outcome == "completed"
    db.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


@pytest.fixture
def demo_db_path(demo_template, tmp_path) -> Path:
    """A private copy of a small demo workspace (8 flows, inbound and outbound, executions)."""
    path = tmp_path / "demo.db"
    shutil.copy(demo_template, path)
    return path


@pytest.fixture
def demo(demo_db_path):
    """An open connection to the private demo copy."""
    db = connect(demo_db_path)
    yield db
    db.conn.close()
