"""A real PostgreSQL server for the tests: ``initdb`` + ``pg_ctl`` in a temporary folder.

The server listens on 127.0.0.1 on a free port, with password authentication over TCP (so wrong
passwords can be tested) and durability switched off (the tests want speed, not crash safety of
the test server itself). PostgreSQL refuses to run as root: as root, the data folder is handed
to the ``postgres`` system user (which Debian's package creates) and the binaries run as that
user through ``runuser``.
"""

from __future__ import annotations

import contextlib
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ADMIN = "flowdesk_admin"
ADMIN_PASSWORD = "admin-secret-7c1f"


def find_bindir() -> Path | None:
    """Where initdb and pg_ctl live: Debian keeps them out of PATH, per major version."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    found = shutil.which("pg_ctl")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    return None


def _version_key(path: str) -> int:
    part = Path(path).parent.name
    return int(part) if part.isdigit() else 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class PgServer:
    """A running server; ``url(...)`` builds connection URLs for it."""

    port: int
    folder: Path
    bindir: Path
    run_as: str | None

    def url(self, database: str, user: str = ADMIN, password: str | None = ADMIN_PASSWORD) -> str:
        auth = f"{user}:{password}" if password else user
        return f"postgresql://{auth}@127.0.0.1:{self.port}/{database}"

    def admin(self, database: str = "postgres"):
        import psycopg

        return psycopg.connect(self.url(database), autocommit=True)

    def create_database(self, name: str) -> str:
        with self.admin() as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            conn.execute(f'CREATE DATABASE "{name}"')
        return name


def _command(run_as: str | None, *argv: str) -> list[str]:
    return ["runuser", "-u", run_as, "--", *argv] if run_as else list(argv)


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        with contextlib.suppress(KeyError):
            pwd.getpwnam(name)
            return name
    raise RuntimeError("running as root, and no unprivileged user to run PostgreSQL as")


@contextlib.contextmanager
def running_server() -> Iterator[PgServer]:
    bindir = find_bindir()
    if bindir is None:
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, pg_ctl)")
    run_as = _server_user()
    # Directly under the system temp folder: pytest's own folders are private to this user.
    folder = Path(tempfile.mkdtemp(prefix="flowdesk-pg-"))
    data, sockets = folder / "data", folder / "sockets"
    sockets.mkdir()
    pwfile = folder / "pwfile"
    pwfile.write_text(ADMIN_PASSWORD + "\n")
    if run_as:
        account = pwd.getpwnam(run_as)
        for path in (folder, sockets, pwfile):
            os.chown(path, account.pw_uid, account.pw_gid)
    port = _free_port()
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC"}
    try:
        subprocess.run(
            _command(
                run_as,
                str(bindir / "initdb"),
                "-D",
                str(data),
                "-U",
                ADMIN,
                f"--pwfile={pwfile}",
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ),
            check=True,
            capture_output=True,
            env=env,
        )
        options = (
            f"-p {port} -k {sockets} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=60"
        )
        subprocess.run(
            _command(
                run_as,
                str(bindir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(folder / "server.log"),
                "-w",
                "-t",
                "60",
                "start",
            ),
            check=True,
            capture_output=True,
            env=env,
        )
        yield PgServer(port, folder, bindir, run_as)
    finally:
        if (data / "postmaster.pid").exists():
            subprocess.run(
                _command(
                    run_as, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"
                ),
                capture_output=True,
                env=env,
            )
        shutil.rmtree(folder, ignore_errors=True)
