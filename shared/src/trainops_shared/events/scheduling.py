"""Events published by the scheduling context (stream ``SCHEDULING``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from trainops_shared.events.base import Event
from trainops_shared.events.vocabulary import Sector

SessionMode = Literal["online", "in_person"]


class SeatQuota(msgspec.Struct, frozen=True, kw_only=True):
    """At most ``max_seats`` confirmed seats of a session for people of ``sector``, of
    ``city``, or of both together (at least one of the two is set).

    Scheduling defines a session's quotas; registration, which decides seats, enforces them.
    """

    max_seats: Annotated[int, msgspec.Meta(ge=0)]
    sector: Sector | None = None
    city: str | None = None

    def matches(self, city: str, sector: str) -> bool:
        """Whether a registration of ``city`` and ``sector`` takes a seat of this quota."""
        return (self.sector is None or self.sector == sector) and (
            self.city is None or self.city == city
        )


class TrainingDefined(Event, frozen=True, kw_only=True, tag="scheduling.training_defined.v1"):
    """A training of the programme (e.g. ethical coverage of children's issues) was defined."""

    training_id: uuid.UUID
    code: str
    title: dict[str, str]
    target_sectors: list[str] = msgspec.field(default_factory=list)


class TrainerRegistered(Event, frozen=True, kw_only=True, tag="scheduling.trainer_registered.v1"):
    """A trainer (programme staff or an invited expert, not a participant) was registered."""

    trainer_id: uuid.UUID
    name: str
    home_city: str


class SessionScheduled(Event, frozen=True, kw_only=True, tag="scheduling.session_scheduled.v1"):
    """A session of a training was put in the calendar; times are UTC."""

    session_id: uuid.UUID
    training_id: uuid.UUID
    mode: SessionMode
    cities: list[str]
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    language: str
    trainer_ids: list[uuid.UUID] = msgspec.field(default_factory=list)
    venue: str | None = None
    quotas: list[SeatQuota] = msgspec.field(default_factory=list)


class SessionRescheduled(Event, frozen=True, kw_only=True, tag="scheduling.session_rescheduled.v1"):
    session_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    previous_starts_at: datetime | None = None
    previous_ends_at: datetime | None = None


class SessionCapacityChanged(
    Event, frozen=True, kw_only=True, tag="scheduling.session_capacity_changed.v1"
):
    """The session's seats changed: its capacity, its quotas, or both.

    ``quotas`` is the session's whole new list of quotas; ``None`` (every event published
    before quotas existed) leaves them as they were."""

    session_id: uuid.UUID
    capacity: int
    previous_capacity: int
    quotas: list[SeatQuota] | None = None


class SessionCancelled(Event, frozen=True, kw_only=True, tag="scheduling.session_cancelled.v1"):
    session_id: uuid.UUID
    reason: str
    alternative_session_id: uuid.UUID | None = None
    """The session the coordinator offers the cancelled session's people instead, if any."""


class SessionCompleted(Event, frozen=True, kw_only=True, tag="scheduling.session_completed.v1"):
    """The session took place; attendance can be closed and feedback invitations sent."""

    session_id: uuid.UUID
