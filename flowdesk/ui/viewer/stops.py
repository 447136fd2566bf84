"""The "Where runs stop" mode of the diagram: each step coloured by the share of its arrivals
lost there (expired, canceled or failed), with the runs that ended there by outcome, the runs
waiting there now and those overdue. Same cards and layout as the traffic heat: only texts,
colours and tooltips change, so switching modes costs no new layout."""

from __future__ import annotations

import html
import math

from PySide6.QtGui import QColor, QPalette

from flowdesk.core import formatting
from flowdesk.core.step_report import StepOutcome
from flowdesk.ui.viewer import style
from flowdesk.ui.viewer.items import NodeColors

# ColorBrewer "Oranges" (sequential, colour-blind safe, monotonic in lightness): more lost reads
# as darker and redder on either theme.
_LOSS_STOPS = (
    (0xFE, 0xE6, 0xCE),
    (0xFD, 0xD0, 0xA2),
    (0xFD, 0xAE, 0x6B),
    (0xFD, 0x8D, 0x3C),
    (0xF1, 0x69, 0x13),
    (0xD9, 0x48, 0x01),
    (0xA6, 0x36, 0x03),
    (0x7F, 0x27, 0x04),
)


def loss_color(t: float) -> QColor:
    """The colour at position ``t`` in [0, 1] of the loss scale."""
    t = min(1.0, max(0.0, t))
    scaled = t * (len(_LOSS_STOPS) - 1)
    index = min(int(scaled), len(_LOSS_STOPS) - 2)
    frac = scaled - index
    a, b = _LOSS_STOPS[index], _LOSS_STOPS[index + 1]
    return QColor(*(round(a[i] + (b[i] - a[i]) * frac) for i in range(3)))


class LossScale:
    """Share lost (0–100 %) → colour, on a square-root scale: a step losing 2 % and one losing
    20 % must both stand out from the steps losing nobody. Same interface as
    ``style.HeatScale`` for the legend bar."""

    low = 0
    high = 100  # percent

    @property
    def is_empty(self) -> bool:
        return False

    def position(self, share: float) -> float:
        return math.sqrt(min(1.0, max(0.0, share)))

    def color(self, share: float) -> QColor:
        return loss_color(self.position(share))

    def value_at(self, t: float) -> int:
        """The percentage shown at position ``t`` of the legend bar."""
        return round(100 * t * t)

    gradient = staticmethod(loss_color)

    @staticmethod
    def label(value: int) -> str:
        return f"{value}%"

    @staticmethod
    def describe(ticks: list[int]) -> str:
        return (
            "Step colour by the share of its arrivals lost there (expired, canceled or failed),"
            " from 0% (light) to 100% (dark red), square-root scale."
        )


def overdue_color(palette: QPalette) -> QColor:
    return style.status_color("failed", palette)


def node_texts(step: StepOutcome) -> tuple[str, str, str]:
    """(detail line, count line, right-hand note) of a card in this mode."""
    lost_parts = [
        f"{name} {formatting.count(step.ended.get(metric, 0))}"
        for metric, name in (("expired", "expired"), ("failed", "failed"), ("canceled", "canceled"))
        if step.ended.get(metric, 0)
    ]
    completed = step.ended.get("completed", 0)
    if lost_parts:
        detail = " \u00b7 ".join(lost_parts)
    elif completed:
        detail = f"completed here {formatting.count(completed)}"
    elif step.reached:
        detail = "nobody stopped here"
    else:
        detail = "not reached"
    counts = f"{formatting.count(step.lost)} lost"
    if step.lost_share is not None and step.lost:
        counts += f" \u00b7 {formatting.share(step.lost_share)}"
    note = ""
    if step.waiting:
        note = f"{formatting.count(step.waiting)} waiting"
    if step.overdue:
        note += f" \u00b7 \u26a0 {formatting.count(step.overdue)} overdue"
    return detail, counts, note


def node_colors(step: StepOutcome, palette: QPalette, scale: LossScale) -> NodeColors:
    if step.reached <= 0:
        base = palette.color(QPalette.ColorRole.Base)
        quiet = style.quiet_color(palette)
        return NodeColors(base, quiet, quiet, quiet, True)
    if not step.lost:
        fill = style.mix(palette.color(QPalette.ColorRole.Base), loss_color(0.0), 0.5)
    else:
        fill = scale.color(step.lost_share or 0.0)
    text = style.text_on(fill)
    border = overdue_color(palette) if step.overdue else fill.darker(140)
    return NodeColors(fill, border, text, style.mix(text, fill, 0.22), False)


def time_text(seconds: float | None) -> str:
    """A bucketed time, marked approximate."""
    return "\u2014" if seconds is None else f"\u2248 {formatting.duration(seconds)}"


def node_tooltip(step: StepOutcome) -> str:
    rows = [f"<b>{html.escape(step.name or step.id)}</b>"]
    rows.append(f"Reached: {formatting.count(step.reached)} contacts")
    share = f" ({formatting.share(step.lost_share)} of arrivals)" if step.lost else ""
    rows.append(f"Lost here: {formatting.count(step.lost)}{share}")
    rows.append(
        "Ended here: "
        + ", ".join(
            f"{name} {formatting.count(step.ended.get(metric, 0))}"
            for metric, name in (
                ("expired", "expired"),
                ("canceled", "canceled"),
                ("failed", "failed"),
                ("completed", "completed"),
            )
        )
    )
    rows.append(f"Waiting here now: {formatting.count(step.waiting)}")
    if step.wait_seconds:
        rows.append(
            f"Overdue: {formatting.count(step.overdue)} (waiting longer than"
            f" {formatting.duration(step.wait_seconds)} and still not expired upstream)"
        )
    if step.timed:
        what = "Reply time" if step.wait_seconds else "Time at step"
        rows.append(
            f"{what}: median {time_text(step.time_p50)}, 90th percentile"
            f" {time_text(step.time_p90)} ({formatting.count(step.timed)} passes)"
        )
    rows.append("<span style='color:gray'>Right-click: the contacts who went through</span>")
    return "<br>".join(rows)
