"""What to export: a scope (flow, version, execution) or a Contacts-tab filter, and a format."""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any

from flowdesk.core.queries import ContactQuery, Scope

FORMATS = ("csv", "xlsx")


@dataclass(frozen=True, slots=True)
class ExportSpec:
    """Everything an export needs besides the destination; stored as JSON in the jobs table.

    ``contacts`` marks an export started from the Contacts tab: ``metric``, ``search`` and
    ``hide_test`` then carry that tab's filter and the rows are exactly the tab's rows (through
    the same SQL filter, :func:`flowdesk.core.queries._where`). ``local_time`` writes times in
    the machine's zone, as the app shows them, instead of UTC.
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
        )

    @property
    def scope(self) -> Scope:
        return Scope(self.flow_id, self.version_id, self.execution_id)

    @property
    def extension(self) -> str:
        return "." + self.format

    def contact_query(self) -> ContactQuery:
        return ContactQuery(
            self.scope, metric=self.metric, search=self.search, hide_test=self.hide_test
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
