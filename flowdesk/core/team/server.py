"""What ``flowdesk server init`` and ``flowdesk server sync`` do, without the command line."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import psycopg

from flowdesk.core.sources.base import Batch, Source
from flowdesk.core.team.connection import (
    ServerAddress,
    TeamServerError,
    connect,
    describe_error,
)
from flowdesk.core.team.schema import check_version, migrate
from flowdesk.core.team.writer import ServerReport, ServerWriter


def init_server(address: ServerAddress) -> tuple[int, int]:
    """Create or upgrade the schema; (version before, version after)."""
    conn = connect(address, application_name="flowdesk server init")
    try:
        return migrate(conn, address.display)
    except psycopg.Error as exc:
        raise TeamServerError(
            f"cannot set up {address.display}: {describe_error(exc, address)}"
        ) from None
    finally:
        conn.close()


def source_identity(source: Source, settings: dict[str, Any]) -> dict[str, Any]:
    """What a team server remembers of its upstream, so it never mixes two of them."""
    return {"kind": source.kind, "name": source.name, "settings": settings}


def sync_server(
    address: ServerAddress,
    source: Source,
    settings: dict[str, Any],
    *,
    progress: Callable[[Batch, ServerReport], None] | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
    notify: Callable[[str], None] | None = None,
) -> ServerReport:
    """One sync of the upstream into the team server, as its only writer."""
    conn = connect(address, application_name="flowdesk server sync")
    try:
        check_version(conn, address.display)
        writer = ServerWriter(conn, address.display)
        writer.lock()
        writer.claim(source_identity(source, settings))
        return writer.run(source, progress=progress, is_cancelled=is_cancelled, notify=notify)
    except psycopg.Error as exc:
        raise TeamServerError(
            f"writing to {address.display} failed: {describe_error(exc, address)}; "
            "the next sync resumes after the last whole batch"
        ) from None
    finally:
        conn.close()
