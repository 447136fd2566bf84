"""``flowdesk doctor``: one line per check, exit 1 only when the install cannot do its work."""

from __future__ import annotations

from flowdesk.cli import main
from flowdesk.core.db import connect
from flowdesk.core.schema import SCHEMA_VERSION


def test_a_healthy_install_reports_every_check(tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("FLOWDESK_AC_TOKEN", "secret-token")
    path = tmp_path / "cache.db"
    connect(path).conn.close()
    assert main(["doctor", "--db", str(path)]) == 0
    out = capsys.readouterr().out
    assert f"ok    cache: {path} opens: schema v{SCHEMA_VERSION}, 0 runs" in out
    assert "ok    background jobs: a child process answered in" in out
    assert "ok    qt: PySide6" in out
    assert "FLOWDESK_AC_TOKEN is set" in out and "secret-token" not in out
    assert "FAIL" not in out


def test_a_broken_cache_fails_with_its_reason(tmp_path, capsys):
    path = tmp_path / "cache.db"
    path.write_bytes(b"this is not a database" * 100)
    assert main(["doctor", "--db", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    (cache,) = [line for line in lines if "cache:" in line]
    assert cache.startswith("FAIL  cache:")
    assert any(line.startswith("ok    background jobs") for line in lines)  # the rest still ran
