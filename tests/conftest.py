"""Shared fixtures: an offscreen Qt platform unless a real display is asked for, temp caches."""

from __future__ import annotations

import os

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("FLOWDESK_NO_KEYRING", "1")

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
