"""``flowdesk doctor``: can this install do its work? One line per check, for support tickets.

Checks the cache (opens, schema version, size), that background jobs start in a child process
(sync and export run there), that Qt loads, and where API tokens would be kept. Exits 1 when a
check fails (a missing keyring is only a note), so scripts and the packaging smoke test can rely
on it.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable
from pathlib import Path

from flowdesk.cli._common import add_db_option, resolve_db


class Advice(Exception):  # noqa: N818 - a note, not an error
    """Not a fault of the install, but worth knowing: printed as a note, not a failure."""


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("doctor", help="check that this install can sync, export and open")
    add_db_option(parser)
    parser.set_defaults(func=run)


def _check_cache(path: Path) -> str:
    from flowdesk.core.db import connect, damaged, quick_check

    if not path.exists():
        return f"no cache at {path} yet (the app offers to create the demo)"
    db = connect(path, create=False, readonly=True)
    try:
        problems = quick_check(db)
        if problems:
            raise damaged(path, problems)
        version = db.conn.execute("PRAGMA user_version").fetchone()[0]
        runs = db.conn.execute("SELECT count(*) FROM runs").fetchone()[0]
    finally:
        db.conn.close()
    size = path.stat().st_size / 1e6
    return f"{path} opens: schema v{version}, {runs:,} runs, {size:.1f} MB"


def _check_background() -> str:
    from flowdesk.core.background import probe, run_in_child

    started = time.perf_counter()
    answer = run_in_child(probe, name="flowdesk-doctor")
    seconds = time.perf_counter() - started
    frozen = " (bundled app)" if answer["frozen"] else ""
    return f"a child process answered in {seconds:.2f} s (pid {answer['pid']}){frozen}"


def _check_qt() -> str:
    import PySide6
    from PySide6 import QtWidgets  # noqa: F401 - the import is the check

    return f"PySide6 {PySide6.__version__} loads"


def _check_tokens() -> str:
    from flowdesk.core.sources.credentials import env_token, keyring_available

    if env_token():
        return "FLOWDESK_AC_TOKEN is set and overrides the keyring"
    if keyring_available():
        return "the system keyring is available"
    raise Advice("no system keyring: set FLOWDESK_AC_TOKEN to sync from ActiveCampaign")


def run(args: argparse.Namespace) -> int:
    from flowdesk import __version__

    checks: list[tuple[str, Callable[[], str]]] = [
        ("cache", lambda: _check_cache(resolve_db(args.db))),
        ("background jobs", _check_background),
        ("qt", _check_qt),
        ("tokens", _check_tokens),
    ]
    print(f"flowdesk {__version__}")
    failed = 0
    for name, check in checks:
        try:
            print(f"ok    {name}: {check()}")
        except Advice as advice:
            print(f"note  {name}: {advice}")
        except Exception as exc:  # noqa: BLE001 - every failure is a finding to print
            failed += 1
            print(f"FAIL  {name}: {exc}")
    return 1 if failed else 0
