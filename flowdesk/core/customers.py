"""Find a customer across every flow of the workspace, and list all their runs.

Support starts from a ticket with a phone number or a name, not from a flow. A search reads
the ``contact_terms`` index (see :mod:`flowdesk.core.search_terms`): every typed word or number
form becomes a prefix range of that index; words must all match (in any order); the number
forms are alternatives. Whole-term matches rank before prefix matches, the likelier reading of
the text before the others, and the most recently active contact first among equals.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import sqlite_utils

from flowdesk.core.search_terms import digits_of, term_range, words

# How many candidates a search ranks when the caller wants only the best few. Exact matches are
# read first, so a common prefix ("jo") still ranks an exact "Jo" among them; among equals the
# most recently active of those candidates come first.
CANDIDATES = 200
_PHONE_TEXT = re.compile(r"[+\d\s\-().\/]+")
_CHUNK = 900


@dataclass(frozen=True, slots=True)
class CustomerRun:
    """One entry of the contact into a flow."""

    run_key: int
    run_id: str
    flow_id: str
    flow: str
    version_id: str
    version: str
    execution_id: str | None
    status: str
    metric: str
    reason: str
    entered_at: int
    last_activity: int
    last_step: str
    is_test: bool


@dataclass(frozen=True, slots=True)
class Customer:
    contact_id: str
    phone: str
    first_name: str
    last_name: str
    email: str
    runs: tuple[CustomerRun, ...]

    @property
    def name(self) -> str:
        return f"{self.first_name} {self.last_name}".strip()

    @property
    def last_activity(self) -> int:
        return max((run.last_activity for run in self.runs), default=0)


def _plan(text: str) -> list[list[str]]:
    """A search as index lookups: alternatives, best first, each a list of term prefixes that
    must all match."""
    text = text.strip()
    if not text:
        return []
    digits = digits_of(text)
    if digits and _PHONE_TEXT.fullmatch(text):
        international = text.startswith("+") or digits.startswith("00")
        if digits.startswith("00"):
            digits = digits[2:]
        if not digits:
            return []
        # Best first: the whole number, the last digits, then a national number being typed.
        alternatives = [["p" + digits]]
        if not international:
            if len(digits) >= 4:
                alternatives.append(["r" + digits[::-1]])
            alternatives.append(["n" + digits])
            if digits.startswith("0") and len(digits) > 1:
                alternatives.append(["n" + digits[1:]])  # the trunk 0 of a national number
        return alternatives
    if "@" in text:
        return [["e" + text.casefold()]]
    typed = words(text)
    if not typed:
        return []
    alternatives = [["w" + word for word in typed]]
    if len(typed) > 1:  # the first word is typed whole: a range of word pairs, read first
        alternatives.insert(0, [f"x{typed[0]} {typed[1]}", *("w" + word for word in typed[2:])])
    if " " not in text:  # "nuria.etx" may be the start of an e-mail address
        alternatives.append(["e" + text.casefold()])
    return alternatives


def _lookup(prefixes: list[str], exact: bool) -> tuple[str, list[str]]:
    """Contacts having a term for every prefix (one index range each, intersected)."""
    selects = []
    params: list[str] = []
    for prefix in prefixes:
        if exact:
            selects.append("SELECT contact_id FROM contact_terms WHERE term = ?")
            params.append(prefix)
        else:
            selects.append("SELECT contact_id FROM contact_terms WHERE term >= ? AND term < ?")
            params.extend(term_range(prefix))
    return " INTERSECT ".join(selects), params


def _candidates(
    db: sqlite_utils.Database, plan: list[list[str]], cap: int | None
) -> dict[str, tuple[int, int]]:
    """Matching contacts with their rank: whole-term matches before prefix matches, then the
    alternatives in the plan's order. Each alternative is its own query, so a capped search
    stops reading a long range (a UNION would read every range to its end)."""
    found: dict[str, tuple[int, int]] = {}
    for phase, exact in enumerate((True, False)):
        for rank, prefixes in enumerate(plan):
            sql, params = _lookup(prefixes, exact)
            if cap is not None:
                if len(found) >= cap:
                    return found
                sql += f" LIMIT {int(cap) - len(found)}"
            for (contact_id,) in db.execute(sql, params):
                found.setdefault(contact_id, (phase, rank))
    return found


def _chunks(items: Sequence[str]) -> Iterable[Sequence[str]]:
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def find_customers(db: sqlite_utils.Database, text: str, limit: int | None = 20) -> list[Customer]:
    """Contacts matching ``text`` across all flows, best match first, each with their runs.

    ``limit=None`` returns every match (the CLI); the window asks for the best few as the user
    types, and then only :data:`CANDIDATES` matches are ranked.
    """
    plan = _plan(text)
    if not plan:
        return []
    found = _candidates(db, plan, None if limit is None else max(limit, CANDIDATES))
    activity: dict[str, int] = {}
    for chunk in _chunks(list(found)):
        marks = ",".join("?" * len(chunk))
        activity.update(
            db.execute(
                "SELECT contact_id, max(last_activity) FROM runs"
                f" WHERE contact_id IN ({marks}) GROUP BY contact_id",
                list(chunk),
            )
        )
    ranked = sorted((*rank, -activity.get(cid, 0), cid) for cid, rank in found.items())
    best = [row[-1] for row in ranked[:limit]]
    customers = _customers(db, best)
    return [customers[contact_id] for contact_id in best]


def get_customer(db: sqlite_utils.Database, contact_id: str) -> Customer | None:
    """A contact's details and every run across flows, newest first (the customer page)."""
    return _customers(db, [contact_id]).get(contact_id)


def _customers(db: sqlite_utils.Database, ids: Sequence[str]) -> dict[str, Customer]:
    runs: dict[str, list[CustomerRun]] = {contact_id: [] for contact_id in ids}
    details: dict[str, tuple[str, str, str, str]] = {}
    for chunk in _chunks(ids):
        marks = ",".join("?" * len(chunk))
        for contact_id, *values in db.execute(
            f"SELECT id, phone, first_name, last_name, email FROM contacts WHERE id IN ({marks})",
            list(chunk),
        ):
            details[contact_id] = tuple(value or "" for value in values)  # type: ignore[assignment]
        for row in db.execute(
            "SELECT r.contact_id, r.key, r.id, r.flow_id, coalesce(f.name, r.flow_id),"
            " r.version_id, coalesce(v.name, r.version_id), r.execution_id, r.status, r.metric,"
            " r.status_reason, r.entered_at, r.last_activity, coalesce(s.name, ''), r.is_test"
            " FROM runs r LEFT JOIN flows f ON f.id = r.flow_id"
            " LEFT JOIN versions v ON v.id = r.version_id"
            " LEFT JOIN steps s ON s.key = r.last_step_key"
            f" WHERE r.contact_id IN ({marks}) ORDER BY r.entered_at DESC, r.key DESC",
            list(chunk),
        ):
            runs[row[0]].append(CustomerRun(*row[1:14], bool(row[14])))
    return {
        contact_id: Customer(contact_id, *values, runs=tuple(runs[contact_id]))
        for contact_id, values in details.items()
    }
