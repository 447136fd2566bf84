"""``python -m flowdesk.cli.docs``: write docs/cli.md from the parser, so the reference cannot
drift from the commands (tests/test_cli_docs.py fails when it does)."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from flowdesk.cli import build_parser

DOCS_PATH = Path(__file__).resolve().parents[2] / "docs" / "cli.md"
WIDTH = 100  # help is wrapped to the terminal; the reference is wrapped to this

HEADER = """# Command line reference

Generated from the parser by `python -m flowdesk.cli.docs`; do not edit by hand (the test suite
fails when this file and the parser disagree). The README has the short list.

Every command prints mistakes (a missing cache, an unknown flow, a file that is not a cache) as
one line starting with `flowdesk:` on stderr and exits with status 2; progress goes to stderr,
results to stdout.
"""


def subcommands(parser: argparse.ArgumentParser) -> dict[str, argparse.ArgumentParser]:
    """The parser of every subcommand, in the order ``flowdesk --help`` lists them."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return dict(action.choices)
    return {}


def render() -> str:
    previous = os.environ.get("COLUMNS")
    os.environ["COLUMNS"] = str(WIDTH)
    try:
        parser = build_parser()
        parts = [HEADER, "## flowdesk\n", f"```\n{parser.format_help().rstrip()}\n```\n"]
        for name, sub in subcommands(parser).items():
            parts += [f"## flowdesk {name}\n", f"```\n{sub.format_help().rstrip()}\n```\n"]
    finally:
        if previous is None:
            os.environ.pop("COLUMNS", None)
        else:
            os.environ["COLUMNS"] = previous
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    target = Path(argv[0]) if argv else DOCS_PATH
    target.write_text(render(), encoding="utf-8")
    print(target)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
