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
