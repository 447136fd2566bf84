"""Every model of the app passes QAbstractItemModelTester, before and after it is (re)filled."""

from __future__ import annotations

from PySide6.QtCore import QAbstractListModel, Qt
from PySide6.QtTest import QAbstractItemModelTester

from flowdesk.core.queries import ContactQuery, Scope, list_executions, list_flows, list_versions
from flowdesk.ui.models import ContactsModel, ExecutionsModel, FlowListModel, VersionsModel

FAIL = QAbstractItemModelTester.FailureReportingMode.Fatal


def _touch_all(model) -> None:
    for row in range(model.rowCount()):
        columns = 1 if isinstance(model, QAbstractListModel) else model.columnCount()
        for column in range(columns):
            index = model.index(row, column)
            for role in (
                Qt.ItemDataRole.DisplayRole,
                Qt.ItemDataRole.ToolTipRole,
                Qt.ItemDataRole.DecorationRole,
                Qt.ItemDataRole.ForegroundRole,
                Qt.ItemDataRole.FontRole,
                Qt.ItemDataRole.TextAlignmentRole,
            ):
                model.data(index, role)


def test_flow_list_model(qtbot, demo):
    model = FlowListModel()
    QAbstractItemModelTester(model, FAIL)
    flows = list_flows(demo)
    model.set_flows(flows)
    assert model.rowCount() == len(flows) == 8
    assert model.index(0, 0).data() == flows[0].name
    assert "contacts" in model.index(0, 0).data(Qt.ItemDataRole.ToolTipRole)
    model.set_flows(flows[:3])
    _touch_all(model)
    assert model.row_of(flows[2].id) == 2


def test_versions_and_executions_models(qtbot, demo):
    outbound = next(f for f in list_flows(demo) if f.direction == "outbound")
    versions = VersionsModel()
    executions = ExecutionsModel()
    QAbstractItemModelTester(versions, FAIL)
    QAbstractItemModelTester(executions, FAIL)
    versions.set_records(list_versions(demo, outbound.id))
    executions.set_records(list_executions(demo, outbound.id))
    assert versions.rowCount() >= 1 and executions.rowCount() >= 1
    _touch_all(versions)
    _touch_all(executions)
    for column in range(versions.columnCount()):
        versions.sort(column, Qt.SortOrder.DescendingOrder)
    for column in range(executions.columnCount()):
        executions.sort(column, Qt.SortOrder.AscendingOrder)
    # numbers are formatted with separators and shares as percentages
    contacts_col = [
        versions.headerData(c, Qt.Orientation.Horizontal) for c in range(versions.columnCount())
    ].index("Contacts")
    first = versions.record_at(0)
    assert versions.index(0, contacts_col).data() == f"{first.counters.contacts:,}"
    assert versions.index(0, versions.columnCount() - 2).data().endswith("%")
    assert executions.index(0, 0).data().startswith("Execution #")


def test_contacts_model_under_the_tester(qtbot, demo, tasks):
    flow = max(list_flows(demo), key=lambda f: f.counters.contacts)
    model = ContactsModel(tasks)
    QAbstractItemModelTester(model, FAIL)
    with qtbot.waitSignal(model.queryLoaded, timeout=10000):
        model.set_query(ContactQuery(Scope(flow.id)))
    assert model.rowCount() == flow.counters.contacts
    _touch_all(model)
    qtbot.waitUntil(lambda: model.pending_pages() == 0, timeout=10000)
    for metric in ("failed", "completed", None):
        with qtbot.waitSignal(model.queryLoaded, timeout=10000):
            model.set_query(ContactQuery(Scope(flow.id), metric=metric))
        _touch_all(model)
    with qtbot.waitSignal(model.queryLoaded, timeout=10000):
        model.refresh()
    model.sort(1, Qt.SortOrder.AscendingOrder)
    qtbot.waitUntil(lambda: not model.is_loading(), timeout=10000)
    with qtbot.waitSignal(model.countChanged, timeout=1000):
        model.set_query(None)
    assert model.rowCount() == 0


def test_contact_filters_read_as_words_not_json(demo):
    from flowdesk.ui.models.history import describe_filters, execution_how_detail

    executions = [
        e
        for flow in list_flows(demo)
        for e in list_executions(demo, flow.id)
        if e.method == "filter" and e.contact_filters not in (None, "", "[]")
    ]
    assert executions
    for execution in executions:
        text = execution_how_detail(execution)
        assert text.startswith("Contacts where ")
        assert not any(ch in text for ch in '{}[]"')
    assert describe_filters(
        [
            {"field": "last_order_date", "comparison": "gte", "value": "{{today-30d}}"},
            {"field": "tags", "comparison": "!icontains", "value": "opt_out"},
            {"field": "country", "comparison": "!exact", "value": "JP"},
            {"field": "signup_date", "comparison": "lt", "value": "2026-05-01"},
            {"field": "marketing_opt_in", "comparison": "exact", "value": "true"},
            {"field": "phone", "comparison": "!isnull", "value": ""},
        ]
    ) == (
        "last order date is on or after 30 days ago and tags does not contain “opt_out” and"
        " country is not “JP” and signup date is before 2026-05-01 and marketing opt in is yes"
        " and phone is set"
    )


def test_words_an_agent_reads(demo):
    from dataclasses import replace

    from flowdesk.ui.models.flows import flow_subtitle
    from flowdesk.ui.models.history import execution_state
    from flowdesk.ui.viewer.style import type_label

    assert type_label("AI_AGENT") == "AI agent"
    assert type_label("GO_TO_FLOW") == "Go to flow"
    flow = list_flows(demo)[0]
    one = replace(flow, counters=replace(flow.counters, contacts=1))
    assert flow_subtitle(one).startswith("1 contact · ")
    execution = next(e for f in list_flows(demo) for e in list_executions(demo, f.id))
    sending_done = replace(
        execution, status="COMPLETED", counters=replace(execution.counters, ongoing=312)
    )
    assert execution_state(sending_done) == "Sending completed; 312 contacts still ongoing"
    finished = replace(sending_done, counters=replace(execution.counters, ongoing=0))
    assert execution_state(finished) == "Completed"
