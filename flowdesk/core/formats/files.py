"""``flowdesk import FILE``: recognise the file, read it whole, then write it through the engine.

Recognised: a RapidPro/TextIt export (``{"version", "flows": [...]}``), a RapidPro run archive (one
run per line, optionally gzipped, or a JSON list of runs), a Twilio Studio flow definition (or a
Flow/Revision resource holding one), and, failing those, a "Download results" CSV (read by
``flowdesk.core.importer``). Every problem in a JSON file stops the import before anything is
written, with one line naming the position.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import sqlite_utils

from flowdesk.core.formats import rapidpro, twilio
from flowdesk.core.formats.catalogue import Catalogue
from flowdesk.core.formats.common import (
    FileFormatError,
    decode,
    file_date,
    load_json,
    read_bytes,
)
from flowdesk.core.sources.base import Batch, Record, SyncState

RAPIDPRO_FILE = "rapidpro-file"
TWILIO_FILE = "twilio-file"
CSV = "csv"
BATCH_SIZE = 1000

SOURCE_NAMES = {RAPIDPRO_FILE: "RapidPro/TextIt files", TWILIO_FILE: "Twilio Studio files"}
FORMAT_LABELS = {
    "rapidpro-export": "RapidPro/TextIt flow export",
    "rapidpro-archive": "RapidPro run archive",
    "twilio-definition": "Twilio Studio flow definition",
    "csv": "ActiveCampaign results CSV",
}


@dataclass(slots=True)
class ParsedFlows:
    """A JSON file read whole: definitions and runs as upstream-shaped records."""

    path: Path
    format: str  # a key of FORMAT_LABELS
    kind: str  # the workspace source kind the file imports into
    definitions: list[dict[str, Any]]
    raw_runs: list[dict[str, Any]]
    digest: str
    detail: str = ""
    runs: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return FORMAT_LABELS[self.format] + (f" ({self.detail})" if self.detail else "")

    @property
    def steps(self) -> int:
        return sum(len(d["steps"]) for d in self.definitions)


def _looks_like_json(raw: bytes) -> bool:
    head = raw.lstrip()[:1]
    return head in (b"{", b"[")


def detect(path: Path) -> str:
    """The format of ``path`` (a key of FORMAT_LABELS), from its content, not its name."""
    raw = read_bytes(path)
    if not _looks_like_json(raw.lstrip(b"\xef\xbb\xbf")):
        return "csv"
    return read_flows(path, raw=raw).format


def read_flows(path: Path, *, raw: bytes | None = None) -> ParsedFlows:
    """Read a JSON flow file; raises :class:`FileFormatError` (one line) on any problem."""
    name = path.name
    raw = read_bytes(path) if raw is None else raw
    digest = hashlib.sha256(raw).hexdigest()
    text = decode(raw, name)
    imported_on = file_date(path)
    try:
        data: Any = json.loads(text)
    except json.JSONDecodeError as whole:
        first = text.lstrip().split("\n", 1)[0]
        try:
            head = json.loads(first)
        except json.JSONDecodeError:
            head = None
        if rapidpro.run_problem(head) is None or (isinstance(head, dict) and "path" in head):
            runs = rapidpro.read_archive(text, name)
            return ParsedFlows(path, "rapidpro-archive", RAPIDPRO_FILE, [], runs, digest)
        raise FileFormatError(
            f"{name}: line {whole.lineno}, column {whole.colno}: invalid JSON ({whole.msg})"
        ) from None
    if rapidpro.is_export(data):
        definitions = rapidpro.definitions_from_export(data, name, imported_on, source=name)
        spec = str(data.get("version") or "")
        return ParsedFlows(
            path,
            "rapidpro-export",
            RAPIDPRO_FILE,
            definitions,
            [],
            digest,
            f"spec {spec}" if spec else "",
        )
    if isinstance(data, dict) and twilio.is_definition(data.get("definition")):
        # A Flow or Revision resource as the REST API returns it.
        definition = twilio.definition_record(
            data["definition"],
            name,
            flow_id=data.get("sid") if str(data.get("sid", "")).startswith("FW") else None,
            flow_name=data.get("friendly_name") or None,
            revision=data.get("revision") if isinstance(data.get("revision"), int) else None,
            published=data.get("date_updated") or data.get("date_created") or imported_on,
            source=name,
        )
        return ParsedFlows(path, "twilio-definition", TWILIO_FILE, [definition], [], digest)
    if twilio.is_definition(data):
        definitions = twilio.read_definition(data, name, imported_on)
        return ParsedFlows(path, "twilio-definition", TWILIO_FILE, definitions, [], digest)
    if isinstance(data, dict) and ("path" in data and "flow" in data):
        data = [data]  # an archive of one run
    if isinstance(data, list) and data and isinstance(data[0], dict) and "path" in data[0]:
        for index, run in enumerate(data):
            problem = rapidpro.run_problem(run)
            if problem:
                raise FileFormatError(f"{name}: [{index}]: run {problem}")
        return ParsedFlows(path, "rapidpro-archive", RAPIDPRO_FILE, [], data, digest)
    raise FileFormatError(
        f"{name}: not a RapidPro export, RapidPro run archive or Twilio Studio definition"
    )


def prepare(parsed: ParsedFlows, db: sqlite_utils.Database) -> ParsedFlows:
    """Turn the file's runs into run records against the versions known to the cache and the
    file's own definitions."""
    catalogue = Catalogue.from_db(db)
    for definition in parsed.definitions:
        catalogue.add_definition(definition)
    parsed.runs = [rapidpro.run_record(raw, catalogue) for raw in parsed.raw_runs]
    return parsed


class FlowFileSource:
    """Feeds a read file to the sync engine: definitions first, then runs in batches."""

    def __init__(self, parsed: ParsedFlows, batch_size: int = BATCH_SIZE) -> None:
        self.parsed = parsed
        self.kind = parsed.kind
        self.name = SOURCE_NAMES[parsed.kind]
        self.batch_size = max(1, batch_size)

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        parsed = self.parsed
        cursor = state.cursor or {}
        start = 0
        if cursor.get("file") == parsed.digest and not cursor.get("complete"):
            start = int(cursor.get("next") or 0)
        runs = parsed.runs
        total = len(runs)
        position = start
        first = True
        while first or position < total:
            chunk = runs[position : position + self.batch_size]
            records = [Record("run", run) for run in chunk]
            if first:
                records = [Record("definition", d) for d in parsed.definitions] + records
            position += len(chunk)
            yield Batch(
                records,
                {"file": parsed.digest, "next": position, "complete": position >= total},
                done=position,
                total=total,
                note=f"runs {position:,} of {total:,}",
                stats={"runs": len(chunk)},
            )
            first = False
            if is_cancelled():
                return


def import_flow_file(
    db: sqlite_utils.Database,
    parsed: ParsedFlows,
    *,
    progress: Callable[[Any], None] | None = None,
    is_cancelled: Callable[[], bool] = lambda: False,
):
    """Write a read file into ``db``; returns the engine's SyncReport."""
    from flowdesk.core.sync import SyncEngine

    prepare(parsed, db)
    return SyncEngine(db).run(FlowFileSource(parsed), progress=progress, is_cancelled=is_cancelled)


__all__ = [
    "CSV",
    "FORMAT_LABELS",
    "FileFormatError",
    "FlowFileSource",
    "ParsedFlows",
    "detect",
    "import_flow_file",
    "load_json",
    "read_flows",
]
