"""Command line: open the app, build the demo, sync, print stats, export, screenshot.

User mistakes (missing cache, unknown flow, bad arguments) print one line on stderr and exit
non-zero; tracebacks are kept for real bugs.

One module per command, each with ``register(subparsers)``; a new command is a new module and
its name in :data:`COMMANDS`. Command modules share :mod:`flowdesk.cli._common` and never import
this package. Heavy dependencies (Qt, openpyxl, the sync engine) load only when a command runs.
"""

from __future__ import annotations

import argparse
import importlib

from flowdesk import __version__
from flowdesk.cli import _common, open_app

# The subcommands, in the order ``flowdesk --help`` lists them.
COMMANDS = (
    "demo",
    "sync",
    "stats",
    "find",
    "compare",
    "export",
    "screenshot",
    "import_file",
    "check",
    "doctor",
    "server",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="flowdesk", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    open_app.configure(parser)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in COMMANDS:
        importlib.import_module(f"flowdesk.cli.{name}").register(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    # Background jobs run in spawned child processes; in a bundled app the child is this same
    # executable, and this call turns it into the worker instead of a second app.
    import multiprocessing

    multiprocessing.freeze_support()
    args = build_parser().parse_args(argv)
    return _common.run_command(args.func, args)
