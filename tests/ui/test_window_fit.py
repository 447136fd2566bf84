"""The window fits the available screen at 1024×700 and up, in every view."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QRect, QSize, Qt
from PySide6.QtGui import QImage

from flowdesk.cli import main
from flowdesk.core.queries import list_flows
from flowdesk.ui.main_window import MainWindow, first_size
from tests.ui.conftest import wait_idle


@pytest.mark.parametrize(
    ("available", "expected"),
    [
        (QRect(0, 0, 1920, 1050), QSize(1440, 900)),
        (QRect(0, 0, 1366, 738), QSize(1366, 738)),
        (QRect(0, 0, 1024, 700), QSize(1024, 700)),
    ],
)
def test_a_first_launch_opens_within_the_available_screen(available, expected):
    assert first_size(available) == expected


def test_a_first_launch_on_this_screen_fits_it(qtbot, demo_db_path, settings):
    window = MainWindow(demo_db_path, settings=settings)
    qtbot.addWidget(window)
    available = window.screen().availableGeometry()
    assert window.width() <= available.width() and window.height() <= available.height()
    window.shutdown()


def _assert_fits(qtbot, window, size: QSize, what: str) -> None:
    wait_idle(qtbot, window)
    qtbot.wait(20)
    assert window.size() == size, f"{what}: {window.size()}"
    hint = window.minimumSizeHint()
    assert hint.width() <= size.width() and hint.height() <= size.height(), f"{what}: {hint}"


@pytest.mark.parametrize("size", [QSize(1024, 700), QSize(1366, 768)])
def test_no_view_grows_the_window(qtbot, make_window, demo, demo_db_path, size):
    window = make_window(demo_db_path)
    window.resize(size)
    flow = max(list_flows(demo), key=lambda f: f.counters.contacts)
    window.open_flow(flow.id)
    _assert_fits(qtbot, window, size, "a flow")
    page = window.page
    page.trace_contact(page.contacts_tab.model.row_at(0))
    _assert_fits(qtbot, window, size, "a trace")
    window.downloads.dock.show()
    _assert_fits(qtbot, window, size, "a trace and the Downloads panel")
    window.downloads.dock.hide()
    _assert_fits(qtbot, window, size, "the Downloads panel closed")
    assert window.flows.isVisible()
    window.focus_customer_search()
    window.customer_box.setText("a")
    window.customers.search_now()
    _assert_fits(qtbot, window, size, "customer search")
    window.downloads.dock.show()
    _assert_fits(qtbot, window, size, "customer search and the Downloads panel")


def test_closing_the_panel_gives_back_the_size_it_took(qtbot, make_window, demo_db_path):
    window = make_window(demo_db_path)
    window.resize(1024, 700)
    wait_idle(qtbot, window)
    qtbot.wait(20)
    window.downloads.dock.show()
    wait_idle(qtbot, window)
    window.resize(1100, 700)  # whatever grew it while the panel was open
    window.downloads.dock.hide()
    _assert_fits(qtbot, window, QSize(1024, 700), "closed")


def test_screenshots_at_an_exact_size(qtbot, demo_db_path, tmp_path, capsys):
    out = tmp_path / "small"
    assert (
        main(["screenshot", "--db", str(demo_db_path), "--out", str(out), "--size", "1024x700"])
        == 0
    )
    names = sorted(p.name for p in out.glob("*.png"))
    assert "09-downloads.png" in names and "17-customer.png" in names and "05-trace.png" in names
    for name in names:
        image = QImage(str(out / name))
        assert (image.width(), image.height()) == (1024, 700), name


def test_a_size_the_window_cannot_fit_fails_in_one_line(qtbot, demo_db_path, tmp_path, capsys):
    args = ["screenshot", "--db", str(demo_db_path), "--out", str(tmp_path / "x")]
    assert main([*args, "--size", "500x300"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("flowdesk: the window cannot fit 500×300: ")
    with pytest.raises(SystemExit) as exit_info:
        main([*args, "--size", "big"])
    assert exit_info.value.code == 2
    assert "size must look like 1366x768, not 'big'" in capsys.readouterr().err


def test_a_narrow_legend_keeps_the_diagram_its_height(qtbot):
    from flowdesk.ui.viewer.legend import REACH_CAPTION, SHARE_DEFINITION_PLAIN, Legend

    legend = Legend()
    qtbot.addWidget(legend)
    legend.resize(420, 200)
    legend.show()
    qtbot.wait(10)
    assert not legend.definition.isVisible()
    assert legend.toolTip() == SHARE_DEFINITION_PLAIN
    assert legend.is_compact() and legend.caption.toolTip() == REACH_CAPTION
    assert legend.layout().heightForWidth(420) <= 64  # one line: the scale beside the symbols
    legend.resize(1100, 200)
    qtbot.wait(10)
    assert legend.definition.isVisible() and legend.toolTip() == ""
    assert not legend.is_compact() and legend.caption.text() == REACH_CAPTION
    # The definition is as tall as its lines, with no empty band above or below them.
    definition = legend.definition
    assert definition.height() <= definition.heightForWidth(definition.width()) + 2


@pytest.mark.parametrize("size", [QSize(1024, 700), QSize(1366, 768)])
def test_a_trace_gives_the_diagram_the_height_not_the_legend(
    qtbot, make_window, demo, demo_db_path, size
):
    """At 1024×700 the traced diagram was 230 px under a legend of 120 (two lines of scale and
    symbols); at 1366×768 a definition on its own line took 150 px."""
    window = make_window(demo_db_path)
    window.resize(size)
    flow = max(list_flows(demo), key=lambda f: f.counters.contacts)
    window.open_flow(flow.id)
    page = window.page
    page.trace_contact(page.contacts_tab.model.row_at(0))
    _assert_fits(qtbot, window, size, "a trace")
    viewer = page.viewer_tab.viewer
    assert viewer.isVisible() and viewer.legend.isVisible()
    assert viewer.legend.height() <= 64, viewer.legend.height()
    assert viewer.stack.height() >= 0.75 * viewer.height(), (
        viewer.stack.height(),
        viewer.height(),
    )


def test_a_narrow_flows_list_shortens_words_not_figures(qtbot, make_window, demo_db_path):
    """At 1024×700 with the flows list dragged to its narrowest, every row still shows its
    contacts and its completion figure whole ("79.5%", not "79.5% com…"): words go first."""
    from PySide6.QtGui import QFont, QFontMetrics

    from flowdesk.core import formatting
    from flowdesk.ui.widgets.flow_list import TEXT_INSET, subtitle_for_width

    window = make_window(demo_db_path)
    window.resize(1024, 700)
    wait_idle(qtbot, window)
    window.splitter.setSizes([0, 1024])  # as narrow as it goes
    qtbot.wait(20)
    _assert_fits(qtbot, window, QSize(1024, 700), "a narrow flows list")
    view = window.flows.view
    width = view.viewport().width() - TEXT_INSET
    assert width < 200
    font = view.font()
    bold = QFont(font)
    bold.setBold(True)
    metrics, bold_metrics = QFontMetrics(font), QFontMetrics(bold)
    model = window.flows.model
    cut_before = 0
    for row in range(model.rowCount()):
        flow = model.flow_at(row)
        full = model.data(model.index(row, 0), Qt.ItemDataRole.ToolTipRole)
        full_line = "↓ In · " + full.split(", ", 1)[1]
        cut_before += metrics.horizontalAdvance(full_line) > width
        mark, numbers = subtitle_for_width(flow, bold_metrics, metrics, width)
        used = bold_metrics.horizontalAdvance(mark + " ") + metrics.horizontalAdvance(numbers)
        assert used <= width, (flow.name, mark, numbers)
        assert formatting.share(flow.counters.completion_rate) in numbers
        assert formatting.count(flow.counters.contacts) in numbers
        assert "…" not in numbers
    assert cut_before  # the whole sentence would not fit: this width is the narrow case


def _tabs_all_in_view(tabs) -> bool:
    bar = tabs.tabBar()
    visible = [i for i in range(tabs.count()) if tabs.isTabVisible(i)]
    return all(bar.rect().contains(bar.tabRect(i)) for i in visible)


def test_flow_tabs_shorten_their_names_instead_of_scrolling(qtbot, make_window, demo, demo_db_path):
    """With the Downloads panel open at 1024×700 the six tabs did not fit: the last showed as
    "Ov" between scroll arrows. They now take short names there, and full names when there is
    room."""
    window = make_window(demo_db_path)
    window.resize(1024, 700)
    outbound = max(
        (f for f in list_flows(demo) if f.direction == "outbound"),
        key=lambda f: f.counters.contacts,
    )
    window.open_flow(outbound.id)
    _assert_fits(qtbot, window, QSize(1024, 700), "a flow")
    tabs = window.page.tabs
    assert not tabs.is_compact() and tabs.tabText(1) == "Messaging Flow &Executions"
    window.downloads.dock.show()
    _assert_fits(qtbot, window, QSize(1024, 700), "the Downloads panel")
    assert tabs.is_compact()
    assert [tabs.tabText(i).replace("&", "") for i in range(tabs.count())] == [
        "Contacts", "Executions", "Versions", "Viewer", "Compare", "Over time"]  # fmt: skip
    assert _tabs_all_in_view(tabs)
    assert "Outbound executions" in tabs.tabToolTip(1)  # the tooltip still says what it is
    window.downloads.dock.hide()
    _assert_fits(qtbot, window, QSize(1024, 700), "the panel closed")
    assert not tabs.is_compact() and _tabs_all_in_view(tabs)


def _shows_whole(label) -> bool:
    """The label's whole text is on screen: on one line, or wrapped onto as many as it needs."""
    if label.wordWrap():
        return label.height() >= label.heightForWidth(label.width())
    return label.fontMetrics().horizontalAdvance(label.text()) <= label.contentsRect().width()


@pytest.mark.parametrize("size", [QSize(1024, 700), QSize(1366, 768)])
def test_the_flow_header_never_cuts_the_flow_name(qtbot, make_window, demo, demo_db_path, size):
    """At 1024 wide the name elided to "Appointment re…" beside the scope selector; with the
    Downloads panel open it did at 1366 too. Scope and Download now move under the name, and a
    name longer than the header wraps."""
    long_name = "Recordatorio de citas — clínica dental Sonrisas, sucursal centro, turno de tarde"
    flows = list_flows(demo)
    with demo.conn:
        demo.conn.execute("UPDATE flows SET name = ? WHERE id = ?", (long_name, flows[-1].id))
    window = make_window(demo_db_path)
    window.resize(size)
    for downloads in (False, True):
        window.downloads.dock.setVisible(downloads)
        for flow in list_flows(demo):
            window.open_flow(flow.id)
            _assert_fits(qtbot, window, size, f"{flow.name}, Downloads {downloads}")
            title = window.page.title
            assert title.text() == flow.name
            assert _shows_whole(title), (flow.name, downloads, title.width())
            if flow.name != long_name:  # an ordinary name stays on one line
                assert title.height() < 2 * title.fontMetrics().height(), flow.name


def _columns_cut_at_the_edge(table) -> list[int]:
    header = table.horizontalHeader()
    visible = table.viewport().width()
    cut = []
    for column in range(table.model().columnCount()):
        if table.isColumnHidden(column):
            continue
        left = header.sectionViewportPosition(column)
        right = left + header.sectionSize(column)
        if left < visible < right:
            cut.append(column)
    return cut


@pytest.mark.parametrize(
    ("size", "downloads"),
    [(QSize(1024, 700), False), (QSize(1024, 700), True), (QSize(1366, 768), False)],
)
def test_the_contacts_table_ends_on_a_whole_column(
    qtbot, make_window, demo, demo_db_path, size, downloads
):
    """The flow page's Contacts table ended in a column cut at the window's edge ("Versi" at
    1024, "Last activ" at 1366). At 1366 every column now fits; at 1024 the columns in view are
    whole and the rest a scroll away; a cut cell's tooltip holds its whole text."""
    from flowdesk.ui.widgets.contacts_tab import cut_text

    window = make_window(demo_db_path)
    window.resize(size)
    flows = list_flows(demo)
    for flow in (
        max((f for f in flows if f.direction == "outbound"), key=lambda f: f.counters.contacts),
        max((f for f in flows if f.direction != "outbound"), key=lambda f: f.counters.contacts),
    ):
        window.open_flow(flow.id)
        _assert_fits(qtbot, window, size, flow.name)
        window.downloads.dock.setVisible(downloads)
        _assert_fits(qtbot, window, size, f"{flow.name}, Downloads {downloads}")
        table = window.page.contacts_tab.table
        assert _columns_cut_at_the_edge(table) == [], (flow.name, size)
        if size.width() >= 1366 and not downloads:
            assert table.horizontalScrollBar().maximum() == 0, flow.name
    # Cut text is whole in the tooltip; text that fits is not repeated.
    model = table.model()
    narrowest = min(range(1, 3), key=table.columnWidth)
    table.setColumnWidth(narrowest, 50)
    assert table.horizontalHeader().sectionSize(narrowest) == 50
    index = next(
        model.index(row, narrowest)
        for row in range(model.rowCount())
        if len(model.index(row, narrowest).data() or "") > 8
    )
    assert cut_text(table, index) == index.data()
    assert cut_text(table, model.index(index.row(), 0)) is None  # the phone is whole
    # A column sized by hand stays as the agent left it.
    window.resize(size.width() - 40, size.height())
    qtbot.wait(20)
    assert table.columnWidth(narrowest) == 50
