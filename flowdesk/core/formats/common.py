"""What the file readers share: the one-line file error, stable ids and JSON loading.

A file is read whole before anything is written, so a malformed file imports nothing; the error
names the file and the position of the problem (a line and column for broken JSON, a JSON path
such as ``flows[2].nodes[5].exits`` for a wrong shape, a line for a bad archive row).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import zlib
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from flowdesk.core.errors import UserError
from flowdesk.core.records import parse_timestamp


class FileFormatError(UserError):
    """A file that cannot be imported; the message is one line naming where the problem is."""


def stable_id(prefix: str, *parts: str) -> str:
    """A short id derived from content, so importing the same thing twice gives the same id."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return f"{prefix}-{digest[:16]}"


def content_digest(value: Any) -> str:
    """Digest of a JSON value, independent of key order and whitespace."""
    blob = json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(blob.encode("utf-8")).hexdigest()[:12]


def read_bytes(path: Path) -> bytes:
    """The file's bytes, un-gzipped when it is gzipped (whatever its name says)."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"cannot read {path}: {exc.strerror or exc}") from None
    if raw[:2] == b"\x1f\x8b":
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise FileFormatError(f"{path.name}: broken gzip data ({exc})") from None
    return raw


def decode(raw: bytes, name: str) -> str:
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise FileFormatError(f"{name}: not UTF-8 text (byte {exc.start})") from None


def load_json(text: str, name: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise FileFormatError(
            f"{name}: line {exc.lineno}, column {exc.colno}: invalid JSON ({exc.msg})"
        ) from None


def file_date(path: Path) -> datetime:
    """When the file was last written: the date an imported definition's version is named by."""
    try:
        return datetime.fromtimestamp(path.stat().st_mtime, UTC)
    except OSError:
        return datetime.now(UTC)


def iso(moment: datetime) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalize_time(value: Any) -> str | None:
    """An upstream date-time as ISO 8601 that ``parse_timestamp`` reads, or None.

    RapidPro writes up to nanoseconds (``…:56.123456789Z``); Python reads six digits at most.
    """
    if not isinstance(value, str) or not value:
        return None
    text = value.strip()
    if "." in text:
        head, _, tail = text.partition(".")
        digits = len(tail) - len(tail.lstrip("0123456789"))
        text = head + ("." + tail[: min(digits, 6)] if digits else "") + tail[digits:]
    try:
        parse_timestamp(text)
    except ValueError:
        return None
    return text


def expect(condition: bool, name: str, where: str, message: str) -> None:
    if not condition:
        raise FileFormatError(f"{name}: {where}: {message}")


def iso_epoch(seconds: int) -> str:
    return iso(datetime.fromtimestamp(seconds, UTC))
