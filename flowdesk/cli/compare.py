"""``flowdesk compare``: two versions of a flow side by side, as text or as JSON.

The JSON is the contract checks and scripts rely on: ``a`` and ``b`` (the two versions with
their counters and rates, as fractions), ``difference`` (b − a with its 95 % interval),
``verdict``, and ``steps`` (added, removed, changed). The Compare tab of the app shows the
same numbers.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from flowdesk.cli._common import UserError, add_db_option, find_flow, open_cache


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "compare", help="compare two versions of a flow: what changed, and did it do better"
    )
    add_db_option(parser)
    parser.add_argument("--flow", required=True, help="flow id or name")
    parser.add_argument(
        "--versions",
        metavar="A,B",
        help="two version ids or names, older first (default: previous,current)",
    )
    parser.add_argument(
        "--finished-only",
        action="store_true",
        help="count only runs old enough to have finished (entered more than the longest wait"
        " of either version before the latest activity)",
    )
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def _version_id(versions: list[Any], ref: str) -> str:
    """A version by id, else by its exact (case-insensitive) name when that is unique."""
    for version in versions:
        if version.id == ref:
            return version.id
    named = [v for v in versions if (v.name or "").casefold() == ref.casefold()]
    if len(named) == 1:
        return named[0].id
    known = ", ".join(v.name or v.id for v in versions)
    raise UserError(f"no version {ref!r} in this flow (its versions: {known})")


def pick_versions(versions: list[Any], spec: str | None) -> tuple[str, str]:
    from flowdesk.core.compare import default_pair

    if spec is None:
        pair = default_pair(versions)
        if pair is None:
            raise UserError("this flow has only one version: there is nothing to compare")
        return pair
    refs = [part.strip() for part in spec.split(",")]
    if len(refs) != 2 or not all(refs):
        raise UserError(f"--versions takes two versions separated by a comma, not {spec!r}")
    return _version_id(versions, refs[0]), _version_id(versions, refs[1])


def run(args: argparse.Namespace) -> int:
    from flowdesk.core.compare import compare_versions, comparison_json
    from flowdesk.core.queries import list_versions

    db = open_cache(args.db)
    flow = find_flow(db, args.flow)
    a, b = pick_versions(list_versions(db, flow.id), args.versions)
    comparison = compare_versions(db, flow.id, a, b, finished_only=args.finished_only)
    if args.json:
        print(json.dumps(comparison_json(comparison), ensure_ascii=False, indent=2))
    else:
        print(render_text(flow.name, comparison))
    return 0


def render_text(flow_name: str, comparison: Any) -> str:
    """The comparison for a terminal: the rates side by side, the verdict, what changed and
    where the numbers moved."""
    from flowdesk.core.compare.verdict import interval_words, short_label, signed_points

    a, b = comparison.a, comparison.b
    a_name, b_name = short_label(a.label), short_label(b.label)
    if a_name == b_name:
        a_name, b_name = a.label, b.label

    def share(value: float | None) -> str:
        return "—" if value is None else f"{value * 100:.1f} %"

    width = max(len(a_name), len(b_name), 12) + 2
    lines = [
        f"{flow_name}: {b.label} compared with {a.label}"
        + (" (only runs old enough to have finished)" if comparison.finished_only else ""),
        "",
        f"{'':18}{a_name:>{width}}{b_name:>{width}}   difference, 95 % interval",
    ]
    rows = [
        ("Contacts", f"{a.counters.contacts:,}", f"{b.counters.contacts:,}", ""),
        ("Completed", f"{a.counters.completed:,}", f"{b.counters.completed:,}", ""),
        ("Still in the flow", f"{a.counters.ongoing:,}", f"{b.counters.ongoing:,}", ""),
        (
            "Completion rate",
            share(a.counters.completion_rate),
            share(b.counters.completion_rate),
            interval_words(comparison.completion),
        ),
        (
            "Response rate",
            share(a.counters.response_rate),
            share(b.counters.response_rate),
            interval_words(comparison.response),
        ),
    ]
    lines += [f"{name:18}{x:>{width}}{y:>{width}}   {d}".rstrip() for name, x, y, d in rows]
    lines += ["", comparison.verdict]
    if comparison.caveat:
        lines.append(f"Caveat: {comparison.caveat}")
    diff = comparison.diff
    added = [t for t in diff.transitions if t.status == "added"]
    lines += [
        "",
        f"What changed: {len(diff.added)} steps added, {len(diff.removed)} removed,"
        f" {len(diff.changed)} changed; {len(added)} transitions added,"
        f" {len(diff.transitions) - len(added)} removed",
    ]
    lines += [f"  + {c.step.name}" for c in diff.added]
    lines += [f"  - {c.step.name}" for c in diff.removed]
    lines += [f"  ~ {c.step.name}: {'; '.join(c.changes)}" for c in diff.changed]
    if comparison.shifts:
        lines += ["", "Where it changed (points of each version's contacts, b − a):"]
        lines += [
            f"  {s.name[:40]:40} reached {signed_points(s.reach_change):>6}"
            f"   lost {signed_points(s.loss_change):>6}"
            for s in comparison.shifts[:10]
        ]
    return "\n".join(lines)
