"""The command-line reference is generated from the parser, and the README's short list names
every command with options that exist: neither can drift from the code."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

from flowdesk.cli import build_parser
from flowdesk.cli.docs import DOCS_PATH, render, subcommands

README = Path(__file__).resolve().parents[1] / "README.md"


def readme_commands() -> dict[str, set[str]]:
    """``{command: options}`` from the README's "Command line" block ("" for the app itself)."""
    text = README.read_text(encoding="utf-8")
    block = re.search(r"## Command line\n\n```\n(.*?)```", text, re.S)
    assert block, "the README has no Command line block"
    found: dict[str, set[str]] = {}
    current = None
    for line in block[1].splitlines():
        if line.startswith(" ") and current is not None:
            found[current] |= set(re.findall(r"--[a-z][a-z-]*", line))
            continue
        words = re.sub(r"^\S+=\S+\s+", "", line).split()  # FLOWDESK_AC_TOKEN=… flowdesk …
        assert words and words[0] == "flowdesk", line
        current = "" if len(words) == 1 or words[1].startswith(("[", "-")) else words[1]
        command_part = line.split("   ")[0]  # the description follows three spaces or more
        found.setdefault(current, set()).update(re.findall(r"--[a-z][a-z-]*", command_part))
    return found


def test_docs_cli_md_is_generated_from_the_parser():
    assert DOCS_PATH.read_text(encoding="utf-8") == render(), (
        "docs/cli.md is stale: run python -m flowdesk.cli.docs"
    )


def test_the_readme_lists_every_command_with_real_options():
    parser = build_parser()
    commands = subcommands(parser)
    listed = readme_commands()
    assert set(listed) - {""} == set(commands)

    def options(p) -> set[str]:
        """A command's flags, and those of its own subcommands (``server init|sync``)."""
        flags = {flag for action in p._actions for flag in action.option_strings}
        for action in p._actions:
            if isinstance(action, argparse._SubParsersAction) and p is not parser:
                for sub in action.choices.values():
                    flags |= options(sub)
        return flags

    for name, flags in listed.items():
        known = options(parser) if name == "" else options(commands[name])
        assert flags <= known, f"README: flowdesk {name} has no {sorted(flags - known)}"


def test_the_readme_check_catches_an_unknown_option(monkeypatch, tmp_path):
    fake = tmp_path / "README.md"
    fake.write_text("## Command line\n\n```\nflowdesk stats --db PATH --nope   x\n```\n")
    monkeypatch.setattr("tests.test_cli_docs.README", fake)
    assert readme_commands() == {"stats": {"--db", "--nope"}}
