"""Time the desktop app's interactive paths on a large cache and report RSS.

    flowdesk demo --db /tmp/demo1m.db --contacts 1000000
    QT_QPA_PLATFORM=offscreen python benchmarks/ui_bench.py --db /tmp/demo1m.db

Each figure is wall time from the user's action to the window having repainted with the result
(worker round trips included), median of several runs after one warm-up. Budgets from the issue:
select a flow ≤ 100 ms, last page ≤ 100 ms, search ≤ 150 ms, Flow Viewer ≤ 300 ms, trace ≤ 50 ms,
RSS with all tabs opened ≤ 400 MB.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

BUDGETS_MS = {
    "select flow → summary + first page": 100,
    "last page of contacts": 100,
    "search by phone prefix": 150,
    "search by name": 150,
    "open Flow Viewer with heat": 300,
    "trace a path": 50,
}


def rss_mb() -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--flow", help="flow id or name (default: the one with most runs)")
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)

    from PySide6.QtCore import QSettings, Qt
    from PySide6.QtWidgets import QApplication

    from flowdesk.core.db import connect
    from flowdesk.core.queries import get_flow, list_flows
    from flowdesk.ui.app import create_app
    from flowdesk.ui.main_window import MainWindow
    from flowdesk.ui.widgets.flow_page import TAB_CONTACTS, TAB_VIEWER

    create_app()
    db = connect(args.db)
    flows = list_flows(db)
    total_runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    flow = get_flow(db, args.flow) if args.flow else max(flows, key=lambda f: f.counters.contacts)
    others = [f for f in flows if f.id != flow.id]
    settings = QSettings(str(Path(tempfile.mkdtemp()) / "bench.ini"), QSettings.Format.IniFormat)
    window = MainWindow(args.db, settings=settings)
    window.resize(1440, 900)
    window.show()
    window.wait_idle()
    page = window.page
    tab = page.contacts_tab
    model = tab.model
    table = tab.table

    def paint() -> None:
        window.repaint()
        QApplication.processEvents()

    def wait(predicate, timeout: float = 60.0) -> None:
        deadline = time.perf_counter() + timeout
        while not predicate():
            QApplication.processEvents()
            if time.perf_counter() > deadline:
                raise TimeoutError
            time.sleep(0.0005)

    def visible_rows_loaded() -> bool:
        top = table.rowAt(0)
        bottom = table.rowAt(table.viewport().height() - 1)
        if top < 0:
            return model.rowCount() == 0
        bottom = bottom if bottom >= 0 else model.rowCount() - 1
        return model.is_row_loaded(top) and model.is_row_loaded(bottom) and not model.is_loading()

    results: dict[str, list[float]] = {name: [] for name in BUDGETS_MS}
    extra: dict[str, list[float]] = {
        "sort by first name (no index)": [],
        "scroll to the middle": [],
    }

    def timed(bucket: dict, name: str, action, done) -> None:  # noqa: ANN001
        start = time.perf_counter()
        action()
        wait(done)
        paint()
        bucket[name].append((time.perf_counter() - start) * 1000)

    for round_ in range(args.repeat + 1):
        # select a flow (from another one) → cards + first page
        window.open_flow(others[round_ % len(others)].id)
        window.wait_idle()
        page.tabs.setCurrentIndex(TAB_CONTACTS)
        timed(
            results,
            "select flow → summary + first page",
            lambda: window.open_flow(flow.id),
            lambda: (
                model.query() is not None
                and model.query().scope.flow_id == flow.id
                and visible_rows_loaded()
            ),
        )
        timed(results, "last page of contacts", table.scrollToBottom, visible_rows_loaded)
        timed(
            extra,
            "scroll to the middle",
            lambda: table.scrollTo(model.index(model.rowCount() // 2, 0)),
            visible_rows_loaded,
        )
        table.scrollToTop()
        window.wait_idle()
        sample = model.row_at(0)
        for name, text in (
            ("search by phone prefix", sample.phone[:7]),
            ("search by name", sample.first_name[:3]),
        ):

            def search(text=text) -> None:
                tab.search.setText(text)
                tab.search_now()

            timed(
                results,
                name,
                search,
                lambda text=text: model.query().search == text and visible_rows_loaded(),
            )
            tab.search.setText("")
            tab.search_now()
            window.wait_idle()
        timed(
            extra,
            "sort by first name (no index)",
            lambda: table.sortByColumn(
                1, __import__("PySide6.QtCore").QtCore.Qt.SortOrder.AscendingOrder
            ),
            lambda: model.query().sort == "first_name" and visible_rows_loaded(),
        )
        table.sortByColumn(7, Qt.SortOrder.DescendingOrder)
        window.wait_idle()
        # viewer with heat (a fresh graph each round)
        page._graphs.clear()
        timed(
            results,
            "open Flow Viewer with heat",
            lambda: page.tabs.setCurrentIndex(TAB_VIEWER),
            lambda: True,
        )
        timed(
            results,
            "trace a path",
            lambda row=sample: page.trace_contact(row),
            lambda: page.viewer_tab.traced is not None,
        )
        page.viewer_tab.clear_trace()
        page.tabs.setCurrentIndex(TAB_CONTACTS)
        window.wait_idle()

    for index in range(4):
        window.show_tab(index)
        paint()
    window.wait_idle()
    rss = rss_mb()

    print(
        f"cache: {args.db} — {total_runs:,} runs in {len(flows)} flows; "
        f"flow “{flow.name}”: {flow.counters.contacts:,} runs"
    )
    print(f"{'measure':40} {'median':>9} {'max':>9} {'budget':>8}")
    ok = True
    for name, values in results.items():
        warm = values[1:] or values
        median = statistics.median(warm)
        budget = BUDGETS_MS[name]
        ok &= median <= budget
        mark = "ok" if median <= budget else "OVER"
        print(f"{name:40} {median:7.1f}ms {max(warm):7.1f}ms {budget:6d}ms {mark}")
    for name, values in extra.items():
        warm = values[1:] or values
        print(f"{name:40} {statistics.median(warm):7.1f}ms {max(warm):7.1f}ms {'—':>8}")
    print(
        f"{'RSS with all tabs opened':40} {rss:7.0f}MB {'':9} {400:6d}MB "
        f"{'ok' if rss <= 400 else 'OVER'}"
    )
    window.close()
    db.conn.close()
    return 0 if ok and rss <= 400 else 1


if __name__ == "__main__":
    sys.exit(main())
