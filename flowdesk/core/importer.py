"""Import a "Download results" CSV (ActiveCampaign's, or Flowdesk's own export) as one flow.

The file is turned into upstream-shaped records (the same ``run``/``execution`` dictionaries the
API sync produces) and fed through :class:`~flowdesk.core.sync.SyncEngine` by an
:func:`csv_source`, so imported data gets the same counters, graph and integrity guarantees.

Reading rules (see docs/activecampaign.md):

* Headers are matched case- and accent-insensitively against known synonyms (phone, first name,
  last name, status, reason, version, execution, entered, email, test).
* Every other column whose values are dates is a step; a row's path is its step dates in order.
* Status words are English, any case (Completed, Expired, Ongoing/Running, Ready, Canceled,
  Failed, and a few synonyms).
* Values may carry a leading ``'`` that neutralised a spreadsheet formula (``'=SUM(A1)``): it is
  removed. A UTF-8 BOM, UTF-16 files, and ``;`` or tab separators are accepted.
* A bad row is reported with its line number and skipped; the rest is imported.

Ids are derived from the content (flow name, version and execution names, phone, entry time), so
importing the same file twice changes nothing.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any

from flowdesk.core.errors import UserError
from flowdesk.core.model import EARLIEST_TIMESTAMP, LATEST_TIMESTAMP
from flowdesk.core.sources.base import Record
from flowdesk.core.sources.files import BATCH_SIZE, FileSource

KIND = "csv"
IMPORTED_STEP_TYPE = "IMPORTED"

# Role → accepted header spellings, already normalised (lower case, no accents, single spaces).
HEADER_SYNONYMS: dict[str, tuple[str, ...]] = {
    "phone": (
        "phone",
        "phone number",
        "contact phone",
        "contact s number",
        "contact number",
        "contacts number",
        "number",
        "mobile",
        "mobile number",
        "whatsapp",
        "whatsapp number",
        "telephone",
        "telefone",
        "telefono",
        "numero",
        "numero de telefono",
        "celular",
        "canonical phone",
    ),
    "first_name": (
        "first name",
        "firstname",
        "first",
        "given name",
        "name",
        "contact name",
        "nombre",
        "nome",
        "primeiro nome",
        "contact first name",
    ),
    "last_name": (
        "last name",
        "lastname",
        "last",
        "surname",
        "family name",
        "apellido",
        "apellidos",
        "sobrenome",
        "ultimo nome",
        "contact last name",
    ),
    "status": (
        "status",
        "execution status",
        "run status",
        "contact status",
        "state",
        "estado",
        "situacao",
        "flow status",
    ),
    "reason": (
        "reason",
        "status reason",
        "failure reason",
        "error",
        "error message",
        "motivo",
        "razon",
        "details",
    ),
    "version": ("version", "flow version", "version name", "versao"),
    "execution": (
        "execution",
        "flow execution",
        "execution id",
        "execution name",
        "campaign",
        "ejecucion",
        "execucao",
    ),
    "entered": (
        "entered",
        "entered at",
        "entered on",
        "entry date",
        "date entered",
        "created on",
        "created at",
        "created",
        "started",
        "started at",
        "start date",
        "start",
        "fecha de entrada",
        "data de entrada",
    ),
    "email": ("email", "e mail", "email address", "contact email", "correo", "correo electronico"),
    "is_test": ("test", "is test", "test run", "prueba", "teste"),
}

STATUS_WORDS: dict[str, str] = {
    "completed": "COMPLETED",
    "complete": "COMPLETED",
    "finished": "COMPLETED",
    "done": "COMPLETED",
    "success": "COMPLETED",
    "expired": "EXPIRED",
    "ongoing": "RUNNING",
    "running": "RUNNING",
    "in progress": "RUNNING",
    "active": "RUNNING",
    "waiting": "RUNNING",
    "started": "RUNNING",
    "ready": "READY",
    "pending": "READY",
    "queued": "READY",
    "not started": "READY",
    "canceled": "CANCELED",
    "cancelled": "CANCELED",
    "failed": "FAILED",
    "failure": "FAILED",
    "error": "FAILED",
}
# The last step of a path ends with the run's fate; earlier ones were completed.
_LAST_STEP_STATUS = {
    "COMPLETED": "COMPLETED",
    "EXPIRED": "EXPIRED",
    "RUNNING": "RUNNING",
    "READY": "RUNNING",
    "CANCELED": "CANCELED",
    "FAILED": "FAILED",
}
_TRUE_WORDS = frozenset({"1", "true", "yes", "y", "x", "test", "si", "sim"})
_FORMULA_START = frozenset("=+-@\t\r|")


class CsvImportError(UserError):
    """The file cannot be imported at all; the message is one line meant for the user."""


def normalize_header(text: str) -> str:
    text = unicodedata.normalize("NFKD", text.replace("\ufeff", ""))
    text = "".join(ch for ch in text if not unicodedata.combining(ch)).casefold()
    return re.sub(r"[^0-9a-z]+", " ", text).strip()


def unquote_cell(value: str | None) -> str:
    """Strip the quote a spreadsheet-safe export put before a formula-like value."""
    if not value:
        return ""
    value = value.strip(" ")
    if len(value) > 1 and value[0] == "'" and value[1] in _FORMULA_START:
        return value[1:]
    return value


# -- dates ---------------------------------------------------------------------------------------

_NUMERIC_DATE = re.compile(
    r"^(\d{1,4})[/.\-](\d{1,2})[/.\-](\d{1,4})"
    r"(?:[ T,]+(\d{1,2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?\s*([AaPp]\.?[Mm]\.?)?)?"
    r"\s*(Z|UTC|[+-]\d{2}:?\d{2})?$"
)
_NAMED_FORMATS = (
    "%b %d, %Y %I:%M %p",
    "%B %d, %Y %I:%M %p",
    "%b %d, %Y %H:%M",
    "%B %d, %Y %H:%M",
    "%b %d, %Y",
    "%B %d, %Y",
    "%d %b %Y %H:%M",
    "%d %B %Y %H:%M",
    "%d %b %Y",
    "%d %B %Y",
    "%b %d %Y %I:%M %p",
    "%b %d %Y %H:%M:%S",
)


def _offset(text: str | None) -> tzinfo | None:
    if not text:
        return None
    if text in ("Z", "UTC"):
        return UTC
    sign = 1 if text[0] == "+" else -1
    digits = text[1:].replace(":", "")
    from datetime import timedelta, timezone

    return timezone(sign * timedelta(hours=int(digits[:2]), minutes=int(digits[2:])))


def slash_order_hint(text: str) -> str | None:
    """'dmy' or 'mdy' when a d/m/y-looking value can only be read one way, else None."""
    text = text.strip()
    match = _NUMERIC_DATE.match(text)
    if not match or len(match.group(1)) == 4 or text[len(match.group(1))] == ".":
        return None  # year first, or dotted (always day first): no hint either way
    first, second = int(match.group(1)), int(match.group(2))
    if first > 12 >= second:
        return "dmy"
    if second > 12 >= first:
        return "mdy"
    return None


def parse_date(text: str, order: str = "mdy", zone: tzinfo = UTC) -> datetime | None:
    """A date-time in one of the shapes exports use, or None. Naive values are in ``zone``."""
    text = text.strip()
    if not text or not any(ch.isdigit() for ch in text):
        return None
    moment: datetime | None = None
    if re.match(r"^\d{4}-\d{2}-\d{2}", text):
        try:
            moment = datetime.fromisoformat(text.replace(" UTC", "+00:00"))
        except ValueError:
            moment = None
    if moment is None:
        match = _NUMERIC_DATE.match(text)
        if match:
            a, b, c, hour, minute, second, ampm, offset = match.groups()
            try:
                if len(a) == 4:
                    year, month, day = int(a), int(b), int(c)
                elif len(c) != 4:
                    return None  # 12/31/99: 1999 or 2099? Refused rather than guessed.
                else:
                    year = int(c)
                    day_first = order == "dmy" or text[len(a)] == "."  # D.M.YYYY always
                    day, month = (int(a), int(b)) if day_first else (int(b), int(a))
                h = int(hour or 0)
                if ampm:
                    pm = ampm.lower().startswith("p")
                    if not 1 <= h <= 12:
                        return None
                    h = (h % 12) + (12 if pm else 0)
                moment = datetime(year, month, day, h, int(minute or 0), int(second or 0))
            except ValueError:
                return None
            zone_here = _offset(offset)
            if zone_here is not None:
                moment = moment.replace(tzinfo=zone_here)
    if moment is None:
        for pattern in _NAMED_FORMATS:
            try:
                moment = datetime.strptime(text, pattern)
                break
            except ValueError:
                continue
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=zone)
    if not EARLIEST_TIMESTAMP <= moment.timestamp() < LATEST_TIMESTAMP:
        return None
    return moment


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- reading the file --------------------------------------------------------------------------


def _decode(raw: bytes) -> str:
    if raw.startswith((b"\xff\xfe", b"\xfe\xff")):
        return raw.decode("utf-16")
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252", errors="replace")


def _dialect(text: str) -> type[csv.Dialect]:
    """Excel's CSV rules with the separator the header uses (``,``, ``;`` or tab)."""
    first = text.split("\n", 1)[0]
    counts = {sep: first.count(sep) for sep in (",", ";", "\t")}
    separator = max(counts, key=lambda sep: counts[sep]) if any(counts.values()) else ","

    class Dialect(csv.excel):
        delimiter = separator

    return Dialect


def _read_rows(
    lines: list[str], skip: int, width: int, dialect: type[csv.Dialect]
) -> tuple[list[tuple[int, list[str]]], list[tuple[int, str]]]:
    """The non-blank rows after the first ``skip`` lines, each with the line it starts on, and
    the lines that could not be read.

    A quote that is opened and never closed makes the csv module read every following line
    into one cell. Such a row (it spans several lines and either runs to the end of the file
    unclosed or has a different number of cells than the header) is reported with the line
    range it swallowed, and the lines after its first are read again on their own: only the
    broken line is lost.
    """
    rows: list[tuple[int, list[str]]] = []
    bad: list[tuple[int, str]] = []
    start = skip  # index of the first line still to read
    while start < len(lines):
        reader = csv.reader(iter(lines[start:]), dialect)
        line = start + 1  # 1-based number of the line the next row starts on
        restart: int | None = None
        while True:
            try:
                row = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                bad.append((line, f"unreadable CSV ({exc})"))
                line = start + reader.line_num + 1
                continue
            end = start + reader.line_num  # the line this row ends on
            if end > line and _swallowed(lines[line - 1 : end], row, width, dialect):
                bad.append(
                    (
                        line,
                        f"a quote opened on line {line} is never closed, so lines {line}-{end} "
                        f"read as one row; line {line} is skipped and lines {line + 1}-{end} "
                        "are read again without it",
                    )
                )
                restart = line  # index of the line after the broken one
                break
            if any(cell.strip() for cell in row):
                rows.append((line, row))
            line = end + 1
        if restart is None:
            break
        start = restart
    return rows, bad


def _swallowed(chunk: list[str], row: list[str], width: int, dialect: type[csv.Dialect]) -> bool:
    """Whether a row read over several lines is an unclosed quote rather than a real
    multi-line cell (a name with a line break, as exports write them)."""
    if len(row) < width or any(cell.strip() for cell in row[width:]):
        return True
    try:
        for _ in csv.reader(iter(chunk), dialect, strict=True):
            break
    except csv.Error as exc:
        return "end of data" in str(exc)
    return False


def _stable_id(*parts: str) -> str:
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"csv-{digest[:8]}-{digest[8:12]}-{digest[12:16]}-{digest[16:20]}-{digest[20:32]}"


@dataclass(slots=True)
class ImportSummary:
    """What the file held and what became of it."""

    path: str
    flow_id: str
    flow_name: str
    rows: int = 0  # data rows (blank lines excluded)
    runs: int = 0  # rows turned into runs
    bad_rows: list[tuple[int, str]] = field(default_factory=list)  # (line number, why)
    columns: dict[str, str] = field(default_factory=dict)  # role → header as written
    step_columns: list[str] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    date_order: str = "mdy"
    versions: int = 0
    executions: int = 0


@dataclass(slots=True)
class ParsedFile:
    summary: ImportSummary
    executions: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    digest: str


def read_results_csv(
    path: str | Path,
    flow_name: str | None = None,
    *,
    date_order: str | None = None,
    zone: tzinfo = UTC,
) -> ParsedFile:
    """Parse a results file into upstream-shaped records. Raises :class:`CsvImportError`."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CsvImportError(f"cannot read {path}: {exc.strerror or exc}") from None
    digest = hashlib.sha256(raw).hexdigest()
    text = _decode(raw)
    if not text.strip():
        raise CsvImportError(f"{path.name} is empty")
    dialect = _dialect(text)
    # Physical lines exactly as the csv reader counts them (\n, \r or \r\n).
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines), dialect)
    try:
        header = next(reader)
    except (StopIteration, csv.Error) as exc:
        raise CsvImportError(f"{path.name} has no header row ({exc})") from None
    rows, bad = _read_rows(lines, reader.line_num, len(header), dialect)

    name = (flow_name or "").strip() or path.stem.strip() or "Imported flow"
    flow_id = _stable_id("flow", normalize_header(name) or name)
    summary = ImportSummary(str(path), flow_id, name, rows=len(rows), bad_rows=bad)

    # Columns: known roles first (first match wins), then date columns become steps.
    roles: dict[str, int] = {}
    for index, title in enumerate(header):
        key = normalize_header(title)
        for role, names in HEADER_SYNONYMS.items():
            if key in names and role not in roles:
                roles[role] = index
                break
    if "phone" not in roles:
        raise CsvImportError(
            f"{path.name}: no phone column (expected a header such as 'Phone' or 'Phone number')"
        )
    if "status" not in roles:
        raise CsvImportError(f"{path.name}: no status column (expected a header such as 'Status')")
    summary.columns = {role: header[index].replace("\ufeff", "") for role, index in roles.items()}

    def cell(row: list[str], index: int | None) -> str:
        if index is None or index >= len(row):
            return ""
        return unquote_cell(row[index])

    taken = set(roles.values())
    candidates = [i for i in range(len(header)) if i not in taken]
    values_by_column = {i: [cell(r, i) for _, r in rows] for i in candidates}
    if date_order is None:
        hints = {
            hint
            for i in [*candidates, roles.get("entered")]
            if i is not None
            for value in (values_by_column.get(i) or [cell(r, i) for _, r in rows])
            if value and (hint := slash_order_hint(value))
        }
        date_order = "dmy" if hints == {"dmy"} else "mdy"
    summary.date_order = date_order
    step_columns: list[int] = []
    for index in candidates:
        values = [v for v in values_by_column[index] if v]
        title = header[index].strip() or f"Column {index + 1}"
        if not values:
            summary.ignored_columns.append(title)
            continue
        dated = sum(1 for v in values if parse_date(v, date_order, zone) is not None)
        if dated * 2 > len(values):  # mostly dates: a step (odd values are bad rows)
            step_columns.append(index)
        else:
            summary.ignored_columns.append(title)
    titles: list[str] = []
    for index in step_columns:
        title = header[index].strip() or f"Column {index + 1}"
        base, copy = title, 2
        while title in titles:  # two columns with one name are two steps
            title, copy = f"{base} ({copy})", copy + 1
        titles.append(title)
    summary.step_columns = titles

    # One version per distinct Version value (or a single one), one execution per Execution.
    version_names: dict[str, str] = {}
    execution_names: dict[str, str] = {}
    for _, row in rows:
        version = cell(row, roles.get("version")) or "Imported"
        version_names.setdefault(version, _stable_id("version", flow_id, version))
        execution = cell(row, roles.get("execution"))
        if execution:
            execution_names.setdefault(execution, _stable_id("execution", flow_id, execution))
    outbound = bool(execution_names)
    flow = {
        "id": flow_id,
        "name": name,
        "trigger_type": "OUTBOUND_ANY" if outbound else "",
    }
    steps_by_version: dict[str, dict[int, dict[str, Any]]] = {}
    for version, version_id in version_names.items():
        steps_by_version[version] = {
            index: {
                "id": _stable_id("step", version_id, summary.step_columns[position]),
                "name": summary.step_columns[position],
                "step_type": IMPORTED_STEP_TYPE,
                "flow_version": version_id,
                "ordering_idx": position + 1,
                "next_step_default": "",
                "next_step_alternate": "",
                "next_steps_for_options": [],
            }
            for position, index in enumerate(step_columns)
        }

    # Rows → runs.
    runs: list[dict[str, Any]] = []
    seen: dict[tuple[str, str], int] = {}
    latest_by_version: dict[str, datetime] = {}
    first_by_execution: dict[str, datetime] = {}
    version_of_execution: dict[str, str] = {}
    pending: list[tuple[dict[str, Any], str, str]] = []
    for line_no, row in rows:
        if len(row) > len(header) and any(c.strip() for c in row[len(header) :]):
            bad.append((line_no, f"has {len(row)} cells but the header has {len(header)}"))
            continue
        phone = cell(row, roles["phone"])
        if not phone:
            bad.append((line_no, "no phone number"))
            continue
        word = normalize_header(cell(row, roles["status"]))
        status = STATUS_WORDS.get(word)
        if status is None:
            shown = cell(row, roles["status"])
            bad.append((line_no, f"unknown status {shown!r}" if shown else "no status"))
            continue
        problem = ""
        dated: list[tuple[datetime, int, int]] = []
        for position, index in enumerate(step_columns):
            value = cell(row, index)
            if not value:
                continue
            moment = parse_date(value, date_order, zone)
            if moment is None:
                problem = f"{summary.step_columns[position]!r}: {value!r} is not a date"
                break
            dated.append((moment, position, index))
        entered_text = cell(row, roles.get("entered"))
        entered = parse_date(entered_text, date_order, zone) if entered_text else None
        if entered_text and entered is None:
            problem = problem or f"entry date {entered_text!r} is not a date"
        if problem:
            bad.append((line_no, problem))
            continue
        dated.sort(key=lambda item: (item[0], item[1]))
        if entered is None:
            if not dated:
                bad.append((line_no, "no date: neither an entry date nor a step date"))
                continue
            entered = dated[0][0]
        version = cell(row, roles.get("version")) or "Imported"
        version_id = version_names[version]
        execution = cell(row, roles.get("execution"))
        execution_id = execution_names.get(execution) if execution else None
        if execution_id:
            first = first_by_execution.get(execution_id)
            first_by_execution[execution_id] = entered if first is None else min(first, entered)
            version_of_execution.setdefault(execution_id, version)
        last_seen = max([entered, *(m for m, _, _ in dated)])
        if version not in latest_by_version or latest_by_version[version] < last_seen:
            latest_by_version[version] = last_seen
        contact_key = re.sub(r"[^0-9]", "", phone) or phone
        contact_id = _stable_id("contact", contact_key)
        key = (contact_id, iso_utc(entered))
        occurrence = seen.get(key, 0)
        seen[key] = occurrence + 1
        run_id = _stable_id("run", flow_id, version_id, *key, str(occurrence))
        definitions = steps_by_version[version]
        path_steps = []
        for order, (moment, _position, index) in enumerate(dated):
            final = order == len(dated) - 1
            step_status = _LAST_STEP_STATUS[status] if final else "COMPLETED"
            path_steps.append(
                {
                    "id": f"{run_id}-{order}",
                    "step": definitions[index],
                    "status": step_status,
                    "status_reason": None,
                    "has_error": step_status == "FAILED",
                    "created_on": iso_utc(moment),
                    "expire_on": None,
                    "messages": [],
                }
            )
        reason = cell(row, roles.get("reason"))
        record = {
            "id": run_id,
            "contact": {
                "id": contact_id,
                "phone": phone,
                "first_name": cell(row, roles.get("first_name")),
                "last_name": cell(row, roles.get("last_name")),
                "email": cell(row, roles.get("email")) or None,
            },
            "status": status,
            "status_reason": reason or None,
            "created_on": iso_utc(entered),
            "is_test": normalize_header(cell(row, roles.get("is_test"))) in _TRUE_WORDS,
            "flow_execution": execution_id,
            "flow": flow,
            "execution_steps": path_steps,
        }
        pending.append((record, version, version_id))

    current = max(latest_by_version, key=lambda v: latest_by_version[v], default=None)
    version_objects = {
        version: {
            "id": version_id,
            "version_name": version,
            "version_description": f"Imported from {path.name}",
            "is_current_version": version == current,
        }
        for version, version_id in version_names.items()
    }
    flow["current_version"] = version_names.get(current) if current else None
    for record, version, _ in pending:
        record["flow_version"] = version_objects[version]
        runs.append(record)
    executions: list[dict[str, Any]] = []
    for execution, execution_id in execution_names.items():
        if execution_id not in first_by_execution:
            continue  # only bad rows pointed at it
        executions.append(
            {
                "id": execution_id,
                "flow": flow,
                "flow_version": version_objects[version_of_execution[execution_id]],
                "created_by": None,
                "created_on": iso_utc(first_by_execution[execution_id]),
                "start_on": None,
                "execute_for": "LIST",
                "contact_filters": [],
                "contact_import": None,
                "status": "COMPLETED",
                "status_reason": f"Imported from {path.name} ({execution})",
            }
        )
    bad.sort()
    summary.runs = len(runs)
    summary.versions = len({v for _, v, _ in pending})
    summary.executions = len(executions)
    return ParsedFile(summary, executions, runs, digest)


# -- the source ----------------------------------------------------------------------------------


def csv_source(parsed: ParsedFile, batch_size: int = BATCH_SIZE) -> FileSource:
    """A read CSV as a source (:class:`~flowdesk.core.sources.files.FileSource`): its
    executions, then its rows' runs; bad rows are reported with the first batch."""
    return FileSource(
        KIND,
        f"CSV import ({Path(parsed.summary.path).name})",
        parsed.digest,
        [Record("execution", e) for e in parsed.executions],
        parsed.runs,
        unit="rows",
        problems=[(f"line {line}", message) for line, message in parsed.summary.bad_rows],
        batch_size=batch_size,
    )


def import_csv(
    db: Any,
    path: str | Path,
    flow_name: str | None = None,
    *,
    date_order: str | None = None,
    zone: tzinfo = UTC,
    progress: Callable[[Any], None] | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
):
    """Parse ``path`` and write it into ``db``; returns (ImportSummary, SyncReport)."""
    from flowdesk.core.sync import SyncEngine

    parsed = read_results_csv(path, flow_name, date_order=date_order, zone=zone)
    report = SyncEngine(db).run(csv_source(parsed), progress=progress, is_cancelled=is_cancelled)
    return parsed.summary, report
