"""``flowdesk import FILE``: recognise the file, read it whole, then write it through the engine.

Recognised: a RapidPro/TextIt export (``{"version", "flows": [...]}``), a RapidPro run archive (one
run per line, optionally gzipped, or a JSON list of runs), a Twilio Studio flow definition (or a
Flow/Revision resource holding one), and, failing those, a "Download results" CSV (read by
``flowdesk.core.importer``). Every problem in a JSON file stops the import before anything is
written, with one line naming the position.

Reading only: the file is fed to the engine by ``flowdesk.core.sources.files.FileSource``
(``flowdesk.core.tasks.import_flow_file``), so file formats depend on neither the sources nor
the engine.
"""

from __future__ import annotations

import hashlib
import json
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

RAPIDPRO_FILE = "rapidpro-file"
TWILIO_FILE = "twilio-file"
CSV = "csv"

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


__all__ = [
    "CSV",
    "FORMAT_LABELS",
    "FileFormatError",
    "ParsedFlows",
    "detect",
    "load_json",
    "read_flows",
]
