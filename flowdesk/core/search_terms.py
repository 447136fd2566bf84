"""The contact search index: the words and number forms a person may type to find a contact.

``contact_terms`` holds, per contact, prefix-searchable terms in four namespaces:

* ``p`` + the phone's digits (``+52 1 55…`` typed with or without ``+``),
* ``n`` + the national number (the digits after the country code), so ``055 1234 5678`` typed
  the way people write it at home, leading 0 dropped, is found as it is typed,
* ``r`` + the digits reversed, so the last 4 or more digits find the number,
* ``w`` + each word of the names, folded (accents stripped, case-folded), and ``e`` + the e-mail,
* ``x`` + two words of the names in either order ("jones oliver", "oliver jones"), so "Garcia I"
  is one short range instead of the intersection of every "garcia…" with every "i…".

The sync engine writes a contact's terms in the same transaction that stores the contact
(:func:`write_contact_terms`), so the index is exact after every batch; :func:`rebuild` fills it
for caches created before it existed and :func:`mismatches` proves it exact for
``flowdesk check``.

A first sync into an empty cache is the exception: it leaves the index to one sorted
:func:`rebuild` at its end (meta :data:`PENDING_KEY` marks that), because a million contacts'
terms inserted in arrival order land all over the table's B-tree: once it outgrows SQLite's
page cache, every batch's commit rewrites thousands of scattered pages. A build killed half-way
leaves the mark set, and the next sync builds the index before it writes.
"""

from __future__ import annotations

import json
import re
import sqlite3
import unicodedata
from collections.abc import Iterable, Sequence
from functools import lru_cache

# ITU-T E.164 country calling codes are prefix-free: 1 and 7 are one digit, these two, the rest
# three. That is enough to split any stored international number into country + national.
_TWO_DIGIT_CODES = frozenset(
    {
        "20", "27", "30", "31", "32", "33", "34", "36", "39", "40", "41", "43", "44", "45", "46",
        "47", "48", "49", "51", "52", "53", "54", "55", "56", "57", "58", "60", "61", "62", "63",
        "64", "65", "66", "81", "82", "84", "86", "90", "91", "92", "93", "94", "95", "98",
    }
)  # fmt: skip
_WORD = re.compile(r"\w+")
_ASCII_NON_DIGITS = {code: None for code in range(128) if not chr(code).isdigit()}
# Letters that do not decompose into a base letter plus accents, spelled as people type them
# on a keyboard without them ("Ærøskøbing" → "aeroskobing", "Łódź" → "lodz").
_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "ß": "ss", "đ": "d", "ł": "l", "þ": "th", "ð": "d", "ı": "i"}
)

# Word pairs are stored for the first few words of a name (n words give n·(n-1) pairs).
_PAIRED_WORDS = 4
# Meta key present (JSON true) while the index is left to be built whole: see the module doc.
PENDING_KEY = "contact_terms_pending"
# (phone, first_name, last_name, email) as stored in the contacts table.
ContactValues = tuple[str | None, str | None, str | None, str | None]
# (contact id, its terms as a JSON array): one row a contact, as a build stages them.
StagedTerms = list[tuple[str, str]]
_CONTACTS_SQL = "SELECT id, phone, first_name, last_name, email FROM contacts"


def fold(text: str) -> str:
    """Accent- and case-insensitive form: "José" and "JOSE" both become "jose"."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return plain.casefold().translate(_LETTERS)


def words(text: str) -> list[str]:
    return _WORD.findall(fold(text))


def digits_of(text: str | None) -> str:
    if not text:
        return ""
    if text.isascii():
        return text.translate(_ASCII_NON_DIGITS)
    return "".join(ch for ch in text if ch.isdigit())


def national_number(digits: str) -> str:
    """The digits after the country code of an international number ("" when unknown)."""
    if not digits:
        return ""
    if digits[0] in "17":
        size = 1
    elif digits[:2] in _TWO_DIGIT_CODES:
        size = 2
    else:
        size = 3
    return digits[size:] if len(digits) > size else ""


@lru_cache(maxsize=65536)
def _name_terms(name: str) -> frozenset[str]:
    """The ``w`` and ``x`` terms of a full name: people share names far more than phones, so a
    big sync folds each distinct name once."""
    names = words(name)
    paired = names[:_PAIRED_WORDS]
    return frozenset(
        [
            *("w" + word for word in names),
            *(f"x{a} {b}" for i, a in enumerate(paired) for j, b in enumerate(paired) if i != j),
        ]
    )


def contact_terms(values: ContactValues) -> set[str]:
    phone, first_name, last_name, email = values
    terms = set(_name_terms(f"{first_name or ''} {last_name or ''}"))
    digits = digits_of(phone)
    if digits:
        terms.add("p" + digits)
        terms.add("r" + digits[::-1])
        national = national_number(digits)
        if national:
            terms.add("n" + national)
    if email and email.strip():
        terms.add("e" + email.strip().casefold())
    return terms


def write_contact_terms(
    conn: sqlite3.Connection,
    inserted: Iterable[tuple[str, ContactValues]],
    changed: Iterable[tuple[str, ContactValues, ContactValues]],
) -> None:
    """The sync engine's hook: terms of new contacts, and of contacts whose phone, names or
    e-mail changed (``(id, old values, new values)``), inside the engine's transaction."""
    rows: list[tuple[str, str]] = []
    stale: list[tuple[str, str]] = []
    for contact_id, values in inserted:
        rows += [(term, contact_id) for term in contact_terms(values)]
    for contact_id, old, new in changed:
        before, after = contact_terms(old), contact_terms(new)
        stale += [(term, contact_id) for term in before - after]
        rows += [(term, contact_id) for term in after - before]
    conn.executemany("DELETE FROM contact_terms WHERE term = ? AND contact_id = ?", stale)
    conn.executemany("INSERT OR IGNORE INTO contact_terms (term, contact_id) VALUES (?, ?)", rows)


def _expected(conn: sqlite3.Connection) -> Iterable[tuple[str, str]]:
    for contact_id, *values in conn.execute(_CONTACTS_SQL):
        for term in contact_terms(tuple(values)):  # type: ignore[arg-type]
            yield term, contact_id


def _as_json(terms: set[str]) -> str:
    """A JSON array of ``terms``, for ``json_each`` (names and e-mails with quotes, backslashes
    or control characters go through the encoder; the rest are joined as they are)."""
    plain = "".join(terms)
    if '"' in plain or "\\" in plain or not plain.isprintable():
        return json.dumps(sorted(terms), ensure_ascii=False)
    return '["' + '","'.join(terms) + '"]' if terms else "[]"


def stage(conn: sqlite3.Connection) -> StagedTerms:
    """Every contact's terms as :func:`rebuild` stages them, read through ``conn`` (any
    connection to the cache: the engine reads them on a second one, beside its index builds)."""
    return [
        (contact_id, _as_json(contact_terms(tuple(values))))  # type: ignore[arg-type]
        for contact_id, *values in conn.execute(_CONTACTS_SQL)
    ]


def rebuild(conn: sqlite3.Connection, staged: StagedTerms | None = None) -> None:
    """Fill the index from the contacts table, in one pass of sorted inserts: each contact's
    terms go to a scratch table first (one row a contact, its terms as a JSON array, so Python
    hands SQLite 8x fewer rows), and reach the index sorted, so SQLite appends to its B-tree
    instead of rewriting pages all over it. ``staged``: :func:`stage`'s rows, read when the
    contacts were as they are now."""
    conn.execute("DELETE FROM contact_terms")
    conn.execute("CREATE TEMP TABLE contact_terms_unsorted (contact_id TEXT, terms TEXT)")
    try:
        conn.executemany(
            "INSERT INTO temp.contact_terms_unsorted VALUES (?, ?)",
            stage(conn) if staged is None else staged,
        )
        conn.execute(
            "INSERT OR IGNORE INTO contact_terms (term, contact_id)"
            " SELECT term.value, unsorted.contact_id"
            " FROM temp.contact_terms_unsorted AS unsorted, json_each(unsorted.terms) AS term"
            " ORDER BY 1, 2"
        )
    finally:
        conn.execute("DROP TABLE temp.contact_terms_unsorted")
    conn.execute("DELETE FROM meta WHERE key = ?", [PENDING_KEY])


def is_pending(conn: sqlite3.Connection) -> bool:
    """Whether the index waits for the :func:`rebuild` at the end of a first sync."""
    row = conn.execute("SELECT 1 FROM meta WHERE key = ?", [PENDING_KEY]).fetchone()
    return row is not None


def defer(conn: sqlite3.Connection) -> None:
    """Leave the index to one :func:`rebuild`; inside the caller's transaction."""
    conn.execute(
        "INSERT INTO meta (key, value) VALUES (?, 'true')"
        " ON CONFLICT(key) DO UPDATE SET value = excluded.value",
        [PENDING_KEY],
    )


def mismatches(conn: sqlite3.Connection, limit: int = 20) -> list[str]:
    """Differences between the stored index and the one the contacts table implies."""
    if is_pending(conn):
        return [
            "the contact search index is not built yet (a first sync stopped before its end):"
            " sync again to build it"
        ]
    expected = set(_expected(conn))
    stored = set(conn.execute("SELECT term, contact_id FROM contact_terms"))
    problems = [f"contact {cid}: search term {term!r} missing" for term, cid in expected - stored]
    problems += [f"contact {cid}: stale search term {term!r}" for term, cid in stored - expected]
    problems.sort()
    if len(problems) > limit:
        problems = [*problems[:limit], f"… and {len(problems) - limit} more search-index problems"]
    return problems


def term_range(prefix: str) -> Sequence[str]:
    """Bounds of every term starting with ``prefix``, for an index range scan."""
    return (prefix, prefix + "\U0010ffff")
