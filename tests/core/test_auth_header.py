"""The token reaches gateways that check either ``Authorization: Token`` or ``Api-Token``."""

from __future__ import annotations

import pytest

from flowdesk.core.integrity import mismatches
from flowdesk.core.sources.activecampaign import check_connection
from flowdesk.core.sources.http import AuthError
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import polite, source
from tests.fake_ac_server import TOKEN, FakeAccount, FakeACServer


@pytest.mark.parametrize("auth", ["authorization", "api-token"])
def test_a_gateway_checking_either_header_syncs(db, auth):
    with FakeACServer(FakeAccount(seed=3, runs=30), auth=auth) as server:
        info = check_connection(server.base_url, TOKEN, polite())
        assert info.runs == 30
        report = SyncEngine(db).run(source(server))
        assert report.outcome == "completed", report.message
        assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 30
        assert mismatches(db) == []


@pytest.mark.parametrize("auth", ["authorization", "api-token"])
def test_a_wrong_token_is_still_rejected_by_either_gateway(db, auth):
    with FakeACServer(FakeAccount(seed=3, runs=5), auth=auth) as server:
        with pytest.raises(AuthError):
            check_connection(server.base_url, "wrong-token", polite())
        report = SyncEngine(db).run(source(server, token="wrong-token"))
        assert report.outcome == "failed" and "rejected" in report.message
        assert "wrong-token" not in report.message
