"""``flowdesk find``: the command-line contract other tools rely on."""

from __future__ import annotations

import json

from flowdesk.cli import main
from tests.core.test_customers import _sync, people_records


def _workspace(tmp_path):
    from flowdesk.core.db import connect

    path = tmp_path / "cache.db"
    db = connect(path)
    _sync(db, *people_records())
    db.conn.close()
    return path


def test_find_json_lists_contacts_with_their_runs_best_first(tmp_path, capsys):
    path = _workspace(tmp_path)
    assert main(["find", "--db", str(path), "olive", "--json"]) == 0
    contacts = json.loads(capsys.readouterr().out)
    assert [c["contact_id"] for c in contacts] == ["c3", "c2"]
    assert main(["find", "--db", str(path), "+52 1 55 1234-5678", "--json"]) == 0
    [jose] = json.loads(capsys.readouterr().out)
    assert jose == {
        "contact_id": "c1",
        "phone": "+5215512345678",
        "first_name": "José",
        "last_name": "Núñez",
        "runs": [
            {
                "run_id": "r-c1-b",
                "flow_id": "f2",
                "flow": "Delivery updates",
                "version_id": "v2",
                "execution_id": None,
                "status": "COMPLETED",
                "entered": "2026-11-01T11:40:00Z",
            },
            {
                "run_id": "r-c1",
                "flow_id": "f1",
                "flow": "Order helper",
                "version_id": "v1",
                "execution_id": None,
                "status": "COMPLETED",
                "entered": "2026-11-01T10:00:00Z",
            },
        ],
    }


def test_find_prints_each_contact_and_their_runs(tmp_path, capsys):
    path = _workspace(tmp_path)
    assert main(["find", "--db", str(path), "Jones", "Oliver"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "Oliver Jones  +447911123456  c2@example.com  [contact c2]"
    assert out[1] == "  2026-11-01 10:10 UTC  Order helper · First  COMPLETED  [run r-c2]"
    assert main(["find", "--db", str(path), "nobody"]) == 0
    assert capsys.readouterr().out == "No contact matches “nobody”.\n"
    assert main(["find", "--db", str(path), "nobody", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []


def test_find_mistakes_are_one_line_and_status_2(tmp_path, capsys):
    assert main(["find", "--db", str(tmp_path / "missing.db"), "x"]) == 2
    assert capsys.readouterr().err.startswith("flowdesk: no cache at ")
    path = _workspace(tmp_path)
    assert main(["find", "--db", str(path), " "]) == 2
    err = capsys.readouterr().err
    assert err == "flowdesk: nothing to find: give a phone number, a name or an e-mail address\n"


def test_check_verifies_the_search_index(tmp_path, capsys):
    path = _workspace(tmp_path)
    assert main(["check", "--db", str(path), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert (report["search_index_exact"], report["search_index_problems"]) == (True, [])
    from flowdesk.core.db import connect

    db = connect(path)
    with db.conn:
        db.conn.execute("DELETE FROM contact_terms WHERE term = 'wjose'")
    db.conn.close()
    assert main(["check", "--db", str(path)]) == 1
    out = capsys.readouterr().out
    assert "Contact search index differs from the contacts:\n" in out
    assert "  contact c1: search term 'wjose' missing\n" in out
