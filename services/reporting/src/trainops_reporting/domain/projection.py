"""The rules the projection folds events by: what counts, which copy wins, what a change adds.

Pure functions over plain values, so the order-independence of the read model can be read (and
tested) without a database: every "newer" here is by the event's own fields (version, instant,
id), never by arrival, so any delivery order converges to the same rows.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Final

OVERALL_ITEM: Final[str] = "overall"
"""The survey item whose answers make the satisfaction mean."""

STREAM_ORDER: Final[tuple[str, ...]] = ("SCHEDULING", "REGISTRATION", "FEEDBACK")
"""Producers first: a registration needs its session, a response its registration."""
CATCH_UP_BATCH: Final[int] = 2_000
"""Events per fetch while a stream is far behind: a fold's fixed costs (the inbox check, the
``IN`` reads, one ``executemany`` per table) over more events."""

PROFILE_COLUMNS: Final[tuple[str, ...]] = ("city", "sector", "sex", "age_band", "language")
Profile = tuple[str, str, str, str, str]
"""A profile cell: (city, sector, sex, age_band, language)."""

Stamp = tuple[datetime, str]
"""When a copy was written, as ``(occurred_at, event or response id)``: a total order."""


def counts_as_registered(status: str, session_cancelled: bool) -> bool:
    """Counted as registered: holds a seat (confirmed, promoted included) in a live session."""
    return status == "confirmed" and not session_cancelled


def is_newer(version: int, current: int) -> bool:
    """A versioned attribute changes only for an event newer than the one that last set it,
    so a late redelivery never rolls it back."""
    return version > current


def overall_of(answers: Mapping[str, int]) -> int | None:
    """The ``overall`` answer, if given as a Likert value; anything else is not averaged."""
    value = answers.get(OVERALL_ITEM)
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 5:
        return None
    return value


@dataclass(frozen=True, slots=True)
class ResponseChange:
    """What a feedback response adds to its registration's sums (negative parts: the response
    it replaces as the counted one)."""

    feedback: int
    overall_sum: int
    overall_count: int


def counted_response_change(
    overall: int | None, *, replaces: bool, replaced_overall: int | None = None
) -> ResponseChange:
    """The change of a registration's feedback sums when a response becomes the counted one.

    A response that ``replaces`` the counted one (it was submitted earlier) takes over its
    ``replaced_overall``: the count stays one per registration, the sums swap.
    """
    count, overall_sum, overall_count = 1, overall or 0, int(overall is not None)
    if replaces:
        count = 0
        overall_sum -= replaced_overall or 0
        overall_count -= int(replaced_overall is not None)
    return ResponseChange(count, overall_sum, overall_count)
