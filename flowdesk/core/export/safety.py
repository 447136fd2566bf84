"""Keep exported text from being run as a spreadsheet formula (CSV / formula injection).

OWASP's guidance: a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
may be evaluated as a formula by Excel, LibreOffice or Google Sheets (``=HYPERLINK(...)``,
``@SUM(...)``, DDE payloads). Such cells are written with a leading apostrophe, which every
spreadsheet shows as literal text, so ``=SUM(A1)`` becomes ``'=SUM(A1)``.

The one exception is text shaped like a number: only digits and the punctuation phone numbers
use (spaces, dots, dashes, parentheses) after an optional leading ``+`` or ``-``. Such text has
no letters, so it cannot name a function, a cell or a DDE server; ``+5215512345678`` and
``-12.5`` therefore stay as they are and a phone number stays a readable phone number.
"""

from __future__ import annotations

import re

# Characters that make a spreadsheet treat a cell as a formula (OWASP CSV injection).
TRIGGERS = frozenset("=+-@\t\r")

_NUMBER_SHAPED = re.compile(r"[+-]?[0-9 ().\-]*[0-9][0-9 ().\-]*\Z")

# XML 1.0 cannot carry these control characters; openpyxl refuses them, so they are dropped.
_XML_ILLEGAL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
XLSX_MAX_TEXT = 32767  # Excel's limit on the characters in one cell


def _number_shaped(value: str) -> bool:
    # Fast path first: "+5215512345678", the shape of nearly every phone number.
    rest = value[1:]
    if value[0] in "+-" and rest.isdigit() and rest.isascii():
        return True
    return _NUMBER_SHAPED.match(value) is not None


def neutralise(value: str) -> str:
    """``value`` unchanged, or prefixed with ``'`` when it could run as a formula."""
    if value and value[0] in TRIGGERS and not _number_shaped(value):
        return "'" + value
    return value


def xlsx_text(value: str) -> str:
    """Text an XLSX cell can hold: formula-safe, no XML control characters, within Excel's
    32,767-character limit."""
    if _XML_ILLEGAL.search(value):
        value = _XML_ILLEGAL.sub("", value)
    if value and value[0] in TRIGGERS and not _number_shaped(value):
        value = "'" + value
    if len(value) > XLSX_MAX_TEXT:
        value = value[: XLSX_MAX_TEXT - 1] + "…"
    return value
