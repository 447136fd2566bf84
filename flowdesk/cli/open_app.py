"""``flowdesk [--db PATH]``: open the desktop app on a cache (the command without a name)."""

from __future__ import annotations

import argparse

from flowdesk.cli._common import add_db_option, resolve_db


def configure(parser: argparse.ArgumentParser) -> None:
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowdesk.ui.app import run_app

    return run_app(resolve_db(args.db))
