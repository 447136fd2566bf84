"""Layouts and labels that give way on a narrow window instead of widening it.

The window must fit a 1024×700 screen with the flows list, a trace and the Downloads panel all
open. Rows of controls therefore wrap onto more lines (:class:`ReflowLayout`) and one-line texts
that may be long (a flow's name, the cache path) elide with "…" and keep the whole text in
their tooltip (:class:`ElidedLabel`), so a minimum width is the widest single item, not the sum.
Tabs take shorter names rather than hide behind scroll arrows (:class:`CompactTabs`), and
tables end on a whole column (:func:`fit_widths`).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QPoint, QRect, QSize, Qt
from PySide6.QtGui import QPainter, QPaintEvent, QResizeEvent
from PySide6.QtWidgets import QLabel, QLayout, QLayoutItem, QSizePolicy, QTabWidget, QWidget


class ReflowLayout(QLayout):
    """Items left to right, wrapping onto a new line when the next does not fit.

    An item that grows (a horizontal stretch, like a search box) takes the rest of its line; a
    word-wrapping label on a line of its own gets the whole width and the height it needs.
    """

    def __init__(self, parent: QWidget | None = None, spacing: int = 8) -> None:
        super().__init__(parent)
        self._items: list[QLayoutItem] = []
        self._spacing = spacing
        self.setContentsMargins(0, 0, 0, 0)

    # -- QLayout ------------------------------------------------------------------------------

    def addItem(self, item: QLayoutItem) -> None:
        self._items.append(item)

    def count(self) -> int:
        return len(self._items)

    def itemAt(self, index: int) -> QLayoutItem | None:
        return self._items[index] if 0 <= index < len(self._items) else None

    def takeAt(self, index: int) -> QLayoutItem | None:
        return self._items.pop(index) if 0 <= index < len(self._items) else None

    def expandingDirections(self) -> Qt.Orientation:
        return Qt.Orientation.Horizontal

    def hasHeightForWidth(self) -> bool:
        return True

    def heightForWidth(self, width: int) -> int:
        return self._arrange(QRect(0, 0, width, 0), apply=False)

    def setGeometry(self, rect: QRect) -> None:
        super().setGeometry(rect)
        self._arrange(rect, apply=True)

    def sizeHint(self) -> QSize:
        visible = self._visible()
        width = sum(item.sizeHint().width() for item in visible)
        width += self._spacing * max(0, len(visible) - 1)
        height = max((item.sizeHint().height() for item in visible), default=0)
        margins = self.contentsMargins()
        return QSize(
            width + margins.left() + margins.right(), height + margins.top() + margins.bottom()
        )

    def minimumSize(self) -> QSize:
        size = QSize(0, 0)
        for item in self._visible():
            size = size.expandedTo(item.minimumSize())
        margins = self.contentsMargins()
        return size + QSize(margins.left() + margins.right(), margins.top() + margins.bottom())

    # -- placement ----------------------------------------------------------------------------

    def _visible(self) -> list[QLayoutItem]:
        return [item for item in self._items if not item.isEmpty()]

    def _lines(self, width: int) -> list[list[QLayoutItem]]:
        lines: list[list[QLayoutItem]] = [[]]
        used = 0
        for item in self._visible():
            wanted = min(item.sizeHint().width(), width)
            wanted = max(wanted, item.minimumSize().width())
            if lines[-1] and used + self._spacing + wanted > width:
                lines.append([])
                used = 0
            used += (self._spacing if lines[-1] else 0) + wanted
            lines[-1].append(item)
        return [line for line in lines if line]

    def _arrange(self, rect: QRect, apply: bool) -> int:
        margins = self.contentsMargins()
        area = rect.adjusted(margins.left(), margins.top(), -margins.right(), -margins.bottom())
        y = area.y()
        for line in self._lines(area.width()):
            widths = [
                max(min(item.sizeHint().width(), area.width()), item.minimumSize().width())
                for item in line
            ]
            spare = area.width() - sum(widths) - self._spacing * (len(line) - 1)
            growing = [
                i
                for i, item in enumerate(line)
                if item.expandingDirections() & Qt.Orientation.Horizontal
            ]
            if spare > 0 and growing:
                share, extra = divmod(spare, len(growing))
                for n, i in enumerate(growing):
                    widths[i] += share + (1 if n < extra else 0)
            heights = [
                item.heightForWidth(w) if item.hasHeightForWidth() else item.sizeHint().height()
                for item, w in zip(line, widths, strict=True)
            ]
            line_height = max(heights)
            x = area.x()
            for item, w, h in zip(line, widths, heights, strict=True):
                if apply:
                    top = y + (line_height - h) // 2 if h < line_height else y
                    item.setGeometry(QRect(QPoint(x, top), QSize(w, h)))
                x += w + self._spacing
            y += line_height + self._spacing
        return max(0, y - self._spacing - area.y()) + margins.top() + margins.bottom()


class ElidedLabel(QLabel):
    """One line of plain text that elides ("…") when squeezed, with the whole text in its
    tooltip; its minimum width is a few characters, not the text."""

    def __init__(
        self,
        text: str = "",
        parent: QWidget | None = None,
        mode: Qt.TextElideMode = Qt.TextElideMode.ElideRight,
    ) -> None:
        super().__init__(text, parent)
        self._mode = mode
        self.setSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Fixed)

    def minimumSizeHint(self) -> QSize:
        hint = super().minimumSizeHint()
        return QSize(
            min(hint.width(), self.fontMetrics().horizontalAdvance("M" * 6)), hint.height()
        )

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        rect = self.contentsRect()
        text = self.fontMetrics().elidedText(self.text(), self._mode, rect.width())
        painter.setPen(self.palette().color(self.foregroundRole()))
        painter.drawText(rect, int(self.alignment() | Qt.AlignmentFlag.AlignVCenter), text)
        painter.end()

    def is_elided(self) -> bool:
        return self.fontMetrics().horizontalAdvance(self.text()) > self.contentsRect().width()


class WrappingLabel(QLabel):
    """Plain text on one line when it fits, wrapped onto more lines when it does not: never cut.
    (A plain word-wrapping label asks for a narrow width and wraps even when there is room.)"""

    def __init__(self, text: str = "", parent: QWidget | None = None) -> None:
        super().__init__(text, parent)
        self.setTextFormat(Qt.TextFormat.PlainText)
        self.setWordWrap(True)
        policy = QSizePolicy(QSizePolicy.Policy.Preferred, QSizePolicy.Policy.Preferred)
        policy.setHeightForWidth(True)
        self.setSizePolicy(policy)

    def sizeHint(self) -> QSize:
        margins = self.contentsMargins()
        width = self.fontMetrics().horizontalAdvance(self.text()) + 2 * self.margin() + 2
        width += margins.left() + margins.right()
        return QSize(width, self.heightForWidth(width))


class CompactTabs(QTabWidget):
    """Tabs whose labels shorten ("Messaging Flow Executions" → "Executions") when the full ones
    do not fit, instead of hiding the last tabs behind scroll arrows ("Ov◂▸"). Give each tab its
    short label with :meth:`add_tab`; the tooltips keep saying what each tab is."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._labels: list[tuple[str, str]] = []
        self._short = False

    def add_tab(self, widget: QWidget, label: str, short: str | None = None) -> int:
        index = self.addTab(widget, label)
        self._labels.insert(index, (label, short or label))
        self.setTabText(index, self._labels[index][1] if self._short else label)
        self.refit()
        return index

    def is_compact(self) -> bool:
        return self._short

    def refit(self) -> None:
        """Choose full or short labels for the width the tab bar has now (call after showing or
        hiding a tab)."""
        corners = sum(
            corner.sizeHint().width()
            for corner in (
                self.cornerWidget(Qt.Corner.TopLeftCorner),
                self.cornerWidget(Qt.Corner.TopRightCorner),
            )
            if corner is not None and corner.isVisible()
        )
        short = self._labels_width(full=True) > self.width() - corners
        if short == self._short:
            return
        self._short = short
        for index, (full, brief) in enumerate(self._labels):
            self.setTabText(index, brief if short else full)

    def _labels_width(self, full: bool) -> int:
        """The tab bar's width with the full (or short) labels, from the tabs' current sizes."""
        bar = self.tabBar()
        metrics = bar.fontMetrics()
        total = 0
        for index, (long_label, brief) in enumerate(self._labels):
            if not self.isTabVisible(index):
                continue
            shown = brief if self._short else long_label
            wanted = long_label if full else brief
            total += (
                bar.tabSizeHint(index).width()
                - metrics.horizontalAdvance(shown.replace("&", ""))
                + metrics.horizontalAdvance(wanted.replace("&", ""))
            )
        return total

    def resizeEvent(self, event: QResizeEvent) -> None:
        super().resizeEvent(event)
        self.refit()


def fit_widths(
    preferred: Sequence[int],
    least: Sequence[int],
    available: int,
    *,
    shrink_first: Sequence[int] | None = None,
    grow: int | None = None,
) -> list[int]:
    """Column widths for a table ``available`` pixels wide: as many columns as fit whole from
    the left (narrowing the ones that may narrow, as little as needed), the last of those
    ending at the edge, so no column shows cut in half; the rest keep their preferred widths
    and are a horizontal scroll away. All of them fit: the preferred widths.

    ``shrink_first``: the order columns give up width in (default: rightmost first).
    ``grow``: the column that takes the room left, also when every column fits, so the last
    column ends at the edge (default: the widest shrinkable column in view, and a table that
    stretches its last column itself). A hidden column is one of width 0."""
    widths = list(preferred)
    if sum(preferred) <= available:
        if grow is not None:
            widths[grow] += available - sum(preferred)
        return widths
    shown = 1
    while shown < len(preferred) and sum(least[: shown + 1]) <= available:
        shown += 1
    excess = sum(widths[:shown]) - available
    order = [i for i in (shrink_first or reversed(range(shown))) if i < shown]
    order += [i for i in reversed(range(shown)) if i not in order]
    for index in order:
        if excess <= 0:
            break
        give = min(excess, widths[index] - least[index])
        widths[index] -= give
        excess -= give
    if excess < 0:  # room left: a column in view takes it
        if grow is None or grow >= shown:
            grow = max(range(shown), key=lambda i: (preferred[i] - least[i], -i))
        widths[grow] -= excess
    return widths
