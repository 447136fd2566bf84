"""``flowdesk compare``: the JSON contract, the text, and one-line errors."""

from __future__ import annotations

import json

import pytest

from flowdesk.cli import main
from flowdesk.core.compare import compare_versions, comparison_json, default_pair
from flowdesk.core.queries import list_flows, list_versions


def _flow(db):
    return next(f for f in list_flows(db) if f.name == "Order status assistant")


def test_json_contract_defaults_to_current_against_previous(demo, demo_db_path, capsys):
    flow = _flow(demo)
    a, b = default_pair(list_versions(demo, flow.id))
    assert main(["compare", "--db", str(demo_db_path), "--flow", flow.name, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == json.loads(json.dumps(comparison_json(compare_versions(demo, flow.id, a, b))))
    for side, version in (("a", a), ("b", b)):
        item = data[side]
        assert item["id"] == version
        assert {"id", "name", "contacts", "completed", "completion_rate", "response_rate"} <= set(
            item
        )
        assert item["completion_rate"] == item["completed"] / item["contacts"]
    for rate in ("completion_rate", "response_rate"):
        difference = data["difference"][rate]
        assert difference["value"] == pytest.approx(data["b"][rate] - data["a"][rate])
        assert difference["low"] <= difference["value"] <= difference["high"]
    assert set(data["steps"]) >= {"added", "removed", "changed"}
    assert all(set(step) >= {"id", "name"} for step in data["steps"]["added"])
    assert data["verdict"]


def test_versions_by_name_and_finished_only(demo, demo_db_path, capsys):
    flow = _flow(demo)
    versions = list_versions(demo, flow.id)
    first, last = versions[0], versions[-1]
    argv = ["compare", "--db", str(demo_db_path), "--flow", flow.id, "--json"]
    argv += ["--versions", f"{first.name},{last.id}", "--finished-only"]
    assert main(argv) == 0
    data = json.loads(capsys.readouterr().out)
    assert (data["a"]["id"], data["b"]["id"], data["finished_only"]) == (first.id, last.id, True)
    expected = compare_versions(demo, flow.id, first.id, last.id, finished_only=True)
    assert data["verdict"] == expected.verdict


def test_text_output(demo, demo_db_path, capsys):
    flow = _flow(demo)
    assert main(["compare", "--db", str(demo_db_path), "--flow", flow.name]) == 0
    out = capsys.readouterr().out
    a, b = default_pair(list_versions(demo, flow.id))
    comparison = compare_versions(demo, flow.id, a, b)
    assert comparison.verdict in out
    assert "Completion rate" in out and "What changed:" in out
    assert all(f"+ {c.step.name}" in out for c in comparison.diff.added)


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--flow", "Nope"], "no flow with id or name 'Nope'"),
        (["--flow", "Order status assistant", "--versions", "v1"], "--versions takes two"),
        (["--flow", "Order status assistant", "--versions", "v1,v9"], "no version 'v1'"),
    ],
)
def test_mistakes_are_one_line(demo_db_path, capsys, extra, message):
    assert main(["compare", "--db", str(demo_db_path), *extra]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1 and "Traceback" not in err


def test_a_flow_with_one_version_has_nothing_to_compare(factory_cache, capsys):
    assert main(["compare", "--db", str(factory_cache), "--flow", "f1"]) == 2
    assert "only one version" in capsys.readouterr().err


@pytest.fixture
def factory_cache(tmp_path):
    from flowdesk.core.db import connect
    from flowdesk.core.sync import SyncEngine
    from tests.factories import PATH_COMPLETED, ListSource, run, runs_batch

    path = tmp_path / "one.db"
    db = connect(path)
    SyncEngine(db).run(ListSource([runs_batch(run("r1", PATH_COMPLETED, "COMPLETED"))]))
    db.conn.close()
    return path
