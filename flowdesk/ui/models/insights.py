"""Tables of the "Where runs stop" panel: steps that lose most, why, and how long per step.

Only their columns live here: each table is a ``RecordTableModel`` given these columns, so the
three share the other record tables' implementation (and its model test).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from flowdesk.core import formatting
from flowdesk.core.model import METRIC_LABELS
from flowdesk.core.step_report import StepOutcome
from flowdesk.ui.models.records import Column
from flowdesk.ui.theme import status_dot
from flowdesk.ui.viewer.stops import time_text


def _column(
    title: str,
    text: Callable[[Any], str],
    numeric: bool = False,
    tip: str = "",
    icon: Callable[[Any], Any] | None = None,
) -> Column:
    """A column whose cells are their own tooltip: step names and reasons elide when long."""
    return Column(title, text, text, numeric=numeric, header_tip=tip, icon=icon)


def lost_breakdown(step: StepOutcome) -> str:
    return " · ".join(
        f"{formatting.count(step.ended.get(m, 0))} {m}"
        for m in ("expired", "canceled", "failed")
        if step.ended.get(m, 0)
    )


LOSS_COLUMNS = (
    _column("Step", lambda s: s.name or s.id),
    _column("Lost", lambda s: formatting.count(s.lost), True, "Expired + canceled + failed here"),
    _column("How", lost_breakdown, tip="Expired, canceled and failed here"),
    _column(
        "% of arrivals",
        lambda s: formatting.share(s.lost_share),
        True,
        "Lost here ÷ contacts who reached the step",
    ),
    _column(
        "Waiting", lambda s: formatting.count(s.waiting), True, "Ongoing runs whose last step it is"
    ),
    _column(
        "Overdue",
        lambda s: formatting.count(s.overdue) if s.wait_seconds else "—",
        True,
        "Waiting longer than the step's wait time and still not expired upstream",
    ),
)

REASON_COLUMNS = (
    _column("Step", lambda r: r.step_name),
    _column(
        "Outcome",
        lambda r: str(METRIC_LABELS.get(r.metric, r.metric)),
        icon=lambda r: status_dot(r.metric),
    ),
    _column("Reason", lambda r: r.reason),
    _column("Contacts", lambda r: formatting.count(r.runs), True),
)


@dataclass(frozen=True, slots=True)
class TimeRow:
    """One line of the "How long" table: a step, or the whole flow (``step`` None)."""

    label: str
    passes: int
    p50: float | None
    p90: float | None
    step: StepOutcome | None = None


def time_rows(outcomes: Sequence[StepOutcome], completion: TimeRow | None) -> list[TimeRow]:
    rows = [completion] if completion is not None else []
    rows += [
        TimeRow(s.name or s.id, s.timed, s.time_p50, s.time_p90, s) for s in outcomes if s.timed
    ]
    return rows


TIME_COLUMNS = (
    _column("Step", lambda t: t.label),
    _column(
        "Passes",
        lambda t: formatting.count(t.passes),
        True,
        "Passes with a time (replies only, for steps that wait for one)",
    ),
    _column("Median", lambda t: time_text(t.p50), True, "Approximate to ±19% (time buckets)"),
    _column("90th pct.", lambda t: time_text(t.p90), True, "Approximate to ±19% (time buckets)"),
)
