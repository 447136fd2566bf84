"""``flowdesk check``: prove the maintained counters and the contact search index exact, and
compare the upstream's own counters with the recount from the synced runs."""

from __future__ import annotations

import argparse

from flowdesk.cli._common import add_db_option, open_cache, resolve_db, terminal_json, terminal_text


def register(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "check",
        help="verify counters (maintained and upstream) and the contact search index",
    )
    add_db_option(parser, help="cache file")
    parser.add_argument("--json", action="store_true")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from flowdesk.core import search_terms
    from flowdesk.core.counters_check import compare_api_counters
    from flowdesk.core.db import damaged, quick_check
    from flowdesk.core.integrity import mismatches
    from flowdesk.core.queries import path_coverage

    db = open_cache(args.db)
    problems = quick_check(db)  # recounts over damaged pages would prove nothing
    if problems:
        raise damaged(resolve_db(args.db), problems)
    internal = mismatches(db)
    upstream = compare_api_counters(db)
    search_index = search_terms.mismatches(db.conn)
    runs = db.execute("SELECT count(*) FROM runs").fetchone()[0]
    # Not an error: per-step counts are recounted over the paths read so far.
    paths = path_coverage(db, runs=runs)
    if args.json:
        print(
            terminal_json(
                {
                    "counters_exact": not internal,
                    "counter_problems": internal,
                    "api_counters_agree": not upstream,
                    "api_counter_mismatches": [m.as_dict() for m in upstream],
                    "search_index_exact": not search_index,
                    "search_index_problems": search_index,
                    "paths": paths.as_dict(),
                }
            )
        )
    else:
        if internal:
            print("Maintained counters differ from a recount:")
            for line in internal:
                print(f"  {terminal_text(line)}")
        else:
            print("Maintained counters: exact.")
        if upstream:
            print("Upstream counters differ from the recount of synced runs:")
            for mismatch in upstream:
                print(f"  {terminal_text(mismatch.describe())}")
        else:
            print("Upstream counters: agree with the synced runs (or none to compare).")
        if search_index:
            print("Contact search index differs from the contacts:")
            for line in search_index:
                print(f"  {terminal_text(line)}")
        else:
            print("Contact search index: exact.")
        if paths.partial:
            print(
                f"Paths: {paths.with_path:,} of {paths.runs:,} runs read so far; step counts"
                " were checked over those (a sync without --report-only reads the rest)."
            )
    return 1 if internal or upstream or search_index else 0
