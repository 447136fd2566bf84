"""A real window on a real X display (run under xvfb-run by the CI script)."""

from __future__ import annotations

import os

import pytest
from PySide6.QtGui import QGuiApplication

from flowdesk.core.db import connect
from flowdesk.core.queries import list_flows
from tests.ui.conftest import wait_idle

pytestmark = [
    pytest.mark.xvfb,
    pytest.mark.skipif(
        not os.environ.get("DISPLAY") or QGuiApplication.platformName() == "offscreen",
        reason="needs a real X display (run under xvfb-run with QT_QPA_PLATFORM=xcb)",
    ),
]


def test_real_window_smoke(qtbot, make_window, demo_db_path, tmp_path):
    window = make_window(demo_db_path)
    qtbot.waitExposed(window)
    db = connect(demo_db_path)
    flow = list_flows(db)[0]
    window.open_flow(flow.id)
    wait_idle(qtbot, window)
    assert window.page.cards.value_text("contacts") == f"{flow.counters.contacts:,}"
    for index in range(4):
        window.show_tab(index)
        qtbot.wait(50)
    image = window.grab()
    assert image.width() > 800
    image.save(str(tmp_path / "xvfb.png"))
    db.conn.close()
