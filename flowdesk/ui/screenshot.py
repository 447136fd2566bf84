"""``flowdesk screenshot``: render the main window at one size (1440×900 unless ``--size``) and
save one PNG per view.

Works headless (``QT_QPA_PLATFORM=offscreen`` is the default here). Every grab waits until the
worker pools are idle and the contacts pages on screen have arrived, so images never show "…".
Every view is grabbed at exactly the asked size: if the window cannot fit it (its minimum is
larger, or a view grew it), the command fails and says which view and how large it became.
"""

from __future__ import annotations

from pathlib import Path

from flowdesk.core.errors import UserError

WIDTH, HEIGHT = 1440, 900


class WindowDoesNotFit(UserError):
    """The window is not at the asked size for a view; the message says which and why."""


def _pick_flow(db, wanted: str | None):  # noqa: ANN001
    from flowdesk.core.queries import get_flow, list_flows

    if wanted:
        flow = get_flow(db, wanted)
        if flow is None:
            raise UserError(f"no flow with id or name {wanted!r}")
        return flow
    flows = list_flows(db)
    if not flows:
        return None
    outbound = [f for f in flows if f.direction == "outbound"]
    return max(outbound or flows, key=lambda f: f.counters.contacts)


def take_screenshots(
    db_path: Path,
    out: Path,
    flow_ref: str | None = None,
    *,
    dark: bool = False,
    suffix: str = "",
    size: tuple[int, int] = (WIDTH, HEIGHT),
) -> list[Path]:
    import tempfile

    from PySide6.QtCore import QSettings
    from PySide6.QtWidgets import QApplication

    from flowdesk.core.db import connect
    from flowdesk.core.queries import ContactQuery, Scope, contacts_page, list_versions
    from flowdesk.ui.app import create_app
    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.theme import apply_theme
    from flowdesk.ui.widgets.flow_page import (
        TAB_COMPARE,
        TAB_CONTACTS,
        TAB_EXECUTIONS,
        TAB_VERSIONS,
        TAB_VIEWER,
    )

    app = create_app(dark=dark)
    apply_theme(app, dark)
    out.mkdir(parents=True, exist_ok=True)
    db = connect(db_path)
    flow = _pick_flow(db, flow_ref)
    settings_path = out / ".screenshot-settings.ini"
    settings = QSettings(str(settings_path), QSettings.Format.IniFormat)
    settings.clear()
    window = MainWindow(db_path, settings=settings)
    width, height = size
    window.resize(width, height)
    window.show()
    written: list[Path] = []

    def grab(name: str) -> None:
        window.wait_idle()
        _settle(window)
        actual = (window.width(), window.height())
        if actual != size:
            raise WindowDoesNotFit(
                f"the window cannot fit {width}×{height}: {name} made it {actual[0]}×{actual[1]}"
                f" (its minimum is {window.minimumSizeHint().width()}×"
                f"{window.minimumSizeHint().height()})"
            )
        path = out / f"{name}{suffix}.png"
        window.grab().save(str(path))
        written.append(path)

    try:
        if flow is None:
            grab("00-empty")
            return written
        window.open_flow(flow.id)
        page = window.page
        tabs = [(TAB_CONTACTS, "01-summary-contacts")]
        if page.tabs.isTabVisible(TAB_EXECUTIONS):
            tabs.append((TAB_EXECUTIONS, "02-summary-executions"))
        tabs += [(TAB_VERSIONS, "03-summary-versions"), (TAB_VIEWER, "04-summary-viewer")]
        for index, name in tabs:
            page.tabs.setCurrentIndex(index)
            grab(name)

        # A traced path: prefer a contact with several runs and a long path.
        query = ContactQuery(Scope(flow.id), metric=None)
        rows = contacts_page(db, query, 0, 400)
        if rows:
            counts: dict[str, int] = {}
            for row in rows:
                counts[row.contact_id] = counts.get(row.contact_id, 0) + 1
            lengths = dict(
                db.execute(
                    "SELECT key, path_length FROM runs WHERE key IN ({})".format(
                        ",".join("?" * len(rows))
                    ),
                    [r.run_key for r in rows],
                ).fetchall()
            )
            best = max(
                rows,
                key=lambda r: (
                    r.metric != "ongoing",
                    min(lengths.get(r.run_key, 0), 9),
                    counts[r.contact_id] > 1,
                    r.entered_at,
                ),
            )
            page.trace_contact(best)
            grab("05-trace")
            page.viewer_tab.clear_trace()

        versions = list_versions(db, flow.id)
        if versions:
            older = [v for v in versions if not v.is_current and v.counters.contacts]
            version = (older or versions)[-1]
            page.open_version(version.id)
            grab("06-version-detail")
        if page.executions:
            execution = max(page.executions, key=lambda e: e.counters.contacts)
            page.open_execution(execution.id)
            grab("07-execution-detail")
            page.tabs.setCurrentIndex(TAB_VIEWER)
            grab("08-execution-viewer")

        # Where runs stop, why, how long, who went through, over time (all versions).
        window.open_flow(flow.id)
        _insight_views(page, grab)

        # Two versions compared: current against previous.
        window.open_flow(flow.id)
        if page.tabs.isTabEnabled(TAB_COMPARE) and len(versions) >= 2:
            page.tabs.setCurrentIndex(TAB_COMPARE)
            grab("10-compare")

        # The Downloads panel with a finished export; the file and its entry are removed after,
        # so the user's cache keeps no trace of the screenshot.
        window.open_flow(flow.id)
        page.tabs.setCurrentIndex(TAB_CONTACTS)
        with tempfile.TemporaryDirectory(prefix="flowdesk-screenshot-") as folder:
            job_id = _show_a_finished_export(window, flow.id, Path(folder))
            if job_id is not None:
                grab("09-downloads")
                window.downloads.dock.hide()
                window.downloads.manager.remove(job_id)

        # Finding a customer by name, and their page with runs in several flows.
        customer = _customer_in_most_flows(db)
        if customer is not None:
            contact_id, name = customer
            window.focus_customer_search()
            window.customer_box.setText(name)
            window.customers.search_now()
            grab("16-customer-search")
            window.customers.open_customer(contact_id)
            grab("17-customer")
            window.customer_box.clear()
            window.customers.search_now()
    finally:
        window.close()
        window.deleteLater()
        QApplication.processEvents()
        db.conn.close()
        settings_path.unlink(missing_ok=True)
    return written


def _insight_views(page, grab) -> None:  # noqa: ANN001
    """The "Where runs stop" mode with each of its tables, a step's contacts, and Over time."""
    from flowdesk.core.queries import StepFilter
    from flowdesk.ui.widgets.flow_page import TAB_OVER_TIME, TAB_VIEWER
    from flowdesk.ui.widgets.viewer_tab import MODE_STOPS, MODE_TRAFFIC

    tab = page.viewer_tab
    page.tabs.setCurrentIndex(TAB_VIEWER)
    tab.set_mode(MODE_STOPS)
    grab("11-stops")  # waits for the numbers, read in the background
    panel = tab.stops_panel
    if panel.losses.rowCount():
        panel.loss_table.selectRow(0)
        grab("11-stops")
    panel.tabs.setCurrentIndex(1)
    grab("12-why")
    panel.tabs.setCurrentIndex(2)
    rows = panel.times.records()
    waiting = [i for i, r in enumerate(rows) if r.step is not None and r.step.wait_seconds]
    if rows:
        panel.time_table.selectRow(waiting[0] if waiting else 0)
    grab("13-how-long")
    panel.tabs.setCurrentIndex(0)
    tab.set_mode(MODE_TRAFFIC)
    # Who went through the step losing most (or, when none lost anyone, the busiest one).
    outcomes = tab.stops_view.outcomes if tab.stops_view is not None else []
    if outcomes:
        step = max(outcomes, key=lambda s: (s.lost, s.reached))
        page.show_contacts_through(
            StepFilter(step.key), None, f"reached \u201c{step.name or step.id}\u201d"
        )
        grab("14-who-went-through")
        page.contacts_tab.set_step_filter(None)
    page.tabs.setCurrentIndex(TAB_OVER_TIME)
    grab("15-over-time")


def _customer_in_most_flows(db) -> tuple[str, str] | None:  # noqa: ANN001
    """(contact id, "first last") of a named contact with runs in the most flows, among the
    first runs synced (a bounded read at any size)."""
    row = db.execute(
        "SELECT c.id, c.first_name || ' ' || c.last_name FROM"
        " (SELECT contact_id, flow_id FROM runs ORDER BY key LIMIT 20000) r"
        " JOIN contacts c ON c.id = r.contact_id WHERE c.last_name != '' AND c.first_name != ''"
        " GROUP BY c.id ORDER BY count(DISTINCT r.flow_id) DESC, count(*) DESC, c.id LIMIT 1"
    ).fetchone()
    return (row[0], row[1]) if row else None


def _show_a_finished_export(window, flow_id: str, folder: Path) -> int | None:  # noqa: ANN001
    """Export the flow to CSV in ``folder`` as the app does (in a child process) and open the
    Downloads panel on it; returns the job id, or None when the export did not finish."""
    import time

    from PySide6.QtWidgets import QApplication

    from flowdesk.core.export import ExportSpec

    jobs = window.downloads.manager
    job_id = jobs.start_export(ExportSpec(flow_id, format="csv"), folder)
    deadline = time.monotonic() + 120
    while jobs.job(job_id).active and time.monotonic() < deadline:
        QApplication.processEvents()
        time.sleep(0.01)
    if jobs.job(job_id).active:
        jobs.cancel(job_id)
        return None
    window.downloads.dock.show()
    return job_id


def _settle(window) -> None:  # noqa: ANN001
    """Let layouts, deferred fits and repaints run before grabbing."""
    import time

    from PySide6.QtWidgets import QApplication

    for _ in range(5):
        QApplication.processEvents()
        time.sleep(0.01)
