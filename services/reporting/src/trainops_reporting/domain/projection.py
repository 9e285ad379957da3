"""The rules the projection folds events by: what counts, which copy wins, what a change adds.

Pure functions over plain values, so the order-independence of the read model can be read (and
tested) without a database: every "newer" here is by the event's own fields (version, instant,
id), never by arrival, so any delivery order converges to the same rows.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

OVERALL_ITEM: Final[str] = "overall"
"""The survey item whose answers make the satisfaction mean."""

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


def profile_of(row: Any) -> Profile:
    """The profile cell of a fact or participant row (or mapping)."""
    get = row.__getitem__ if isinstance(row, Mapping) else lambda name: getattr(row, name)
    return (get("city"), get("sector"), get("sex"), get("age_band"), get("language"))


Counts = tuple[int, int, int, int, int]
"""``(registered, attended, feedback, overall_sum, overall_count)`` of a fact or cell."""
ZERO: Final[Counts] = (0, 0, 0, 0, 0)


@dataclass(frozen=True, slots=True)
class FactDelta:
    """A change of one fact's contribution: flags as ±1, sums as the amount added."""

    participant_id: uuid.UUID
    training_id: uuid.UUID
    mode: str
    profile: Profile
    registered: int = 0
    attended: int = 0
    feedback: int = 0
    overall_sum: int = 0
    overall_count: int = 0

    def counts(self) -> Counts:
        return (
            self.registered,
            self.attended,
            self.feedback,
            self.overall_sum,
            self.overall_count,
        )


def delta_of(fact: Any, **changes: int) -> FactDelta:
    """A change of the contribution of ``fact`` (a facts row or the values of a new one)."""
    get = fact.__getitem__ if isinstance(fact, Mapping) else lambda name: getattr(fact, name)
    return FactDelta(
        participant_id=get("participant_id"),
        training_id=get("training_id"),
        mode=get("mode"),
        profile=profile_of(fact),
        **changes,
    )


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
