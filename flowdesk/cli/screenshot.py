"""``flowdesk screenshot``: save PNGs of the main window (rendering: flowdesk/ui/screenshot.py)."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path

from flowdesk.cli._common import UserError, add_db_option

_SIZE = re.compile(r"^(\d{3,5})[x×](\d{3,5})$")
DEFAULT_SIZE = (1440, 900)


def parse_size(text: str) -> tuple[int, int]:
    """``--size 1366x768`` → (1366, 768)."""
    match = _SIZE.match(text.strip())
    if match is None:
        raise argparse.ArgumentTypeError(f"size must look like 1366x768, not {text!r}")
    return int(match.group(1)), int(match.group(2))


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "screenshot", help="save PNGs of the main window (summary, tabs, trace, details)"
    )
    add_db_option(parser, required=True, help="cache file")
    parser.add_argument("--out", type=Path, required=True, help="folder for the PNGs")
    parser.add_argument("--flow", help="flow id or name (default: the busiest outbound flow)")
    parser.add_argument(
        "--theme", choices=["light", "dark", "both"], default="light", help="palette"
    )
    parser.add_argument(
        "--size",
        type=parse_size,
        default=DEFAULT_SIZE,
        metavar="WxH",
        help="window size in pixels (default 1440x900); fails if the window cannot fit it",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    if not args.db.exists():
        raise UserError(f"no cache at {args.db}")
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from flowdesk.ui.screenshot import take_screenshots  # Qt loads only for this command

    themes = ["light", "dark"] if args.theme == "both" else [args.theme]
    written: list[Path] = []
    for theme in themes:
        suffix = "" if len(themes) == 1 else f"-{theme}"
        written += take_screenshots(
            args.db, args.out, args.flow, dark=theme == "dark", suffix=suffix, size=args.size
        )
    for path in written:
        print(path)
    return 0
