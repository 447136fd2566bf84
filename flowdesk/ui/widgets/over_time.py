"""Over time: runs entered per day (or week) split by their outcome, and the completion and
response rates of each day's entries, so a lead sees when a change made things worse."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from flowdesk.core import formatting
from flowdesk.core.model import METRIC_LABELS
from flowdesk.core.queries import Counters
from flowdesk.core.step_report import EntryDay
from flowdesk.ui.theme import series_color, static_chart, status_color, style_chart_axes
from flowdesk.ui.widgets.empty_state import EmptyState

DAY = 86_400
# Stacked bottom to top: the good outcome at the base, still-running above, losses on top.
STACK = ("completed", "ongoing", "expired", "canceled", "failed")


@dataclass(frozen=True, slots=True)
class Period:
    start: int  # epoch seconds, UTC midnight
    days: int
    counters: Counters


def periods(days: list[EntryDay], weekly: bool) -> list[Period]:
    """Days as they are, or added up into weeks starting on Monday (UTC)."""
    if not weekly:
        return [Period(d.start, 1, d.counters) for d in days]
    weeks: dict[int, list[int]] = {}
    for day in days:
        monday = day.day - (day.day + 3) % 7  # 1970-01-01 was a Thursday
        totals = weeks.setdefault(monday, [0] * 8)
        for i, value in enumerate(_values(day.counters)):
            totals[i] += value
    return [Period(monday * DAY, 7, Counters(*totals)) for monday, totals in sorted(weeks.items())]


def _values(c: Counters) -> tuple[int, ...]:
    return (
        c.contacts,
        c.expired,
        c.ongoing,
        c.canceled,
        c.failed,
        c.completed,
        c.waited,
        c.responded,
    )


def describe(period: Period) -> str:

    c = period.counters
    when = formatting.moment(period.start, seconds=False).rsplit(",", 1)[0]
    if period.days > 1:
        when = f"week of {when}"
    parts = ", ".join(
        f"{METRIC_LABELS[m].lower()} {formatting.count(getattr(c, m))}"
        for m in STACK
        if getattr(c, m)
    )
    return (
        f"{when} (UTC): {formatting.count(c.contacts)} entered — {parts}; completion"
        f" {formatting.share(c.completion_rate)}, response {formatting.share(c.response_rate)}"
    )


class OverTimeTab(QWidget):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Over time")
        self.days: list[EntryDay] = []
        self.shown: list[Period] = []
        self._plots = None
        self.grouping = QComboBox(self)
        self.grouping.setAccessibleName("Group entries by")
        self.grouping.addItem("Per day", False)
        self.grouping.addItem("Per week", True)
        self.title = QLabel(" ")
        self.title.setTextFormat(Qt.TextFormat.RichText)
        self.title.setWordWrap(True)
        self.readout = QLabel("Hover the chart for a day's numbers.")
        self.readout.setAccessibleName("Chart value under the pointer")
        self.readout.setWordWrap(True)
        self.empty = EmptyState(
            "Nobody entered in this scope yet", "Run “Sync now” (F5) to fetch contacts.", self
        )
        self.holder = QWidget(self)
        QVBoxLayout(self.holder).setContentsMargins(0, 0, 0, 0)
        bar = QHBoxLayout()
        bar.setContentsMargins(0, 0, 0, 0)
        bar.addWidget(self.title, 1)
        bar.addWidget(self.grouping)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 6, 0, 0)
        layout.addLayout(bar)
        layout.addWidget(self.holder, 1)
        layout.addWidget(self.empty, 1)
        layout.addWidget(self.readout)
        self.empty.hide()
        self.grouping.activated.connect(lambda _i: self._draw())

    def set_days(self, days: list[EntryDay]) -> None:
        self.days = list(days)
        self._draw()

    def _build(self):  # noqa: ANN202
        """Built on first use: importing pyqtgraph costs ~0.4 s."""
        import pyqtgraph as pg

        layout = pg.GraphicsLayoutWidget(self.holder)
        layout.setAccessibleName("Entries and rates by entry day")
        counts = layout.addPlot(row=0, col=0, axisItems={"bottom": pg.DateAxisItem()})
        rates = layout.addPlot(row=1, col=0, axisItems={"bottom": pg.DateAxisItem()})
        rates.setXLink(counts)
        for plot in (counts, rates):
            static_chart(plot)
        counts.setLabel("left", "contacts entered")
        rates.setLabel("left", "% of the day's entries")
        layout.ci.layout.setRowStretchFactor(0, 3)
        layout.ci.layout.setRowStretchFactor(1, 2)
        self.holder.layout().addWidget(layout)
        layout.scene().sigMouseMoved.connect(self._on_move)
        self._plots = (pg, layout, counts, rates)
        return self._plots

    def _draw(self) -> None:
        if not self.days:
            self.holder.hide()
            self.empty.show()
            self.title.setText(" ")
            self.readout.setText(" ")
            return
        self.empty.hide()
        self.holder.show()
        pg, layout, counts, rates = self._plots or self._build()
        palette = self.palette()
        layout.setBackground(palette.color(QPalette.ColorRole.Base))
        for plot in (counts, rates):
            plot.clear()
            style_chart_axes(plot, palette)
        weekly = bool(self.grouping.currentData())
        self.shown = shown = periods(self.days, weekly)
        width = (7 if weekly else 1) * DAY * 0.8
        xs = [p.start + p.days * DAY / 2 for p in shown]
        base = [0.0] * len(shown)
        legend = []
        for metric in STACK:
            heights = [float(getattr(p.counters, metric)) for p in shown]
            if not any(heights):
                continue
            color = status_color(metric, palette)
            counts.addItem(
                pg.BarGraphItem(
                    x=xs,
                    y0=list(base),
                    height=heights,
                    width=width,
                    brush=pg.mkBrush(color),
                    pen=pg.mkPen(None),
                )
            )
            base = [b + h for b, h in zip(base, heights, strict=True)]
            legend.append(f"<span style='color:{color.name()}'>■</span> {METRIC_LABELS[metric]}")
        for name, attribute in (("completion", "completion_rate"), ("response", "response_rate")):
            points = [
                (x, getattr(p.counters, attribute) * 100)
                for x, p in zip(xs, shown, strict=True)
                if getattr(p.counters, attribute) is not None
            ]
            if points:
                color = series_color(name, palette)
                px, py = zip(*points, strict=True)
                rates.plot(
                    list(px),
                    list(py),
                    pen=pg.mkPen(color, width=2.2),
                    symbol="o",
                    symbolSize=5,
                    symbolBrush=color,
                    symbolPen=None,
                )
                legend.append(f"<span style='color:{color.name()}'>●━</span> {name.title()} rate")
        rates.setYRange(0, 100, padding=0.02)
        span = (shown[0].start, shown[-1].start + shown[-1].days * DAY)
        counts.setXRange(*span, padding=0.01)
        self.title.setText(
            "<b>Contacts entered per " + ("week" if weekly else "day") + "</b> by their outcome,"
            " and the rates of each "
            + ("week's" if weekly else "day's")
            + " entries &nbsp; "
            + " &nbsp; ".join(legend)
        )
        self.readout.setText(
            "Hover the chart for a " + ("week's" if weekly else "day's") + " numbers."
        )

    def period_at(self, x: float) -> Period | None:
        for period in self.shown:
            if period.start <= x < period.start + period.days * DAY:
                return period
        return None

    def _on_move(self, position) -> None:  # noqa: ANN001
        if self._plots is None:
            return
        _pg, _layout, counts, rates = self._plots
        for plot in (counts, rates):
            if plot.sceneBoundingRect().contains(position):
                period = self.period_at(plot.vb.mapSceneToView(position).x())
                if period is not None:
                    self.readout.setText(describe(period))
                return
