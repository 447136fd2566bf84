"""Tables of a version comparison: the list of step changes beside the diff graph, and the
per-step reach and loss shares ("where it changed")."""

from __future__ import annotations

from flowdesk.core import formatting
from flowdesk.core.compare import StepChange, StepShift
from flowdesk.core.compare.verdict import short_label, signed_points
from flowdesk.ui.models.records import Column, RecordTableModel

CHANGE_WORDS = {"added": "Added", "changed": "Changed", "removed": "Removed", "same": "Same"}


def change_summary(change: StepChange, a_label: str, b_label: str) -> str:
    if change.status == "added":
        return f"new in {b_label}"
    if change.status == "removed":
        return f"not in {b_label}"
    return "; ".join(change.changes) or "no change"


class StepChangesModel(RecordTableModel[StepChange]):
    """Added, changed and removed steps, in that order (unchanged steps are left out)."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.labels = ("A", "B")
        self.columns = [
            Column("Change", lambda c: CHANGE_WORDS[c.status]),
            Column("Step", lambda c: c.step.name, lambda c: f"Step id {c.step.id}"),
            Column("What changed", self._summary, self._summary),
        ]

    def _summary(self, change: StepChange) -> str:
        return change_summary(change, *self.labels)

    def set_changes(self, changes: list[StepChange], a_label: str, b_label: str) -> None:
        self.labels = (a_label, b_label)
        order = {"added": 0, "changed": 1, "removed": 2}
        self.set_records(
            sorted((c for c in changes if c.status in order), key=lambda c: order[c.status])
        )


def _share_column(title: str, get, tip: str) -> Column[StepShift]:  # noqa: ANN001
    return Column(
        title, lambda s: formatting.share(get(s)), sort_key=get, numeric=True, header_tip=tip
    )


def _change_column(title: str, get, tip: str) -> Column[StepShift]:  # noqa: ANN001
    return Column(
        title,
        lambda s: signed_points(get(s)),
        lambda s: None if get(s) is None else f"{signed_points(get(s))} percentage points",
        sort_key=lambda s: None if get(s) is None else abs(get(s)),
        numeric=True,
        header_tip=tip,
    )


class StepShiftsModel(RecordTableModel[StepShift]):
    """Each step's reach and loss share in both versions and the change, biggest first."""

    def __init__(self, parent=None) -> None:
        super().__init__(parent)
        self.columns = self._columns("A", "B")

    @staticmethod
    def _columns(a: str, b: str) -> list[Column[StepShift]]:
        reach = "Share of the version's contacts who reached the step"
        loss = "Share of the version's contacts whose run ended at the step expired, failed or"
        loss += " canceled"
        return [
            Column("Step", _step_name, lambda s: CHANGE_WORDS.get(s.status, s.status)),
            _share_column(f"Reached · {a}", lambda s: s.a_reach, reach),
            _share_column(f"Reached · {b}", lambda s: s.b_reach, reach),
            _change_column("Δ reached (pts)", lambda s: s.reach_change, f"{b} − {a}"),
            _share_column(f"Lost · {a}", lambda s: s.a_loss, loss),
            _share_column(f"Lost · {b}", lambda s: s.b_loss, loss),
            _change_column("Δ lost (pts)", lambda s: s.loss_change, f"{b} − {a}"),
        ]

    def set_shifts(self, shifts: list[StepShift], a_label: str, b_label: str) -> None:
        a, b = short_label(a_label), short_label(b_label)
        if a == b:
            a, b = a_label, b_label
        self.beginResetModel()
        self.columns = self._columns(_short(a), _short(b))
        self._records = list(shifts)
        self.endResetModel()


def _step_name(shift: StepShift) -> str:
    """A step in one version only says which: "AI order assistant (added)"."""
    if shift.status in ("added", "removed"):
        return f"{shift.name} ({shift.status})"
    return shift.name


def _short(text: str, limit: int = 14) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
