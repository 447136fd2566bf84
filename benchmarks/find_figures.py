"""Find a customer anywhere: typing to results, keystroke by keystroke, across every flow.

The window searches after each keystroke; what an agent waits for is the slowest keystroke of
what they type. Each figure replays typing a real contact's number or name the ways a ticket
gives it, calls :func:`flowdesk.core.customers.find_customers` as the search box does (the best
20 contacts with all their runs) after every character, and keeps the slowest keystroke.

The raw baseline answers the same keystroke without the index: a scan of the contacts table
with ``LIKE '%…%'`` on the phone, names and e-mail (which cannot even ignore accents), then the
matches' runs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from benchmarks.common import Figure, quoted, slowest_figure

RESULTS = 20  # what the search box shows


def _typing(text: str, start: int = 2) -> list[str]:
    """Every prefix of ``text`` from ``start`` characters, as the box sees it while typing."""
    return [text[:end] for end in range(start, len(text) + 1) if text[:end].strip()]


def _raw(db: Any, text: str) -> Callable[[], Any]:  # noqa: ANN401
    digits = "".join(ch for ch in text if ch.isdigit())
    like = f"%{digits if digits and not any(ch.isalpha() for ch in text) else text}%"

    def run() -> Any:  # noqa: ANN401
        ids = [
            row[0]
            for row in db.execute(
                "SELECT id FROM contacts WHERE phone LIKE ?1 OR first_name || ' ' || last_name"
                " LIKE ?1 OR email LIKE ?1",
                [like],
            )
        ]
        marks = ",".join("?" * min(len(ids), RESULTS))
        return db.execute(
            f"SELECT * FROM runs WHERE contact_id IN ({marks})", ids[:RESULTS]
        ).fetchall()

    return run


def measure(db_path: Path, scale: int, repeat: int = 5) -> list[Figure]:
    from flowdesk.core.customers import find_customers
    from flowdesk.core.db import connect
    from flowdesk.core.search_terms import digits_of, national_number

    db = connect(db_path)
    # A contact with several runs, accents in the name and a last name: a realistic ticket.
    contact_id, phone, first, last = db.execute(
        "SELECT c.id, c.phone, c.first_name, c.last_name FROM contacts c"
        " JOIN runs r ON r.contact_id = c.id WHERE c.last_name != '' AND c.phone LIKE '+52%'"
        " GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1"
    ).fetchone()
    national = national_number(digits_of(phone))
    country = digits_of(phone)[: -len(national)]
    spaced = f"+{country} {national[:3]} {national[3:6]} {national[6:]}"
    sessions = {
        "find_phone": [spaced, f"0{national[:3]}-{national[3:]}", national[-4:]],
        "find_name": [f"{first} {last}", f"{last} {first}", first[:4]],
    }
    figures: list[Figure] = []
    for figure, texts in sessions.items():
        for text in texts:
            found = [c.contact_id for c in find_customers(db, text, None)]
            assert contact_id in found, f"{text!r} does not find contact {contact_id}"
        figures.append(
            slowest_figure(
                figure,
                scale,
                [typed for text in texts for typed in _typing(text)],
                lambda typed: (lambda: find_customers(db, typed, RESULTS), _raw(db, typed)),
                lambda typed, texts=texts: (
                    f"slowest keystroke typing {quoted(texts)}: “{typed}”, best {RESULTS}"
                    " contacts with their runs; baseline: LIKE '%…%' scan of the contacts"
                ),
                repeat,
            )
        )
    db.conn.close()
    return figures
