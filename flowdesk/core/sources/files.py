"""A read flow file (RapidPro export or run archive, Twilio Studio definition) as a source:
definitions first, then runs in batches; resumable, and idempotent on replay."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from flowdesk.core.formats.files import RAPIDPRO_FILE, TWILIO_FILE, ParsedFlows
from flowdesk.core.sources.base import Batch, Record, SyncState

BATCH_SIZE = 1000
SOURCE_NAMES = {RAPIDPRO_FILE: "RapidPro/TextIt files", TWILIO_FILE: "Twilio Studio files"}


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
