"""A file read whole, as a source: its header records first, then its runs in batches.

Every file import (an ActiveCampaign results CSV, a RapidPro export or run archive, a Twilio
Studio definition) is fed to the sync engine the same way, by :class:`FileSource`: the cursor
names the file's digest and the next run, so an interrupted import resumes where it stopped and
importing the same file again replays batches that change nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

from flowdesk.core.formats.files import RAPIDPRO_FILE, TWILIO_FILE, ParsedFlows
from flowdesk.core.sources.base import Batch, Record, SyncState

BATCH_SIZE = 1000
SOURCE_NAMES = {RAPIDPRO_FILE: "RapidPro/TextIt files", TWILIO_FILE: "Twilio Studio files"}


class FileSource:
    """Feeds a read file to the sync engine; resumable, and idempotent on replay.

    ``header`` (executions, definitions) goes with the first batch, before any run; ``unit``
    names what the progress counts ("rows" of a CSV, "runs" of an archive); ``problems`` are
    the file's skipped parts, reported once with the first batch.
    """

    def __init__(
        self,
        kind: str,
        name: str,
        digest: str,
        header: list[Record],
        runs: list[dict[str, Any]],
        *,
        unit: str = "runs",
        problems: list[tuple[str, str]] | None = None,
        batch_size: int = BATCH_SIZE,
    ) -> None:
        self.kind = kind
        self.name = name
        self.digest = digest
        self.header = header
        self.runs = runs
        self.unit = unit
        self.problems = problems or []
        self.batch_size = max(1, batch_size)

    def batches(self, state: SyncState, is_cancelled: Callable[[], bool]) -> Iterator[Batch]:
        cursor = state.cursor or {}
        start = 0
        if cursor.get("file") == self.digest and not cursor.get("complete"):
            start = int(cursor.get("next") or 0)
        total = len(self.runs)
        position = start
        first = True
        while first or position < total:
            chunk = self.runs[position : position + self.batch_size]
            records = [Record("run", run) for run in chunk]
            if first:
                records = self.header + records
            position += len(chunk)
            yield Batch(
                records,
                {"file": self.digest, "next": position, "complete": position >= total},
                done=position,
                total=total,
                note=f"{self.unit} {position:,} of {total:,}",
                stats={self.unit: len(chunk)},
                problems=self.problems if first else [],
            )
            first = False
            if is_cancelled():
                return


def flow_file_source(parsed: ParsedFlows, batch_size: int = BATCH_SIZE) -> FileSource:
    """A read RapidPro or Studio file as a source: its definitions, then its runs."""
    return FileSource(
        parsed.kind,
        SOURCE_NAMES[parsed.kind],
        parsed.digest,
        [Record("definition", d) for d in parsed.definitions],
        parsed.runs,
        batch_size=batch_size,
    )
