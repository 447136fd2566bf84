"""``flowdesk sync``: bring a cache up to date from the source it belongs to.

``--source`` is needed only for a cache's first sync; later syncs use the source the cache
records, and a ``--source`` that disagrees with it is refused (:mod:`flowdesk.core.workspace`).
"""

from __future__ import annotations

import argparse

from flowdesk.cli._common import add_db_option, open_cache, resolve_db, run_sync


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("sync", help="incremental sync from the workspace's source")
    add_db_option(parser)
    parser.add_argument(
        "--source", choices=["demo", "activecampaign", "rapidpro", "twilio", "team"]
    )
    parser.add_argument(
        "--url",
        help="ActiveCampaign account URL (…/api/3), RapidPro/TextIt host (…/api/v2); Twilio: "
        "the Studio API (default https://studio.twilio.com/v2)",
    )
    parser.add_argument(
        "--pg", metavar="URL", help="team server: postgresql://user[:password]@host/database"
    )
    parser.add_argument("--rate", type=float, help="requests per second (default 5)")
    parser.add_argument("--page-size", type=int, help="list page size (default 100)")
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="ActiveCampaign: stop once the report is exact (every count, contact, version and "
        "execution), before reading paths; a later sync reads them (other sources read paths "
        "with the report)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowdesk.core import workspace
    from flowdesk.core.db import connect, get_meta

    options = workspace.SourceOptions(
        url=args.url,
        rate=args.rate,
        page_size=args.page_size,
        pg=args.pg,
        report_only=args.report_only,
    )
    path = resolve_db(args.db)
    if args.source in workspace.API_KINDS and not path.exists():
        # A first sync creates the cache, once the source is known to be usable.
        source = workspace.source_for_workspace(workspace.Workspace(), args.source, options)
        if source.kind == workspace.TEAM:
            source.check()
        return run_sync(connect(path), source, "Syncing")
    db = open_cache(path, write=True)
    source = workspace.source_for(db, args.source, options)
    if source.kind == workspace.TEAM:
        # Password, reachability, schema and server identity, before the cache is touched.
        source.check(get_meta(db, workspace.cursor_key(workspace.TEAM)))
    return run_sync(db, source, "Syncing")
