"""Runs inside a fresh process for the GUI figures (offscreen Qt); prints one JSON line.

    python -m benchmarks.gui_child cold DB          first painted main window
    python -m benchmarks.gui_child cold-bare        first painted empty QMainWindow (baseline)
    python -m benchmarks.gui_child rss DB           peak RSS after visiting every tab
    python -m benchmarks.gui_child latency DB SECONDS [idle]
                                                    event-loop lateness while a sync and an
                                                    export run (``idle``: with nothing running)

The parent measures cold start from before it spawns this process to the moment it reads the
"painted" line, so interpreter start-up and every import are included.
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("FLOWDESK_THEME", "light")


def _status(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _emit(data: dict) -> None:
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def _settings():  # noqa: ANN202
    from pathlib import Path

    from PySide6.QtCore import QSettings

    folder = Path(tempfile.mkdtemp(prefix="flowdesk-bench-settings-"))
    return QSettings(str(folder / "bench.ini"), QSettings.Format.IniFormat)


def _paint_watch(widget, on_painted) -> None:  # noqa: ANN001
    """Call ``on_painted`` once, right after ``widget``'s first paint has completed."""
    from PySide6.QtCore import QEvent, QObject, QTimer

    class Watch(QObject):
        seen = False

        def eventFilter(self, obj, event) -> bool:  # noqa: ANN001, N802
            if not self.seen and event.type() == QEvent.Type.Paint:
                self.seen = True
                QTimer.singleShot(0, on_painted)
            return False

    watch = Watch(widget)
    widget.installEventFilter(watch)
    widget._bench_watch = watch  # keep it alive


def cold(db_path: str | None) -> int:
    from PySide6.QtWidgets import QApplication, QMainWindow

    from flowdesk.ui.app import create_app

    app = create_app() if db_path else QApplication([sys.argv[0]])
    if db_path:
        from flowdesk.ui.main_window import MainWindow

        window = MainWindow(db_path, settings=_settings())
    else:
        window = QMainWindow()
        window.resize(1440, 900)

    def painted() -> None:
        _emit({"painted": True, "rss_mb": _status("VmRSS"), "peak_mb": _status("VmHWM")})
        if db_path:
            window.shutdown()
        app.quit()

    _paint_watch(window, painted)
    window.show()
    return app.exec()


def _open(db_path: str):  # noqa: ANN202
    from flowdesk.ui.app import create_app
    from flowdesk.ui.main_window import MainWindow

    app = create_app()
    window = MainWindow(db_path, settings=_settings())
    window.resize(1440, 900)
    window.show()
    window.wait_idle()
    return app, window


def rss(db_path: str) -> int:
    from PySide6.QtWidgets import QApplication

    from flowdesk.core.queries import list_flows
    from flowdesk.ui.widgets.flow_page import TAB_CONTACTS

    app, window = _open(db_path)
    page = window.page
    flows = list_flows(window.db)
    biggest = max(flows, key=lambda f: f.counters.contacts)
    outbound = [f for f in flows if f.direction == "outbound"]
    visited = []
    for flow in [biggest, *outbound[:1]]:
        window.open_flow(flow.id)
        window.wait_idle()
        table = page.contacts_tab.table
        model = page.contacts_tab.model
        page.tabs.setCurrentIndex(TAB_CONTACTS)
        window.wait_idle()
        table.scrollToBottom()
        window.wait_idle()
        table.scrollTo(model.index(model.rowCount() // 2, 0))
        window.wait_idle()
        table.scrollToTop()
        window.wait_idle()
        row = model.row_at(0)
        for index in range(page.tabs.count()):
            if page.tabs.isTabVisible(index):
                page.tabs.setCurrentIndex(index)
                window.wait_idle()
                window.repaint()
                QApplication.processEvents()
                visited.append(page.tabs.tabText(index))
        if row is not None:
            page.trace_contact(row)
            window.wait_idle()
            window.repaint()
            QApplication.processEvents()
    _emit(
        {
            "rss_mb": _status("VmRSS"),
            "peak_mb": _status("VmHWM"),
            "tabs": visited,
        }
    )
    window.shutdown()
    app.quit()
    return 0


def latency(db_path: str, seconds: float, idle: bool) -> int:
    from PySide6.QtCore import QElapsedTimer, QEventLoop, Qt, QTimer

    from flowdesk.core.export import ExportSpec
    from flowdesk.core.queries import list_flows

    app, window = _open(db_path)
    flows = list_flows(window.db)
    biggest = max(flows, key=lambda f: f.counters.contacts)
    # Let the window settle first: Qt delivers the last repaint of opening on a short timer,
    # after ``wait_idle`` returns. The user starts jobs from a window that is already drawn.
    settle = QEventLoop()
    QTimer.singleShot(300, settle.quit)
    settle.exec()
    out = tempfile.mkdtemp(prefix="flowdesk-bench-export-")
    lateness: list[float] = []
    clock = QElapsedTimer()
    interval = 10
    last = [0]

    def tick() -> None:
        now = clock.elapsed()
        lateness.append(max(0, now - last[0] - interval))
        last[0] = now

    timer = QTimer()
    timer.setTimerType(Qt.TimerType.PreciseTimer)
    timer.setInterval(interval)
    timer.timeout.connect(tick)
    export_done: list[object] = []
    spec = ExportSpec(biggest.id, format="csv")
    clock.start()
    last[0] = clock.elapsed()
    timer.start()
    started = time.perf_counter()
    if not idle:
        window.start_sync()
        window.downloads.manager.jobFinished.connect(lambda _job: export_done.append("finished"))
        window.downloads.manager.jobFailed.connect(lambda _job, why: export_done.append(why))
        # The app's own path: the Downloads job manager.
        window.downloads.manager.start_export(spec, out)
    # Run the real event loop (as the app does) until both jobs end or time is up.
    loop = QEventLoop()
    watcher = QTimer()
    watcher.setInterval(50)

    def check() -> None:
        over = time.perf_counter() - started >= seconds
        if over or (not idle and not window.is_syncing() and export_done):
            loop.quit()

    watcher.timeout.connect(check)
    watcher.start()
    loop.exec()
    watcher.stop()
    elapsed = time.perf_counter() - started
    timer.stop()
    sync_running = window.is_syncing()
    if sync_running:
        window.toggle_sync()  # cancel: the sync stops after its batch
    jobs = window.downloads.manager
    for job in jobs.jobs():
        if job.active:
            jobs.cancel(job.id)
    ordered = sorted(lateness)
    _emit(
        {
            "max_ms": max(ordered) if ordered else 0.0,
            "p99_ms": ordered[int(len(ordered) * 0.99)] if ordered else 0.0,
            "ticks": len(ordered),
            "seconds": elapsed,
            "sync_finished": not sync_running,
            "export_finished": bool(export_done),
        }
    )
    window.close()
    app.quit()
    return 0


def main(argv: list[str]) -> int:
    mode = argv[0]
    if mode == "cold":
        return cold(argv[1])
    if mode == "cold-bare":
        return cold(None)
    if mode == "rss":
        return rss(argv[1])
    if mode == "latency":
        return latency(argv[1], float(argv[2]), len(argv) > 3 and argv[3] == "idle")
    raise SystemExit(f"unknown mode {mode}")


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
