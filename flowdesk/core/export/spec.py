"""What to export: a scope (flow, version, execution) or a Contacts-tab filter, and a format."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from flowdesk.core.queries import ContactQuery, Scope, StepFilter

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """Everything an export needs besides the destination; stored as JSON in the jobs table.

    ``contacts`` marks an export started from the Contacts tab: ``metric``, ``search``,
    ``hide_test`` and ``step_*`` then carry that tab's filter and the rows are exactly the tab's
    rows (through the same SQL filter, :func:`flowdesk.core.queries._where`). ``local_time``
    writes times in the machine's zone, as the app shows them, instead of UTC.
    """

    flow_id: str
    version_id: str | None = None
    execution_id: str | None = None
    format: str = "csv"
    excel_bom: bool = False
    contacts: bool = False
    metric: str | None = None
    search: str = ""
    hide_test: bool = False
    local_time: bool = False
    # "Who went through": the Contacts tab's step filter (queries.StepFilter), flattened.
    step_key: int | None = None
    step_mode: str = "reached"
    step_target: int | None = None
    step_reason: str | None = None

    def __post_init__(self) -> None:
        if self.format not in FORMATS:
            raise ValueError(f"unknown export format {self.format!r} (csv or xlsx)")

    @classmethod
    def for_scope(cls, scope: Scope, format: str = "csv", excel_bom: bool = False) -> ExportSpec:
        """ "Download results" on a flow summary, a version or an execution."""
        return cls(scope.flow_id, scope.version_id, scope.execution_id, format, excel_bom)

    @classmethod
    def for_contacts(
        cls, query: ContactQuery, format: str = "csv", excel_bom: bool = False
    ) -> ExportSpec:
        """ "Download results" for the Contacts tab's current filter (its sort is not kept:
        files are in entry order)."""
        scope = query.scope
        return cls(
            scope.flow_id,
            scope.version_id,
            scope.execution_id,
            format,
            excel_bom,
            contacts=True,
            metric=query.metric or None,
            search=query.search.strip(),
            hide_test=query.hide_test,
            step_key=query.step.step_key if query.step else None,
            step_mode=query.step.mode if query.step else "reached",
            step_target=query.step.target_key if query.step else None,
            step_reason=query.step.reason if query.step else None,
        )

    @property
    def scope(self) -> Scope:
        return Scope(self.flow_id, self.version_id, self.execution_id)

    @property
    def extension(self) -> str:
        return "." + self.format

    def contact_query(self) -> ContactQuery:
        step = (
            None
            if self.step_key is None
            else StepFilter(self.step_key, self.step_mode, self.step_target, self.step_reason)
        )
        return ContactQuery(
            self.scope,
            metric=self.metric,
            search=self.search,
            hide_test=self.hide_test,
            step=step,
        )

    def with_format(self, format: str, excel_bom: bool = False) -> ExportSpec:
        return replace(self, format=format, excel_bom=excel_bom and format == "csv")

    def with_local_time(self, local_time: bool) -> ExportSpec:
        return replace(self, local_time=local_time)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ExportSpec:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in data.items() if k in known})
