"""While a sync reads paths (phase 2, hours on a big account), the views built from paths follow
it: throttled, read off the GUI thread, never two at once, and nothing the agent set moves."""

from __future__ import annotations

import re

import pytest
from PySide6.QtCore import Qt

from flowdesk.core.queries import StepFilter, path_coverage
from flowdesk.core.sync import SyncEngine
from flowdesk.ui.live_refresh import LiveRefresh
from flowdesk.ui.widgets.flow_page import TAB_VIEWER
from flowdesk.ui.widgets.viewer_tab import MODE_STOPS
from tests.core.test_two_phases import two_phase
from tests.fake_ac_server import FakeAccount, FakeACServer
from tests.ui.pools import HeldPool, SyncPool, deliver

INTERVAL = 25.0


class Clock:
    def __init__(self) -> None:
        self.now = 1_000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def server():
    with FakeACServer(FakeAccount(seed=11, runs=240), max_page_size=100) as fake:
        yield fake


def _db_path(db) -> str:
    return db.conn.execute("PRAGMA database_list").fetchone()[2]


def _basis(text: str) -> tuple[int, int] | None:
    """The "from N of M runs" a label says (None: it says nothing partial)."""
    found = re.search(r"from ([\d,]+) of ([\d,]+) runs", text)
    return (
        None if found is None else (int(found[1].replace(",", "")), int(found[2].replace(",", "")))
    )


def _partial(coverage) -> tuple[int, int] | None:  # noqa: ANN001
    """What a label says of a coverage (None: every path is read, it says nothing)."""
    return (coverage.with_path, coverage.runs) if coverage.partial else None


def _coverage(db, graph) -> tuple[int, int] | None:  # noqa: ANN001
    return _partial(path_coverage(db, None, graph.version_id, graph.execution_id))


def test_the_views_follow_phase_two_throttled_and_keep_what_the_agent_set(
    qtbot, make_window, make_tasks, reported, server
):
    path = _db_path(reported)
    account = server.account
    flow_id = account.inbound.id
    window = make_window(path, tasks=make_tasks(path, interactive=SyncPool(), writes=SyncPool()))
    clock = Clock()
    window.live_refresh.clock = clock
    window.live_refresh.interval = INTERVAL
    window.open_flow(flow_id)
    page, viewer = window.page, window.page.viewer_tab
    deliver()

    # The agent: a step filter on the Contacts tab, sorted by name, a contact selected...
    step_key = reported.execute(
        "SELECT step_key FROM run_steps JOIN runs ON runs.key = run_steps.run_key"
        " WHERE runs.flow_id = ? GROUP BY step_key ORDER BY count(*) DESC LIMIT 1",
        [flow_id],
    ).fetchone()[0]
    page.show_contacts_through(StepFilter(step_key), None, "reached the step")
    contacts = page.contacts_tab
    contacts.table.horizontalHeader().setSortIndicator(1, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not contacts.model.is_loading() and contacts.model.rowCount() > 0)
    contacts.table.selectRow(0)
    picked_contact = contacts.model.row_at(0, fetch=False).run_key
    # ... then "Where runs stop" on the Flow Viewer, a row of its panel picked, zoomed in.
    page.tabs.setCurrentIndex(TAB_VIEWER)
    viewer.set_mode(MODE_STOPS)
    qtbot.waitUntil(lambda: viewer.stops_view is not None)
    panel = viewer.stops_panel
    assert panel.losses.rowCount() > 0
    last = panel.losses.rowCount() - 1
    panel.loss_table.selectRow(last)  # the diagram centres on that step and rings it
    picked_step = panel.losses.record_at(last).key
    for _ in range(3):
        viewer.viewer.zoom_in()  # the zoom button
    view = viewer.viewer.view
    assert view.focused_key == picked_step

    def on_screen():  # where the picked step is from the middle of the view, in pixels
        node = viewer.viewer.scene.nodes[picked_step]
        middle = view.viewport().rect().center()  # a scrollbar may come or go meanwhile
        return view.mapFromScene(node.sceneBoundingRect().center()) - middle

    zoom, where = view.scale_factor(), on_screen()
    assert _basis(viewer.note.text()) == _coverage(reported, viewer.graph)

    # Phase 2, in this process: each committed batch reaches the window as it does from the
    # sync's child; the clock moves 10 s a batch.
    seen: list[dict] = []
    real = window.live_refresh.batch_committed

    def committed() -> bool:
        seen[-1]["started"] = real()
        return seen[-1]["started"]

    window.live_refresh.batch_committed = committed

    def progress(report) -> None:  # noqa: ANN001
        clock.now += 10
        seen.append(
            {"started": None, "before": _basis(viewer.note.text()), "done": report.report_done}
        )
        window._on_sync_progress(report)
        deliver()
        seen[-1].update(
            exact=_coverage(reported, viewer.graph),
            after=_basis(viewer.note.text()),
            chip=_basis(contacts.step_chip.text()),
            chip_exact=_partial(path_coverage(reported, flow_id)),
        )

    report = SyncEngine(reported).run(two_phase(server), progress=progress)
    assert report.outcome == "completed"

    # The sync brings the report up to date first (report_done on its last batch), which
    # reloads everything; then each batch of paths asks for a refresh: at most one per 25 s.
    assert not any(s["started"] is not None for s in seen if not s["done"])
    first, *rest = [s for s in seen if s["done"]]
    assert first["started"] is None and first["after"] == first["exact"]
    started = [s["started"] for s in rest]
    assert len(started) >= 6
    assert started[:6] == [False, False, True, False, False, True]
    for batch in rest:
        # a refresh shows the cache's coverage at once; a throttled batch changes nothing
        assert batch["after"] == (batch["exact"] if batch["started"] else batch["before"])
        if batch["started"]:
            assert batch["chip"] == batch["chip_exact"]
    assert any(s["before"] != s["after"] for s in rest)  # the label advanced during phase 2

    # Nothing the agent set moved.
    assert page.tabs.currentIndex() == TAB_VIEWER and viewer.mode == MODE_STOPS
    assert view.scale_factor() == pytest.approx(zoom)
    assert view.focused_key == picked_step
    assert on_screen() == where
    assert panel.losses.record_at(panel.loss_table.currentIndex().row()).key == picked_step
    assert panel.view is viewer.stops_view
    assert _basis(panel.summary.text()) == _basis(viewer.note.text())
    header = contacts.table.horizontalHeader()
    assert (header.sortIndicatorSection(), header.sortIndicatorOrder()) == (
        1,
        Qt.SortOrder.AscendingOrder,
    )
    assert contacts.step_filter() == StepFilter(step_key)
    qtbot.waitUntil(lambda: not contacts.model.is_loading())
    index = contacts.table.currentIndex()
    assert contacts.model.row_at(index.row(), fetch=False).run_key == picked_contact


def test_no_refresh_starts_while_one_is_running(qtbot, make_tasks, reported, server):
    from flowdesk.ui.widgets.flow_page import FlowPage

    pool = HeldPool()
    tasks = make_tasks(_db_path(reported), interactive=pool, writes=SyncPool())
    page = FlowPage(reported, tasks)
    qtbot.addWidget(page)
    assert page.open_flow(server.account.inbound.id)
    page.tabs.setCurrentIndex(TAB_VIEWER)
    pool.release_all()
    viewer = page.viewer_tab
    clock = Clock()
    live = LiveRefresh(page.refresh_paths, page.refreshing, interval=INTERVAL, clock=clock)
    live.reloaded()
    before = _basis(viewer.note.text())
    assert before == _coverage(reported, viewer.graph)

    def read_paths(n: int) -> None:  # what a phase-2 batch commits, as far as counts go
        reported.execute(
            "UPDATE runs SET path_synced = 1 WHERE key IN"
            " (SELECT key FROM runs WHERE path_synced = 0 LIMIT ?)",
            [n],
        )
        reported.conn.commit()

    read_paths(10)
    clock.now += INTERVAL
    assert live.batch_committed()
    assert len(pool) == 1 and page.refreshing()  # the read is held: still running
    read_paths(10)
    clock.now += 2 * INTERVAL
    assert not live.batch_committed()  # the interval is over, but one is running
    assert len(pool) == 1
    assert _basis(viewer.note.text()) == before  # not shown yet
    pool.release_all()
    assert not page.refreshing()
    assert _basis(viewer.note.text()) == _coverage(reported, viewer.graph) != before
    read_paths(10)
    assert live.batch_committed()  # over, and the interval long gone
    pool.release_all()
    assert _basis(viewer.note.text()) == _coverage(reported, viewer.graph)


class Later:
    """A schedule whose callbacks the test fires."""

    def __init__(self) -> None:
        self.calls: list[tuple[float, object]] = []

    def __call__(self, seconds: float, callback) -> None:  # noqa: ANN001
        self.calls.append((seconds, callback))

    def fire(self) -> None:
        _, callback = self.calls.pop(0)
        callback()


def _live(clock: Clock, later: Later, busy: list[bool], refreshed: list[float]) -> LiveRefresh:
    return LiveRefresh(
        lambda: refreshed.append(clock.now),
        lambda: busy[0],
        interval=INTERVAL,
        clock=clock,
        schedule=later,
    )


def test_a_batch_that_came_too_soon_is_shown_when_the_interval_ends():
    """Phase 2 may wait minutes on a rate limit after a batch the throttle held back: that
    batch shows when its interval ends, not when the next batch comes."""
    clock, later, busy, refreshed = Clock(), Later(), [False], []
    live = _live(clock, later, busy, refreshed)
    live.reloaded()
    start = clock.now
    clock.now += 10
    assert not live.batch_committed()
    clock.now += 5
    assert not live.batch_committed()
    assert [seconds for seconds, _ in later.calls] == [INTERVAL - 10]  # one check, not two
    clock.now = start + INTERVAL  # no batch comes meanwhile
    later.fire()
    assert refreshed == [start + INTERVAL]

    clock.now += 2 * INTERVAL
    busy[0] = True  # the last refresh is still reading
    assert not live.batch_committed()
    assert [seconds for seconds, _ in later.calls] == [INTERVAL / 5]
    busy[0] = False
    clock.now += INTERVAL / 5
    later.fire()
    assert refreshed[-1] == clock.now


def test_a_late_check_does_nothing_once_a_refresh_or_the_end_of_the_sync_showed_it():
    clock, later, busy, refreshed = Clock(), Later(), [False], []
    live = _live(clock, later, busy, refreshed)
    live.reloaded()
    clock.now += 10
    assert not live.batch_committed()
    clock.now += INTERVAL
    assert live.batch_committed()  # the next batch came in time and showed both
    later.fire()
    assert len(refreshed) == 1

    clock.now += 10
    assert not live.batch_committed()
    live.stop()  # the sync ended; its own reload shows everything
    clock.now += INTERVAL
    later.fire()
    assert len(refreshed) == 1
    assert later.calls == []


def test_the_window_shows_a_held_back_batch_without_another(
    qtbot, make_window, make_tasks, reported
):
    path = _db_path(reported)
    window = make_window(path, tasks=make_tasks(path, interactive=SyncPool(), writes=SyncPool()))
    starts: list[bool] = []
    window.live_refresh._refresh = lambda: starts.append(True)
    window.live_refresh.interval = 0.05  # a real timer this time: shortened
    window.live_refresh.reloaded()
    assert not window.live_refresh.batch_committed()
    qtbot.waitUntil(lambda: starts == [True], timeout=2000)
