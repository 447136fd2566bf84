"""Importing "Download results" CSV files (ActiveCampaign's and Flowdesk's own) as flows."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest

from flowdesk.cli import main
from flowdesk.core.db import connect
from flowdesk.core.export import ExportSpec, run_export
from flowdesk.core.importer import (
    CsvImportError,
    csv_source,
    import_csv,
    normalize_header,
    parse_date,
    read_results_csv,
    unquote_cell,
)
from flowdesk.core.integrity import mismatches
from flowdesk.core.queries import Scope, list_executions, list_versions, summary
from flowdesk.core.sync import SyncEngine
from tests.core.test_activecampaign import source
from tests.factories import cache_content
from tests.fake_ac_server import FakeAccount, FakeACServer

# A file shaped like ActiveCampaign's "Download results": localised and oddly cased headers, a
# free-text column, steps out of chronological order, and a few broken rows.
AC_FILE = """\
PHONE NUMBER,Nombre,Last name,Execution Status,Reason,Notes,Bienvenida,Menú,Pregunta
+5215500000001,José,Núñez,completed,,vip,11/03/2026 14:05,11/03/2026 14:06,11/03/2026 14:09
+5215500000002,"Ana
María",=SUM(A1),EXPIRED,,,11/03/2026 15:00,11/03/2026 15:01,
+5215500000003,Zoë,,Ongoing,,,11/03/2026 16:00,,
+5215500000004,李雷,O'Neil,cancelled,Open conversation in Inbox,,11/04/2026 09:00,11/04/2026 09:02,
+5215500000005,Bob,Smith,Failed,API call failed,,11/04/2026 10:00,11/04/2026 10:20,11/04/2026 10:10
+5215500000006,Bad,Status,Lost,,,11/04/2026 11:00,,
,No,Phone,completed,,,11/04/2026 12:00,,
+5215500000008,Bad,Date,completed,,,yesterday,11/04/2026 12:00,
+5215500000009,No,Dates,completed,,,,,

+5215500000001,José,Núñez,Completed,,,11/05/2026 08:00,11/05/2026 08:01,11/05/2026 08:02
"""


def write(tmp_path, text: str, name: str = "results.csv", encoding: str = "utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def test_an_activecampaign_results_file_imports_as_a_flow(db, tmp_path):
    path = write(tmp_path, AC_FILE, "Pedidos (results).csv")
    result, report = import_csv(db, path)
    assert report.outcome == "completed", report.message
    assert result.flow_name == "Pedidos (results)"
    assert result.columns["phone"] == "PHONE NUMBER" and result.columns["status"] == (
        "Execution Status"
    )
    assert result.step_columns == ["Bienvenida", "Menú", "Pregunta"]
    assert result.ignored_columns == ["Notes"]
    # Bad rows are reported by their line in the file (the quoted name spans lines 3-4).
    assert result.bad_rows == [
        (8, "unknown status 'Lost'"),
        (9, "no phone number"),
        (10, "'Bienvenida': 'yesterday' is not a date"),
        (11, "no date: neither an entry date nor a step date"),
    ]
    assert {(f"line {n}", m) for n, m in result.bad_rows} == {
        (rid, m) for _, rid, m in report.problems
    }
    assert result.runs == 6
    totals = summary(db, Scope(result.flow_id))
    assert (totals.contacts, totals.completed, totals.expired, totals.ongoing) == (6, 2, 1, 1)
    assert (totals.canceled, totals.failed) == (1, 1)
    assert mismatches(db) == []

    # Paths follow the dates, not the column order.
    path_of = dict(
        db.execute(
            "SELECT phone, group_concat(name, ' > ') FROM (SELECT r.key, r.phone, s.name"
            " FROM runs r JOIN run_steps p ON p.run_key = r.key"
            " JOIN steps s ON s.key = p.step_key ORDER BY r.key, p.seq)"
            " GROUP BY key ORDER BY key"
        ).fetchall()
    )
    assert path_of["+5215500000005"] == "Bienvenida > Pregunta > Menú"
    row = db.execute(
        "SELECT first_name, last_name, status, status_reason FROM runs WHERE phone = ?",
        ["+5215500000002"],
    ).fetchone()
    assert row == ("Ana\nMaría", "=SUM(A1)", "EXPIRED", "")
    failed = db.execute("SELECT status_reason FROM runs WHERE metric = 'failed'").fetchone()
    assert failed == ("API call failed",)
    # The same phone is one contact with two runs.
    assert db.execute("SELECT count(DISTINCT contact_id) FROM runs").fetchone()[0] == 5
    entered = db.execute("SELECT entered_at FROM runs WHERE phone = '+5215500000001'").fetchone()[0]
    assert entered == int(datetime(2026, 11, 3, 14, 5, tzinfo=UTC).timestamp())  # month first


def test_importing_the_same_file_again_changes_nothing(db, tmp_path):
    path = write(tmp_path, AC_FILE)
    import_csv(db, path, "Pedidos")
    before = cache_content(db)
    _, report = import_csv(db, path, "Pedidos")
    assert report.outcome == "completed"
    assert report.runs_changed == 0
    after = cache_content(db)
    assert {k: v for k, v in after.items() if k != "meta"} == {
        k: v for k, v in before.items() if k != "meta"
    }


def test_an_interrupted_import_resumes_to_the_same_cache(db, tmp_path):
    path = write(tmp_path, AC_FILE)
    parsed = read_results_csv(path, "Pedidos")
    seen = []
    report = SyncEngine(db).run(
        csv_source(parsed, batch_size=2),
        progress=seen.append,
        is_cancelled=lambda: len(seen) >= 2,
    )
    assert report.outcome == "canceled"
    assert db.execute("SELECT count(*) FROM runs").fetchone()[0] == 4
    assert SyncEngine(db).run(csv_source(parsed, batch_size=2)).outcome == "completed"
    other = connect(tmp_path / "other.db")
    SyncEngine(other).run(csv_source(parsed, batch_size=2))
    assert cache_content(db) == cache_content(other)


def test_a_flowdesk_export_reimports_to_the_same_summary_counts(tmp_path):
    with FakeACServer(FakeAccount(seed=5, runs=80)) as server:
        original = connect(tmp_path / "ac.db")
        assert SyncEngine(original).run(source(server)).outcome == "completed"
    compared_executions = 0
    for flow_id, name in original.execute("SELECT id, name FROM flows ORDER BY id").fetchall():
        # The real "Download results" writer, Excel-friendly (BOM, formula-looking cells quoted).
        path = tmp_path / f"export-{flow_id}.csv"
        run_export(original, ExportSpec(flow_id, format="csv", excel_bom=True), path)
        copy = connect(tmp_path / f"copy-{flow_id}.db")
        result, report = import_csv(copy, path, name)
        assert report.outcome == "completed" and result.bad_rows == []
        assert summary(copy, Scope(result.flow_id)).as_dict() == (
            summary(original, Scope(flow_id)).as_dict()
        )
        by_name = {v.name: v.counters.as_dict() for v in list_versions(original, flow_id)}
        assert {v.name: v.counters.as_dict() for v in list_versions(copy, result.flow_id)} == {
            name: counts for name, counts in by_name.items() if counts["contacts"]
        }

        def execution_counts(database, fid):
            return sorted(
                tuple(e.counters.as_dict().values())
                for e in list_executions(database, fid)
                if e.counters.contacts
            )

        assert execution_counts(copy, result.flow_id) == execution_counts(original, flow_id)
        compared_executions += len(execution_counts(copy, result.flow_id))
        # Formula-looking values come back as the text they were, not as formulas.
        original_names = sorted(
            original.execute(
                "SELECT first_name, last_name FROM runs WHERE flow_id = ?", [flow_id]
            ).fetchall()
        )
        copy_names = sorted(copy.execute("SELECT first_name, last_name FROM runs").fetchall())
        assert copy_names == original_names
        assert mismatches(copy) == []
        copy.conn.close()
    assert compared_executions == 3


def test_files_from_the_export_module_reimport_to_the_same_counts(tmp_path):
    export = pytest.importorskip("flowdesk.core.export")
    with FakeACServer(FakeAccount(seed=9, runs=70)) as server:
        original = connect(tmp_path / "ac.db")
        assert SyncEngine(original).run(source(server)).outcome == "completed"
    for flow_id, name in original.execute("SELECT id, name FROM flows ORDER BY id").fetchall():
        target = tmp_path / f"{flow_id}.csv"
        export.run_export(original, export.ExportSpec(flow_id, excel_bom=True), target)
        assert target.read_bytes().startswith(b"\xef\xbb\xbf")
        copy = connect(tmp_path / f"copy-{flow_id}.db")
        result, report = import_csv(copy, target, name)
        assert report.outcome == "completed" and result.bad_rows == []
        assert result.ignored_columns == []
        assert summary(copy, Scope(result.flow_id)).as_dict() == (
            summary(original, Scope(flow_id)).as_dict()
        )
        originals = {v.name: v.counters.as_dict() for v in list_versions(original, flow_id)}
        copies = {v.name: v.counters.as_dict() for v in list_versions(copy, result.flow_id)}
        assert copies == {k: v for k, v in originals.items() if v["contacts"]}
        names = "SELECT phone, first_name, last_name FROM runs WHERE flow_id = ?"
        assert sorted(copy.execute(names, [result.flow_id]).fetchall()) == sorted(
            original.execute(names, [flow_id]).fetchall()
        )
        copy.conn.close()


def test_import_cli_reports_bad_rows_and_refuses_foreign_caches(tmp_path, capsys):
    path = write(tmp_path, AC_FILE)
    cache = tmp_path / "imported.db"
    assert main(["import", "--db", str(cache), str(path), "--flow-name", "Pedidos WA"]) == 0
    err = capsys.readouterr().err
    assert "skipped line 8: unknown status 'Lost'" in err
    assert "6 runs from 10 rows" in err and "4 bad rows skipped" in err
    assert main(["stats", "--json", "--db", str(cache)]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert [(f["name"], f["contacts"]) for f in stats] == [("Pedidos WA", 6)]

    missing = write(tmp_path, "Name,When\nx,2026-11-01\n", "nophone.csv")
    assert main(["import", "--db", str(cache), str(missing)]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "flowdesk: nophone.csv: no phone column (expected a header such as 'Phone' or "
        "'Phone number')"
    ]
    assert main(["import", "--db", str(cache), str(tmp_path / "absent.csv")]) == 2
    assert "no file at" in capsys.readouterr().err

    foreign = connect(tmp_path / "ac.db")
    with FakeACServer(FakeAccount(seed=5, runs=5)) as server:
        SyncEngine(foreign).run(source(server))
    assert main(["import", "--db", str(tmp_path / "ac.db"), str(path)]) == 2
    assert "own cache file" in capsys.readouterr().err


def test_encodings_separators_and_quoted_values(db, tmp_path):
    text = (
        "Teléfono;Nombre;Apellido;Estado;Entered;Paso 1\r\n"
        "'+5215500000001;José;'=SUM(A1);Completed;2026-11-01T10:00:00Z;2026-11-01 10:00:30\r\n"
        "'+5215500000002;Ana;'-1;running;2026-11-01T11:00:00+02:00;\r\n"
    )
    for encoding, name in (("utf-16", "u16.csv"), ("cp1252", "latin.csv"), ("utf-8-sig", "b.csv")):
        parsed = read_results_csv(write(tmp_path, text, name, encoding), "Paso")
        assert parsed.summary.bad_rows == []
        first, second = parsed.runs
        assert first["contact"]["phone"] == "+5215500000001"
        assert first["contact"]["last_name"] == "=SUM(A1)"
        assert second["contact"]["last_name"] == "-1"
        assert second["created_on"] == "2026-11-01T09:00:00Z"
        assert second["execution_steps"] == []
        assert [s["step"]["name"] for s in first["execution_steps"]] == ["Paso 1"]


def test_headers_dates_and_quotes():
    assert normalize_header("\ufeffTeléfono ") == "telefono"
    assert normalize_header("Contact's Number") == "contact s number"
    assert normalize_header("ÚLTIMO NOME") == "ultimo nome"
    assert unquote_cell("'=SUM(A1)") == "=SUM(A1)"
    assert unquote_cell("'+52155") == "+52155"
    assert unquote_cell("O'Neil") == "O'Neil"
    assert unquote_cell("'quoted'") == "'quoted'"
    utc = datetime(2026, 3, 4, 14, 5, tzinfo=UTC)
    assert parse_date("2026-03-04T14:05:00Z") == utc
    assert parse_date("2026-03-04 14:05") == utc
    assert parse_date("03/04/2026 2:05 PM") == utc
    assert parse_date("04/03/2026 14:05", "dmy") == utc
    assert parse_date("4.3.2026 14:05", "dmy") == utc
    assert parse_date("Mar 4, 2026 2:05 PM") == utc
    assert parse_date("2026-03-04T11:05:00-03:00") == utc
    for bad in ("", "yesterday", "13/13/2026", "3", "1234"):
        assert parse_date(bad) is None


def test_day_first_files_are_recognised(tmp_path):
    text = "Phone,Status,Step\n+1,Completed,25/12/2026 10:00\n+2,Completed,03/12/2026 10:00\n"
    parsed = read_results_csv(write(tmp_path, text), "Navidad")
    assert parsed.summary.date_order == "dmy"
    assert parsed.runs[1]["created_on"] == "2026-12-03T10:00:00Z"


def test_a_file_without_a_status_column_is_refused(tmp_path):
    with pytest.raises(CsvImportError, match="no status column"):
        read_results_csv(write(tmp_path, "Phone,Step\n+1,2026-11-01\n"))
    with pytest.raises(CsvImportError, match="empty"):
        read_results_csv(write(tmp_path, ""))
