"""What every command shares: the user error, ``--db``, opening a cache, finding a flow, the
progress bar, and the one place that turns a user error into one line and exit status 2.

Command modules import this, never ``flowdesk.cli`` itself (which imports them).
"""

from __future__ import annotations

import argparse
import os
import sqlite3
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from flowdesk.core.errors import UserError
from flowdesk.paths import default_db_path

__all__ = [
    "DB_HELP",
    "TerminalProgress",
    "UserError",
    "add_db_option",
    "find_flow",
    "open_cache",
    "resolve_db",
    "run_command",
    "run_sync",
]

DB_HELP = "cache file (default: the demo workspace in the user data folder)"


def add_db_option(
    parser: argparse.ArgumentParser, *, required: bool = False, help: str = DB_HELP
) -> None:
    """The ``--db PATH`` option; only its help text differs between commands."""
    parser.add_argument("--db", type=Path, required=required, help=help)


def resolve_db(path: Path | None) -> Path:
    """``--db`` as given, or the demo workspace in the user data folder."""
    if path is not None:
        return path
    return default_db_path()


def open_cache(path: Path | None, *, write: bool = False) -> Any:
    """Open an existing cache (``--db`` or the default); a missing one is a user error.

    Commands that only read (stats, check, export) open it read-only: they never migrate nor
    change it, and work on a read-only file or drive.
    """
    from flowdesk.core.db import connect

    resolved = resolve_db(path)
    if not resolved.exists():
        raise UserError(f"no cache at {resolved} (create one with: flowdesk demo --db {resolved})")
    return connect(resolved, readonly=not write)


def find_flow(db: Any, ref: str) -> Any:
    """The flow whose id or exact name is ``ref``; an unknown one is a user error."""
    from flowdesk.core.queries import get_flow

    flow = get_flow(db, ref)
    if flow is None:
        raise UserError(f"no flow with id or name {ref!r}")
    return flow


class TerminalProgress:
    """A one-line progress bar on stderr that stays quiet when stderr is not a terminal."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.tty = sys.stderr.isatty()
        self.last = 0.0

    def update(self, done: int, total: int | None, note: str = "") -> None:
        now = time.monotonic()
        if now - self.last < 0.2 and (total is None or done < total):
            return
        self.last = now
        if total:
            width = 30
            filled = int(width * min(done, total) / total)
            bar = "#" * filled + "-" * (width - filled)
            text = f"{self.label} [{bar}] {done:,}/{total:,} {note}"
        else:
            text = f"{self.label} {done:,} {note}"
        if self.tty:
            sys.stderr.write("\r" + text[:120].ljust(120))
        else:
            sys.stderr.write(text + "\n")
        sys.stderr.flush()

    def close(self) -> None:
        if self.tty:
            sys.stderr.write("\n")
            sys.stderr.flush()


def run_sync(db: Any, source: Any, label: str) -> int:
    """Sync ``db`` from ``source`` with a progress bar; the summary goes to stderr.

    Exit status 0 when the sync completed, 1 when it was canceled; a failed sync is a user
    error (its message says why and that the next sync resumes).
    """
    from flowdesk.core.errors import Outcome
    from flowdesk.core.sync import SyncEngine

    bar = TerminalProgress(label)
    report = SyncEngine(db).run(source, progress=lambda p: bar.update(p.done, p.total, p.note))
    bar.close()
    for kind, record_id, message in report.problems[:20]:
        print(f"skipped {kind} {record_id}: {message}", file=sys.stderr)
    if len(report.problems) > 20:
        print(f"... and {len(report.problems) - 20} more skipped records", file=sys.stderr)
    stats = " ".join(f"{k}={v}" for k, v in sorted(report.stats.items()))
    print(
        f"{report.outcome}: {report.records:,} records, {report.runs_changed:,} runs changed, "
        f"{len(report.problems)} skipped, {report.seconds:.1f} s {stats}".rstrip(),
        file=sys.stderr,
    )
    if report.outcome == Outcome.FAILED:
        raise UserError(f"sync failed: {report.message}")
    return 0 if report.outcome == Outcome.COMPLETED else 1


def run_command(func: Callable[[argparse.Namespace], int | None], args: argparse.Namespace) -> int:
    """Run a command: a user error is one line on stderr and exit status 2; so is a cache the
    disk or SQLite cannot serve (damaged, full, read-only, busy). Tracebacks are kept for real
    bugs. A reader that stops early (``flowdesk stats | head``) ends the command quietly."""
    from flowdesk.core.db import explain, is_cache_failure

    try:
        code = int(func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows here rather than at interpreter exit
        return code
    except UserError as exc:
        print(f"flowdesk: {exc}", file=sys.stderr)
        return 2
    except sqlite3.Error as exc:
        if not is_cache_failure(exc):
            raise
        print(f"flowdesk: {explain(exc, resolve_db(getattr(args, 'db', None)))}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        # Nothing more can reach the reader; stdout is pointed at devnull so the interpreter's
        # final flush does not fail again. 141 is what a shell reports for SIGPIPE.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except KeyboardInterrupt:
        print("flowdesk: interrupted", file=sys.stderr)
        return 130
