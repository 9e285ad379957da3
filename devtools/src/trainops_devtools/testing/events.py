"""Builders of the scheduling events other services' tests feed their handlers.

A test names only what it is about (the capacity, the cities, the version); everything else is
a fixed, valid session so that two tests never disagree on what "a scheduled session" is.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from trainops_shared.events import SessionCapacityChanged, SessionScheduled
from trainops_shared.events.scheduling import SessionMode

START = datetime(2021, 1, 20, 4, 0, tzinfo=UTC)


def session_scheduled(
    *,
    session_id: uuid.UUID | None = None,
    version: int = 1,
    capacity: int = 10,
    cities: tuple[str, ...] = ("almaty", "aktobe"),
    mode: SessionMode = "online",
    starts_at: datetime = START,
    hours: int = 6,
) -> SessionScheduled:
    """A ``SessionScheduled`` of a new session (or of ``session_id``) at ``version``."""
    sid = session_id or uuid.uuid4()
    return SessionScheduled(
        aggregate_id=sid,
        aggregate_version=version,
        session_id=sid,
        training_id=uuid.uuid4(),
        mode=mode,
        cities=list(cities),
        timezone="Asia/Almaty",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=hours),
        capacity=capacity,
        language="ru",
    )


def capacity_changed(
    session_id: uuid.UUID, *, version: int, capacity: int, previous: int
) -> SessionCapacityChanged:
    """Scheduling's word that ``session_id`` now seats ``capacity`` instead of ``previous``."""
    return SessionCapacityChanged(
        aggregate_id=session_id,
        aggregate_version=version,
        session_id=session_id,
        capacity=capacity,
        previous_capacity=previous,
    )
