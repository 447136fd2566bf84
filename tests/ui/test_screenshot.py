"""``flowdesk screenshot`` renders every view at 1440×900 without placeholders."""

from __future__ import annotations

import pytest
from PySide6.QtGui import QImage

from flowdesk.cli import main
from flowdesk.core.db import connect
from flowdesk.core.export import jobs_store as store


def test_screenshot_command_writes_every_view(qtbot, demo_db_path, tmp_path, capsys):
    out = tmp_path / "shots"
    assert main(["screenshot", "--db", str(demo_db_path), "--out", str(out)]) == 0
    names = sorted(p.name for p in out.glob("*.png"))
    assert names == [
        "01-summary-contacts.png",
        "02-summary-executions.png",
        "03-summary-versions.png",
        "04-summary-viewer.png",
        "05-trace.png",
        "06-version-detail.png",
        "07-execution-detail.png",
        "08-execution-viewer.png",
        "09-downloads.png",
        "10-compare.png",
        "11-stops.png",
        "12-why.png",
        "13-how-long.png",
        "14-who-went-through.png",
        "15-over-time.png",
        "16-customer-search.png",
        "17-customer.png",
    ]
    for name in names:
        image = QImage(str(out / name))
        assert (image.width(), image.height()) == (1440, 900), name
    assert str(out / names[0]) in capsys.readouterr().out
    # The screenshot's export leaves nothing behind in the user's cache.
    db = connect(demo_db_path)
    assert store.list_jobs(db) == []
    db.conn.close()


def test_screenshot_of_an_inbound_flow_skips_executions(qtbot, demo_db_path, tmp_path):
    out = tmp_path / "inbound"
    assert (
        main(
            [
                "screenshot",
                "--db",
                str(demo_db_path),
                "--out",
                str(out),
                "--flow",
                "Customer service triage",
            ]
        )
        == 0
    )
    names = {p.name for p in out.glob("*.png")}
    assert "02-summary-executions.png" not in names and "05-trace.png" in names


def test_screenshot_errors_are_one_line(demo_db_path, tmp_path, capsys):
    assert main(["screenshot", "--db", str(tmp_path / "missing.db"), "--out", str(tmp_path)]) == 2
    assert (
        main(
            [
                "screenshot",
                "--db",
                str(demo_db_path),
                "--out",
                str(tmp_path),
                "--flow",
                "No such flow",
            ]
        )
        == 2
    )
    err = capsys.readouterr().err
    assert "no cache at" in err and "no flow with id or name" in err


@pytest.mark.parametrize("theme", ["dark"])
def test_dark_screenshot(qtbot, demo_db_path, tmp_path, theme):
    from flowdesk.ui.screenshot import take_screenshots

    paths = take_screenshots(demo_db_path, tmp_path, dark=True, suffix="-dark")
    assert paths and all(p.exists() for p in paths)
    image = QImage(str(paths[0]))
    # the window background is dark
    assert image.pixelColor(5, 880).lightness() < 100
    from flowdesk.ui.theme import apply_theme

    apply_theme(__import__("PySide6.QtWidgets").QtWidgets.QApplication.instance(), False)
