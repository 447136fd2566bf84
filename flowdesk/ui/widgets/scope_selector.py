"""Scope selector: All versions, one version, or one execution of the current flow."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QWidget

from flowdesk.core import formatting
from flowdesk.core.queries import ExecutionInfo, Scope, VersionInfo
from flowdesk.ui.models.history import execution_how, execution_labels, version_label


class ScopeSelector(QComboBox):
    """Emits ``scopeChanged(Scope)`` when the user picks an entry (not on ``set_scope``)."""

    scopeChanged = Signal(object)  # noqa: N815

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setAccessibleName("Scope")
        self.setToolTip("Re-scope the whole page: all versions, one version or one execution")
        self.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToContents)
        self.setMinimumContentsLength(14)  # squeezed, the selector still names the scope
        self._flow_id = ""
        self._updating = False
        self.activated.connect(self._on_activated)

    def set_options(
        self, flow_id: str, versions: list[VersionInfo], executions: list[ExecutionInfo]
    ) -> None:
        self._updating = True
        self._flow_id = flow_id
        self.clear()
        self.addItem("All versions", Scope(flow_id))
        if versions:
            self.insertSeparator(self.count())
        for version in reversed(versions):  # newest first
            current = " (current)" if version.is_current else ""
            self.addItem(
                f"Version: {version_label(version)}{current} · "
                f"{formatting.count(version.counters.contacts)}",
                Scope(flow_id, version.id),
            )
        if executions:
            self.insertSeparator(self.count())
        labels = execution_labels(executions)
        for execution in executions:
            self.addItem(
                f"Execution {labels[execution.id]} · {execution_how(execution)} · "
                f"{formatting.count(execution.counters.contacts)}",
                Scope(flow_id, execution.version_id, execution.id),
            )
        self._updating = False

    def scopes(self) -> list[Scope]:
        return [self.itemData(i) for i in range(self.count()) if self.itemData(i) is not None]

    def set_scope(self, scope: Scope) -> None:
        self._updating = True
        for i in range(self.count()):
            data = self.itemData(i)
            if data is None:
                continue
            if data.execution_id == scope.execution_id and (
                scope.execution_id or data.version_id == scope.version_id
            ):
                self.setCurrentIndex(i)
                break
        self._updating = False

    def _on_activated(self, index: int) -> None:
        if self._updating:
            return
        scope = self.itemData(index)
        if scope is not None:
            self.scopeChanged.emit(scope)
