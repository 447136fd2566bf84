"""Finding steps in a flow's graph by what a support agent remembers of them.

Real flows run to hundreds of steps (RapidPro allows 1,000 a flow, Studio 2,000 widgets): the
viewer's search box finds a step by any part of its name, its type or its id, ignoring case and
accents, and lists the matches in reading order (the layout's order), so Enter walks through them
top to bottom.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable, Iterable, Sequence
from typing import Protocol


class SearchableStep(Protocol):
    key: int
    id: str
    name: str
    step_type: str


def fold(text: str) -> str:
    """Lower case without accents: "Admisión" and "admision" are the same search."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def find_steps(
    steps: Iterable[SearchableStep],
    text: str,
    *,
    type_label: Callable[[str], str] = str,
    order: Callable[[int], Sequence[float]] | None = None,
) -> list[int]:
    """Keys of the steps whose name, type (raw or as labelled) or id contain every word of
    ``text``; sorted by ``order(key)`` (top to bottom, left to right) when given."""
    words = fold(text).split()
    if not words:
        return []
    found = []
    for step in steps:
        haystack = fold(" ".join((step.name, step.step_type, type_label(step.step_type), step.id)))
        if all(word in haystack for word in words):
            found.append(step.key)
    if order is not None:
        found.sort(key=lambda key: (*order(key), key))
    return found
