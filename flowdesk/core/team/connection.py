"""Opening the team server's database: a ``postgresql://`` URL, TLS unless the host is local.

Every failure becomes one :class:`TeamServerError` line naming the server as
``user@host:port/database``: a password, whether it came from the URL, the keyring or the
environment, never appears in a message, a log line or a ``repr``.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict

from flowdesk.core.errors import UserError

_SCHEMES = ("postgresql://", "postgres://")
_LOCAL_NAMES = frozenset({"localhost", ""})
_WEAK_TLS = frozenset({"prefer", "allow"})
_CONNECT_TIMEOUT = "5"


class TeamServerError(UserError):
    """A team server that cannot be used as asked; the message is one line, without secrets."""


def _is_local(host: str) -> bool:
    if host.startswith("/") or host.lower() in _LOCAL_NAMES:
        return True  # a Unix socket, or the loopback by name
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class ServerAddress:
    """A parsed team server URL. ``params`` may hold the password: show ``display`` instead."""

    params: dict[str, str] = field(repr=False)

    @property
    def hosts(self) -> list[str]:
        return [h for h in (self.params.get("host") or "").split(",")] or [""]

    @property
    def local(self) -> bool:
        return all(_is_local(host) for host in self.hosts)

    @property
    def user(self) -> str:
        return self.params.get("user", "")

    @property
    def database(self) -> str:
        return self.params.get("dbname", "") or self.user

    @property
    def password(self) -> str:
        return self.params.get("password", "")

    @property
    def display(self) -> str:
        """``user@host:port/database``: how messages name the server."""
        host = self.params.get("host") or "localhost"
        port = self.params.get("port")
        where = f"{host}:{port}" if port else host
        who = f"{self.user}@" if self.user else ""
        return f"{who}{where}/{self.database}"

    @property
    def url(self) -> str:
        """The URL without its password: what a cache or the settings may keep."""
        params = {k: v for k, v in self.params.items() if k not in ("password", "connect_timeout")}
        host = params.pop("host", "") or "localhost"
        port = params.pop("port", "")
        user = params.pop("user", "")
        dbname = params.pop("dbname", "")
        netloc = (f"{user}@" if user else "") + host + (f":{port}" if port else "")
        query = "&".join(f"{k}={v}" for k, v in sorted(params.items()))
        return f"postgresql://{netloc}/{dbname}" + (f"?{query}" if query else "")

    def __str__(self) -> str:
        return self.display


def parse_url(url: str) -> ServerAddress:
    """Check a ``postgresql://`` URL and require TLS for any host that is not this machine.

    ``sslmode`` ``prefer``/``allow`` (libpq's defaults) become ``require`` off the loopback, and
    ``disable`` is refused there: the team's data and the password must not cross a network in
    clear text.
    """
    text = (url or "").strip()
    if not text:
        raise TeamServerError("the team server URL is empty (postgresql://user@host/database)")
    if not text.lower().startswith(_SCHEMES):
        raise TeamServerError(
            "the team server URL must start with postgresql:// (postgresql://user@host/database)"
        )
    try:
        params = {k: str(v) for k, v in conninfo_to_dict(text).items() if v is not None}
    except psycopg.ProgrammingError:
        raise TeamServerError(
            "the team server URL is not a valid postgresql:// URL "
            "(postgresql://user@host:port/database)"
        ) from None
    if not all(part.strip().isdigit() for part in params.get("port", "0").split(",")):
        raise TeamServerError("the team server URL has an invalid port")
    address = ServerAddress(params)
    if not address.local:
        mode = params.get("sslmode", "")
        if mode == "disable":
            raise TeamServerError(
                f"{address.display} is not on this machine: a team server must be reached over "
                "TLS (remove sslmode=disable)"
            )
        if not mode or mode in _WEAK_TLS:
            params["sslmode"] = "require"
    params.setdefault("connect_timeout", _CONNECT_TIMEOUT)
    return address


def with_password(address: ServerAddress, password: str | None) -> ServerAddress:
    """The same server with a password from elsewhere (the keyring); the URL's own one wins."""
    if not password or address.password:
        return address
    return ServerAddress({**address.params, "password": password})


_NOISE = re.compile(r"^(connection failed: |connection to server at [^:]*failed: )+")


def describe_error(exc: BaseException, address: ServerAddress) -> str:
    """libpq's message reduced to its reason, on one line, with any password scrubbed."""
    lines = [line.strip(" -\t") for line in str(exc).splitlines() if line.strip(" -\t")]
    fatal = [line for line in lines if "FATAL:" in line]
    failed = [line for line in lines if "failed:" in line]
    if fatal:
        reason = fatal[0].split("FATAL:", 1)[1]
    elif failed:
        reason = failed[-1].rsplit("failed:", 1)[1]
    else:
        reason = lines[-1] if lines else ""
    reason = _NOISE.sub("", " ".join(reason.split())).rstrip(".")
    if "does not support SSL" in reason:
        reason = (
            "the server does not offer TLS, which this connection requires (a team server off "
            "this computer must be reached over TLS: ask its administrator to enable ssl)"
        )
    elif "Connection refused" in reason:
        reason = "Connection refused (is the team server running, and on that port?)"
    if "no password supplied" in reason:
        reason = (
            "no password (give it in the URL, in PGPASSWORD, or connect the team server from "
            "the app, which keeps it in the keyring)"
        )
    if address.password:
        reason = reason.replace(address.password, "***")
    return reason or exc.__class__.__name__


def connect(
    address: ServerAddress, *, autocommit: bool = True, application_name: str = "flowdesk"
) -> psycopg.Connection[Any]:
    """Open a connection or raise :class:`TeamServerError` saying why, in one line."""
    params = {**address.params}
    params.setdefault("application_name", application_name)
    try:
        return psycopg.connect(autocommit=autocommit, **params)
    except psycopg.Error as exc:
        raise TeamServerError(
            f"cannot connect to the team server {address.display}: {describe_error(exc, address)}"
        ) from None
