"""Several workspaces side by side: switching caches from the File menu, one window at a time."""

from __future__ import annotations

from flowdesk.core.db import connect, set_meta
from flowdesk.core.errors import UserError
from flowdesk.core.queries import list_flows
from flowdesk.core.workspace import source_for
from flowdesk.ui import main_window as main_window_module
from flowdesk.ui.workspaces import recent_workspaces, remember_workspace, workspace_name
from tests.ui.conftest import wait_idle


def test_opening_another_workspace_replaces_the_window(
    qtbot, make_window, demo_db_path, factory_db_path, settings
):
    first = make_window(factory_db_path)
    second = first.open_workspace(demo_db_path)
    assert second is not None and second is not first
    qtbot.addWidget(second)
    wait_idle(qtbot, second)
    assert not first.isVisible()
    assert second.db_path == demo_db_path
    demo_flows = {f.name for f in list_flows(connect(demo_db_path))}
    model = second.flows.model
    shown = {model.data(model.index(row, 0)) for row in range(model.rowCount())}
    assert any(name in text for name in demo_flows for text in shown if text)
    # Both files are remembered for the Recent menu, newest first.
    assert recent_workspaces(settings)[:2] == [demo_db_path.resolve(), factory_db_path.resolve()]
    second.shutdown()
    main_window_module._OPEN_WINDOWS.clear()


def test_a_workspace_is_listed_by_its_source_name(tmp_path, settings):
    path = tmp_path / "acme.db"
    db = connect(path)
    with db.conn:
        set_meta(db, "activecampaign", {"url": "https://acme.api-us1.com/api/3", "label": "acme"})
    db.conn.close()
    remember_workspace(settings, path)
    assert workspace_name(path) == "ActiveCampaign · acme"


def test_an_activecampaign_workspace_without_a_token_explains_itself(tmp_path, monkeypatch):
    monkeypatch.delenv("FLOWDESK_AC_TOKEN", raising=False)
    db = connect(tmp_path / "acme.db")
    with db.conn:
        set_meta(db, "source", {"kind": "activecampaign", "name": "ActiveCampaign · acme"})
        set_meta(db, "activecampaign", {"url": "https://acme.api-us1.com/api/3", "label": "acme"})
    try:
        source_for(db)
    except UserError as exc:
        assert "token" in str(exc).lower()
    else:
        raise AssertionError("a source without a token must not be built")


def test_sync_now_on_an_activecampaign_workspace_fills_it_from_the_api(
    qtbot, make_window, tmp_path, monkeypatch
):
    """The app's Sync now, end to end: the child process builds the workspace's source from the
    cache (URL) and the environment (token), pages through the API and fills the cache."""
    from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer

    with FakeACServer(FakeAccount(seed=4, runs=9)) as server:
        monkeypatch.setenv("FLOWDESK_AC_TOKEN", TOKEN)  # inherited by the sync's process
        path = tmp_path / "acme.db"
        db = connect(path)
        with db.conn:
            set_meta(db, "source", {"kind": "activecampaign", "name": "ActiveCampaign · acme"})
            set_meta(db, "activecampaign", {"url": server.base_url, "label": "acme"})
        db.conn.close()
        window = make_window(path)
        assert window.flows.model.rowCount() == 0
        shown = []  # the flows list as each reload found it
        load_flows = window.load_flows

        def counting_load_flows(*args, **kwargs):
            load_flows(*args, **kwargs)
            shown.append(window.flows.model.rowCount())

        monkeypatch.setattr(window, "load_flows", counting_load_flows)
        window.sync_action.trigger()
        qtbot.waitUntil(lambda: not window.is_syncing(), timeout=60_000)
        wait_idle(qtbot, window)
        assert window.statusBar().currentMessage() == "Sync finished: 9 runs changed."
        # The report is shown as soon as it is whole, before the paths are read; then again
        # at the end.
        assert len(shown) == 2 and shown[0] > 0
        flows = list_flows(connect(path))
        assert flows and sum(flow.counters.contacts for flow in flows) == 9
        assert window.flows.model.rowCount() == len(flows)
        server.settle()
