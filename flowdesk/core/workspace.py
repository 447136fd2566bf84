"""What a cache file is: which source fills it, under which name, for which account.

A workspace is one cache file filled by one source: the demo, one ActiveCampaign account, CSV
imports, one RapidPro/TextIt workspace or one Twilio account (through their APIs), RapidPro or
Twilio Studio files, or one Flowdesk team server. This module is the only place that reads or
writes that identity (the ``meta`` keys below): the command line, the app and the sync engine ask
it which source a cache belongs to (:func:`source_for`) and let it refuse to mix two sources in
one file (:func:`claim`).

``--source`` (or the app's "Connect" and "Create demo") is needed only for a cache's first sync;
afterwards the cache says what it is. A new kind of source is one more entry in :data:`KINDS`.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from flowdesk.core.db import get_meta, set_meta
from flowdesk.core.errors import UserError
from flowdesk.core.sources.base import Source

# The meta keys that hold a workspace's identity and sync state; nothing else spells them.
SOURCE_KEY = "source"  # {"kind", "name"}: who filled the cache last
DEMO_KEY = "demo"  # {"seed", "contacts"}: how to rebuild the simulated world
ACCOUNT_KEY = "activecampaign"  # {"url", "label"}: the one account an ActiveCampaign cache holds
LAST_SYNC_KEY = "last_sync_at"  # Unix seconds of the last completed sync
TEAM_KEY = "team"  # {"url"}: the team server a team cache syncs from (URL without password)

DEMO = "demo"
ACTIVECAMPAIGN = "activecampaign"
CSV = "csv"
RAPIDPRO = "rapidpro"  # meta "rapidpro": {"url"}, the API base URL of the one workspace
TWILIO = "twilio"  # meta "twilio": {"sid", "url"}, the one Account SID and the Studio API URL
RAPIDPRO_FILES = "rapidpro-file"
TWILIO_FILES = "twilio-file"
TEAM = "team"  # a Flowdesk team server (PostgreSQL), fed by `flowdesk server sync`
API_KINDS = frozenset({ACTIVECAMPAIGN, RAPIDPRO, TWILIO, TEAM})  # a first sync may create it
# Where each API source keeps the account it is bound to, and which field names it.
ACCOUNT_KEYS = {
    ACTIVECAMPAIGN: (ACCOUNT_KEY, "url"),
    RAPIDPRO: (RAPIDPRO, "url"),
    TWILIO: (TWILIO, "sid"),
    TEAM: (TEAM_KEY, "url"),
}


class WorkspaceError(UserError):
    """The cache cannot be synced as asked (no source yet, another source's data, no token)."""


def cursor_key(kind: str) -> str:
    """Where a source's resume cursor lives: one per kind, committed with each batch."""
    return f"cursor:{kind}"


@dataclass(frozen=True, slots=True)
class Workspace:
    """A cache's identity as stored in it; ``kind`` is None before its first sync."""

    kind: str | None = None
    name: str | None = None
    account: str | None = None  # the account's base URL, for sources bound to one
    account_label: str | None = None
    demo: dict[str, Any] | None = None
    has_runs: bool = False
    # The rest of the account record of sources bound to one (Twilio's API URL).
    extra: dict[str, Any] = field(default_factory=dict)

    def title(self, fallback: str) -> str:
        """How the File menu names it: the account, else the source's name, else ``fallback``."""
        if self.account_label:
            return f"ActiveCampaign · {self.account_label}"
        return self.name or fallback

    def holds(self) -> str:
        """What the cache holds, for messages: "ActiveCampaign · acme data"."""
        return f"{self.name or label_of(self.kind)} data"


@dataclass(slots=True)
class SourceOptions:
    """What a user may say about a source on its first sync (the CLI's --url, --rate...)."""

    url: str | None = None
    rate: float | None = None
    page_size: int | None = None
    pg: str | None = None  # a team server's postgresql:// URL
    # ActiveCampaign: stop after the exact report; paths are read by a later sync. Sources that
    # read a run's path with the run itself have no second phase to leave out.
    report_only: bool = False
    account: str | None = None  # the account when no URL names it: Twilio's Account SID


@dataclass(frozen=True, slots=True)
class Kind:
    """A kind of source: how people name it and how to rebuild it from a workspace."""

    label: str
    build: Callable[[Workspace, SourceOptions], Source] | None
    # Said when ``build`` is None: how such a cache is refreshed instead of synced.
    refresh: str = ""
    options: tuple[str, ...] = field(default=())


@contextmanager
def _one_line() -> Iterator[None]:
    """A source's own checks (URL, Account SID, token, settings) raise ValueError; the app and
    the command line show a WorkspaceError as the one line it is."""
    try:
        yield
    except ValueError as exc:
        raise WorkspaceError(str(exc)) from None


def _bound_account(workspace: Workspace, wanted: str) -> None:
    if workspace.account and workspace.account != wanted:
        raise WorkspaceError(
            f"this cache holds the account {workspace.account}; sync {wanted} into another "
            "cache file"
        )


def _account_url(
    workspace: Workspace, options: SourceOptions, normalize: Callable[[str], str], what: str
) -> str:
    """The account's normalised URL: ``--url`` on a first sync, else the one the cache holds
    (a different one is refused)."""
    with _one_line():
        base_url = normalize(options.url) if options.url else workspace.account
    if not base_url:
        raise WorkspaceError(f"the {what} URL is needed for the first sync (--url)")
    _bound_account(workspace, base_url)
    return base_url


def _stored_token(account: str, env: str, service: str, noun: str = "API token") -> str:
    """The account's token from the environment or the keyring (where the app's Connect keeps
    it); a WorkspaceError naming both ways when there is none."""
    from flowdesk.core.sources.credentials import load_token

    token = load_token(account, env=env, service=service)
    if not token:
        raise WorkspaceError(f"no {noun}: set {env}, or connect the account from the app")
    return token


def _build_demo(workspace: Workspace, options: SourceOptions) -> Source:
    from flowdesk.core.demo import DemoSource

    return DemoSource(**(workspace.demo or {}))


def _build_activecampaign(workspace: Workspace, options: SourceOptions) -> Source:
    from flowdesk.core.sources import activecampaign as ac
    from flowdesk.core.sources import credentials

    base_url = _account_url(workspace, options, ac.normalize_base_url, "account")
    token = _stored_token(base_url, credentials.ENV_TOKEN, credentials.SERVICE)
    with _one_line():
        polite = ac.politeness_from_env()
    raw = os.environ.get("FLOWDESK_AC_PAGE_SIZE", "").strip()
    try:
        page_size = int(raw) if raw else ac.DEFAULT_PAGE_SIZE
    except ValueError:
        raise WorkspaceError(f"FLOWDESK_AC_PAGE_SIZE={raw!r} is not a whole number") from None
    if page_size < 1:
        raise WorkspaceError(f"FLOWDESK_AC_PAGE_SIZE={raw!r} is out of range")
    if options.rate:
        polite.rate = float(options.rate)
    if options.page_size:
        page_size = int(options.page_size)
    return ac.ActiveCampaignSource(
        base_url, token, politeness=polite, page_size=page_size, report_only=options.report_only
    )


def _build_rapidpro(workspace: Workspace, options: SourceOptions) -> Source:
    from flowdesk.core.sources import rapidpro
    from flowdesk.core.sources.http import Politeness

    base_url = _account_url(workspace, options, rapidpro.normalize_url, "workspace")
    token = _stored_token(base_url, rapidpro.ENV_TOKEN, rapidpro.KEYRING_SERVICE)
    politeness = Politeness(rate=options.rate or rapidpro.DEFAULT_RATE)
    with _one_line():
        return rapidpro.RapidProSource(base_url, token, politeness=politeness)


def _build_twilio(workspace: Workspace, options: SourceOptions) -> Source:
    from flowdesk.core.sources import twilio
    from flowdesk.core.sources.http import Politeness

    sid = options.account or os.environ.get(twilio.ENV_SID, "").strip() or workspace.account
    if not sid:
        raise WorkspaceError(f"no Account SID: set {twilio.ENV_SID}")
    _bound_account(workspace, sid)
    with _one_line():
        url = twilio.normalize_url(options.url or workspace.extra.get("url"))
    token = _stored_token(sid, twilio.ENV_TOKEN, twilio.KEYRING_SERVICE, "auth token")
    with _one_line():
        return twilio.TwilioSource(
            sid,
            token,
            url=url,
            politeness=Politeness(rate=options.rate or twilio.DEFAULT_RATE),
            page_size=options.page_size or twilio.DEFAULT_PAGE_SIZE,
        )


def _build_team(workspace: Workspace, options: SourceOptions) -> Source:
    from flowdesk.core.sources.credentials import load_token
    from flowdesk.core.team import source as team
    from flowdesk.core.team.connection import with_password

    url = options.pg or workspace.account
    if not url:
        raise WorkspaceError("the team server URL is needed for the first sync (--pg)")
    found = team.source_for_url(url)
    if workspace.account and workspace.account != found.base_url:
        raise WorkspaceError(
            f"this cache syncs from the team server {workspace.account}; sync {found.base_url} "
            "into another cache file"
        )
    if not found.address.password:  # else PGPASSWORD, else the keyring (the app's Connect)
        password = load_token(found.base_url, env=team.ENV_PASSWORD, service=team.KEYRING_SERVICE)
        found.address = with_password(found.address, password)
    return found


_FILES_REFRESH = "import the files again to update it (flowdesk import --db PATH FILE)"
KINDS: dict[str, Kind] = {
    DEMO: Kind("Demo workspace", _build_demo),
    ACTIVECAMPAIGN: Kind("ActiveCampaign", _build_activecampaign, options=("url",)),
    CSV: Kind(
        "CSV import",
        None,
        refresh="import the file again to update it (flowdesk import --db PATH FILE.csv)",
    ),
    RAPIDPRO: Kind("RapidPro/TextIt", _build_rapidpro, options=("url",)),
    TWILIO: Kind("Twilio Studio", _build_twilio),
    RAPIDPRO_FILES: Kind("RapidPro/TextIt files", None, refresh=_FILES_REFRESH),
    TWILIO_FILES: Kind("Twilio Studio files", None, refresh=_FILES_REFRESH),
    TEAM: Kind("Team server", _build_team, options=("pg",)),
}


def label_of(kind: str | None) -> str:
    if kind is None:
        return "no"
    known = KINDS.get(kind)
    return known.label if known else kind


# -- reading ---------------------------------------------------------------------------------


def describe(db: Any) -> Workspace:
    """The workspace an open cache belongs to (read-only; works on any schema with ``meta``)."""
    source = get_meta(db, SOURCE_KEY) or {}
    demo = get_meta(db, DEMO_KEY)
    account = get_meta(db, ACCOUNT_KEY) or {}
    # Caches synced before the account had its own key kept its URL in the sync cursor.
    url = account.get("url") or (get_meta(db, cursor_key(ACTIVECAMPAIGN)) or {}).get("url")
    kind = source.get("kind")
    if kind is None:
        kind = DEMO if demo is not None else ACTIVECAMPAIGN if url else None
    extra: dict[str, Any] = {}
    if kind in (RAPIDPRO, TWILIO, TEAM):
        meta_key, field_name = ACCOUNT_KEYS[kind]
        extra = get_meta(db, meta_key) or {}
        url = extra.get(field_name)
    has_runs = db.execute("SELECT 1 FROM runs LIMIT 1").fetchone() is not None
    return Workspace(
        kind=kind,
        name=source.get("name"),
        account=url,
        account_label=account.get("label"),
        demo=demo,
        has_runs=has_runs,
        extra=extra,
    )


def describe_file(path: Path) -> Workspace | None:
    """The workspace of a cache file, opened read-only and never migrated (listing recent
    workspaces must not change them); None when the file is not a readable Flowdesk cache."""
    try:
        conn = sqlite3.connect(f"{Path(path).resolve().as_uri()}?mode=ro", uri=True, timeout=1)
    except sqlite3.Error:
        return None
    try:
        return describe(_Reader(conn))
    except (sqlite3.Error, ValueError):
        return None
    finally:
        conn.close()


class _Reader:
    """Just enough of sqlite_utils.Database for :func:`describe` over a raw connection."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def execute(self, sql: str, params: Any = ()) -> sqlite3.Cursor:
        return self.conn.execute(sql, params)


def last_completed_sync(db: Any) -> int | None:
    """Unix seconds of the cache's last completed sync, or None."""
    return get_meta(db, LAST_SYNC_KEY)


# -- choosing and claiming -------------------------------------------------------------------


def source_for(db: Any, kind: str | None = None, options: SourceOptions | None = None) -> Source:
    """The source that syncs this cache: ``kind`` on a first sync, else the cache's own.

    Raises :class:`WorkspaceError` (one line) when the cache has no source yet, holds another
    source's data, or the source cannot be built (no token, a bad URL...).
    """
    return source_for_workspace(describe(db), kind, options)


def source_for_workspace(
    workspace: Workspace, kind: str | None = None, options: SourceOptions | None = None
) -> Source:
    """:func:`source_for` for a workspace already read (or :class:`Workspace()` for a new file)."""
    wanted = kind or workspace.kind
    if wanted is None:
        raise WorkspaceError("this cache has no source yet: create the demo or connect a source")
    if kind and workspace.kind and kind != workspace.kind and workspace.has_runs:
        raise WorkspaceError(
            f"this cache holds {workspace.holds()}; sync {label_of(kind)} into its own cache file"
        )
    spec = KINDS.get(wanted)
    if spec is None:
        raise WorkspaceError(
            f"this cache holds {workspace.holds()}, which this version of Flowdesk cannot sync"
        )
    if spec.build is None:
        raise WorkspaceError(f"this cache holds {workspace.holds()}: {spec.refresh}")
    return spec.build(workspace, options or SourceOptions())


def claim(db: Any, source: Source) -> None:
    """Record that ``source`` fills this cache, refusing a cache that holds another source's
    data or another account. Call inside the transaction that starts the sync."""
    current = describe(db)
    if current.kind not in (None, source.kind) and current.has_runs:
        raise WorkspaceError(
            f"this cache holds {current.holds()}; sync {label_of(source.kind)} into its own "
            "cache file"
        )
    # Sources bound to an account say which (``account``: Twilio's SID), else their base URL.
    account = getattr(source, "account", None) or getattr(source, "base_url", None)
    if account and current.account and current.account != account and current.has_runs:
        raise WorkspaceError(
            f"this cache holds the account {current.account}; sync {account} into another "
            "cache file"
        )
    set_meta(db, SOURCE_KEY, {"kind": source.kind, "name": source.name})
    if account and source.kind == ACTIVECAMPAIGN:
        _record_account(db, account)
    elif account and source.kind in (RAPIDPRO, TWILIO, TEAM):
        meta_key, field_name = ACCOUNT_KEYS[source.kind]
        record = {field_name: account}
        if source.kind == TWILIO:
            record["url"] = getattr(source, "base_url", None)
        set_meta(db, meta_key, record)


def connect_team(db: Any, url: str, name: str) -> None:
    """Make a cache a team workspace for the server at ``url`` (no password) before its first
    sync (the app's Connect team server)."""
    current = describe(db)
    if current.kind not in (None, TEAM) and current.has_runs:
        raise WorkspaceError(f"this cache holds {current.holds()}; connect into another file")
    if current.account and current.account != url and current.has_runs:
        raise WorkspaceError(
            f"this cache syncs from the team server {current.account}; connect into another file"
        )
    with db.conn:
        set_meta(db, TEAM_KEY, {"url": url})
        set_meta(db, SOURCE_KEY, {"kind": TEAM, "name": name})


def claim_for_import(db: Any, where: Any, kind: str = CSV) -> None:
    """Refuse to import a file of ``kind`` (a CSV, RapidPro or Studio files) into a cache
    (``where``, as the user named it) that holds another source's data: runs, or flows alone
    (imported definitions have no runs)."""
    current = describe(db)
    has_flows = db.execute("SELECT 1 FROM flows LIMIT 1").fetchone() is not None
    if current.kind not in (None, kind) and (current.has_runs or has_flows):
        raise WorkspaceError(
            f"{where} holds {current.name or label_of(current.kind)} data; import into "
            "its own cache file (another --db)"
        )


def start_demo(db: Any, seed: int, contacts: int) -> None:
    """Make an empty cache a demo workspace: the next sync builds the simulated world."""
    with db.conn:
        set_meta(db, DEMO_KEY, {"seed": int(seed), "contacts": int(contacts)})


def connect_account(db: Any, url: str) -> str:
    """Make a cache an ActiveCampaign workspace for ``url`` before its first sync (the app's
    Connect); returns the account's label."""
    from flowdesk.core.sources.activecampaign import account_label

    current = describe(db)
    if current.kind not in (None, ACTIVECAMPAIGN) and current.has_runs:
        raise WorkspaceError(f"this cache holds {current.holds()}; connect into another file")
    label = account_label(url)
    with db.conn:
        _record_account(db, url)
        set_meta(db, SOURCE_KEY, {"kind": ACTIVECAMPAIGN, "name": f"ActiveCampaign · {label}"})
    return label


def connect_source(db: Any, kind: str, options: SourceOptions) -> None:
    """Make a cache a workspace of the API source ``kind`` before its first sync (the app's
    Connect dialogs). The source is built as a sync would build it, so its token must already
    be in the environment or the keyring, and the cache is claimed as that sync would claim it:
    a cache holding another source's data or another account is refused."""
    if kind == ACTIVECAMPAIGN:
        if not options.url:
            raise WorkspaceError("the account URL is needed to connect")
        connect_account(db, options.url)
        return
    if kind not in (RAPIDPRO, TWILIO):
        raise WorkspaceError(f"{label_of(kind)} cannot be connected this way")
    source = source_for_workspace(describe(db), kind, options)
    with db.conn:
        claim(db, source)


def record_completed_sync(db: Any, when: int) -> None:
    set_meta(db, LAST_SYNC_KEY, int(when))


def _record_account(db: Any, url: str) -> None:
    from flowdesk.core.sources.activecampaign import account_label

    stored = get_meta(db, ACCOUNT_KEY) or {}
    if stored.get("url") != url or not stored.get("label"):
        set_meta(db, ACCOUNT_KEY, {"url": url, "label": account_label(url)})
