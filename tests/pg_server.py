"""A real PostgreSQL server for the tests: ``initdb`` + ``postgres`` in a temporary folder.

The server listens on 127.0.0.1 on a free port, with password authentication over TCP (so wrong
passwords can be tested) and durability switched off (the tests want speed, not crash safety of
the test server itself). PostgreSQL refuses to run as root: as root, the data folder is handed
to the ``postgres`` system user (which Debian's package creates) and initdb and the server run
as that user. The server is a child of the test process and quits when it dies.
"""

from __future__ import annotations

import contextlib
import ctypes
import glob
import os
import pwd
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ADMIN = "flowdesk_admin"
ADMIN_PASSWORD = "admin-secret-7c1f"
_PR_SET_PDEATHSIG = 1


def find_bindir() -> Path | None:
    """Where initdb and postgres live: Debian keeps them out of PATH, per major version."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    found = shutil.which("initdb")
    if found:
        candidates.append(str(Path(found).resolve().parent))
    for folder in candidates:
        if (Path(folder) / "initdb").exists() and (Path(folder) / "postgres").exists():
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


def _become(run_as: str | None, die_with_parent: bool = False):
    """What the child runs before exec: drop to ``run_as`` (PostgreSQL refuses root), then ask
    the kernel for SIGQUIT when this process dies (after the switch: changing the user clears
    that request)."""
    account = pwd.getpwnam(run_as) if run_as else None

    def prepare() -> None:
        if account is not None:
            os.setgroups([])
            os.setgid(account.pw_gid)
            os.setuid(account.pw_uid)
        if die_with_parent:
            libc = ctypes.CDLL(None, use_errno=True)
            libc.prctl(_PR_SET_PDEATHSIG, signal.SIGQUIT)

    return prepare


def _wait_ready(pg: PgServer, server: subprocess.Popen, log: Path) -> None:
    import psycopg

    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise RuntimeError(f"PostgreSQL did not start: {log.read_text(errors='replace')}")
        try:
            psycopg.connect(pg.url("postgres"), connect_timeout=2).close()
            return
        except psycopg.OperationalError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.1)


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
        raise FileNotFoundError("no PostgreSQL server binaries (initdb, postgres)")
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
    env = {**os.environ, "LC_ALL": "C", "TZ": "UTC", "HOME": str(folder)}
    server: subprocess.Popen | None = None
    try:
        subprocess.run(
            [
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
            ],
            check=True,
            capture_output=True,
            env=env,
            preexec_fn=_become(run_as),
        )
        with open(folder / "server.log", "wb") as log:
            # The postmaster is this process's child, told to quit with it: a test session killed
            # with SIGKILL leaves no server behind.
            server = subprocess.Popen(
                [
                    str(bindir / "postgres"),
                    "-D",
                    str(data),
                    "-p",
                    str(port),
                    "-k",
                    str(sockets),
                    "-c",
                    "listen_addresses=127.0.0.1",
                    "-c",
                    "fsync=off",
                    "-c",
                    "synchronous_commit=off",
                    "-c",
                    "full_page_writes=off",
                    "-c",
                    "max_connections=60",
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
                env=env,
                preexec_fn=_become(run_as, die_with_parent=True),
            )
        pg = PgServer(port, folder, bindir, run_as)
        _wait_ready(pg, server, folder / "server.log")
        yield pg
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGQUIT)  # immediate shutdown: the folder goes anyway
            try:
                server.wait(30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        shutil.rmtree(folder, ignore_errors=True)
