"""Trainer double-booking detection.

A trainer cannot be in two sessions at once, whatever city or mode. Intervals are half-open, so
back-to-back sessions (one ends at 12:00, the next starts at 12:00) are allowed, and a session
being rescheduled is never compared with its own old slot.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Protocol

from trainops_scheduling.domain.errors import TrainerDoubleBooked
from trainops_scheduling.domain.times import TimeRange


class BookedSession(Protocol):
    """What overlap checking needs of an existing session (a :class:`Session` or a DB row)."""

    @property
    def id(self) -> uuid.UUID: ...
    @property
    def trainer_ids(self) -> Iterable[uuid.UUID]: ...
    @property
    def starts_at(self) -> datetime: ...
    @property
    def ends_at(self) -> datetime: ...
    @property
    def status(self) -> str: ...


@dataclass(frozen=True)
class TrainerConflict:
    """The other session a trainer is already booked in, for a 409 that names it.

    ``travel`` is set when the sessions do not overlap but are in different cities too close
    together: the travel time the trainer would need between them."""

    session_id: uuid.UUID
    trainer_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    travel: timedelta | None = None


def find_trainer_conflicts(
    trainer_ids: Iterable[uuid.UUID],
    interval: TimeRange,
    existing: Iterable[BookedSession],
    exclude_session_id: uuid.UUID | None = None,
) -> list[TrainerConflict]:
    """All conflicts, earliest other session first (ties by session id, then trainer order).

    Cancelled sessions are skipped even if the caller passes them, so a stale query cannot block
    a booking. Pass the rescheduled session's id as ``exclude_session_id``.
    """
    wanted = list(dict.fromkeys(trainer_ids))
    if not wanted:
        return []
    conflicts: list[TrainerConflict] = []
    for other in existing:
        if other.status == "cancelled" or other.id == exclude_session_id:
            continue
        if not interval.overlaps(TimeRange(other.starts_at, other.ends_at)):
            continue
        booked = set(other.trainer_ids)
        conflicts.extend(
            TrainerConflict(other.id, trainer, other.starts_at, other.ends_at)
            for trainer in wanted
            if trainer in booked
        )
    order = {trainer: i for i, trainer in enumerate(wanted)}
    conflicts.sort(key=lambda c: (c.starts_at, c.session_id, order[c.trainer_id]))
    return conflicts


def find_trainer_conflict(
    trainer_ids: Iterable[uuid.UUID],
    interval: TimeRange,
    existing: Iterable[BookedSession],
    exclude_session_id: uuid.UUID | None = None,
) -> TrainerConflict | None:
    """The first conflict (see :func:`find_trainer_conflicts` for the order), or ``None``."""
    conflicts = find_trainer_conflicts(trainer_ids, interval, existing, exclude_session_id)
    return conflicts[0] if conflicts else None


def ensure_trainers_free(
    trainer_ids: Iterable[uuid.UUID],
    interval: TimeRange,
    existing: Iterable[BookedSession],
    exclude_session_id: uuid.UUID | None = None,
) -> None:
    """Raise :class:`TrainerDoubleBooked` for the first conflict, if any."""
    conflict = find_trainer_conflict(trainer_ids, interval, existing, exclude_session_id)
    if conflict is not None:
        raise TrainerDoubleBooked(conflict.trainer_id, conflict.session_id)
