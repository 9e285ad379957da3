"""Request and response bodies (msgspec Structs).

Simple shape rules live in ``msgspec.Meta`` constraints, so a wrong type or length is a 422 naming
the field before any handler runs; rules that need the catalogue or the database are the domain's.
Times arrive as strings on purpose: a naive ISO time means wall time in the session's zone, which
a ``datetime`` field could not tell apart from UTC.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

import msgspec

from trainops_scheduling.domain import (
    CAPACITY_CEILING,
    CityCatalogue,
    Session,
    SessionStatus,
    format_local,
)
from trainops_scheduling.domain.records import TrainerRecord, TrainingRecord
from trainops_shared.events.scheduling import SeatQuota
from trainops_shared.events.vocabulary import Language, Sector

Code = Annotated[
    str,
    msgspec.Meta(
        min_length=1,
        max_length=64,
        pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$",
        description="Unique human key of a training, e.g. 'ethical-coverage-2020'.",
    ),
]
Text = Annotated[str, msgspec.Meta(min_length=1, max_length=300)]
Name = Annotated[str, msgspec.Meta(min_length=1, max_length=200)]
CityName = Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
CityCode = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Timestamp = Annotated[
    str,
    msgspec.Meta(
        min_length=10,
        max_length=64,
        description="ISO 8601 date-time, with an offset or as wall time in the session's zone.",
        examples=["2020-12-22T10:00", "2020-12-22T04:00:00Z"],
    ),
]
Capacity = Annotated[
    int,
    msgspec.Meta(
        ge=1,
        le=CAPACITY_CEILING,
        description=("Seats; at most the installation's SCHEDULING_MAX_CAPACITY (default 100000)."),
    ),
]

Status = SessionStatus


class QuotaIn(msgspec.Struct, forbid_unknown_fields=True):
    """At most ``max_seats`` confirmed seats for ``sector``, ``city`` or both together."""

    max_seats: Annotated[int, msgspec.Meta(ge=0, le=CAPACITY_CEILING)]
    sector: Sector | None = None
    city: CityCode | None = None

    def quota(self) -> SeatQuota:
        return SeatQuota(max_seats=self.max_seats, sector=self.sector, city=self.city)


Quotas = Annotated[list[QuotaIn], msgspec.Meta(max_length=50)]


class TrainingTitle(msgspec.Struct, forbid_unknown_fields=True):
    en: Text
    ru: Text | None = None
    kk: Text | None = None

    def as_dict(self) -> dict[str, str]:
        return {k: v for k, v in (("en", self.en), ("ru", self.ru), ("kk", self.kk)) if v}


class DefineTrainingIn(msgspec.Struct, forbid_unknown_fields=True):
    code: Code
    title: TrainingTitle
    target_sectors: Annotated[list[str], msgspec.Meta(max_length=10)] = msgspec.field(
        default_factory=list
    )


class RegisterTrainerIn(msgspec.Struct, forbid_unknown_fields=True):
    name: Name
    home_city: CityName


class ScheduleSessionIn(msgspec.Struct, forbid_unknown_fields=True):
    training_id: uuid.UUID
    mode: Literal["online", "in_person"]
    cities: Annotated[list[CityCode], msgspec.Meta(min_length=1, max_length=50)]
    starts_at: Timestamp
    ends_at: Timestamp
    capacity: Capacity
    language: Language
    trainer_ids: Annotated[list[uuid.UUID], msgspec.Meta(max_length=20)] = msgspec.field(
        default_factory=list
    )
    venue: Annotated[str, msgspec.Meta(max_length=300)] | None = None
    timezone: Annotated[str, msgspec.Meta(min_length=1, max_length=64)] | None = None
    quotas: Quotas = msgspec.field(default_factory=list)


class RescheduleIn(msgspec.Struct, forbid_unknown_fields=True):
    starts_at: Timestamp
    ends_at: Timestamp


class CapacityIn(msgspec.Struct, forbid_unknown_fields=True):
    """The new seat count and, if given, the session's whole new list of quotas (omitted or
    ``null``: the quotas stay as they are; ``[]``: none any more)."""

    capacity: Capacity
    quotas: Quotas | None = None

    def new_quotas(self) -> list[SeatQuota] | None:
        return None if self.quotas is None else [q.quota() for q in self.quotas]


class CancelIn(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    alternative_session_id: uuid.UUID | None = None
    """The session the cancelled one's people are offered instead."""


class TrainingOut(msgspec.Struct):
    id: uuid.UUID
    code: str
    title: dict[str, str]
    target_sectors: list[str]
    version: int
    created_at: datetime

    @classmethod
    def of(cls, t: TrainingRecord) -> TrainingOut:
        return cls(t.id, t.code, t.title, t.target_sectors, t.version, t.created_at)


class TrainerOut(msgspec.Struct):
    id: uuid.UUID
    name: str
    home_city: str
    version: int
    created_at: datetime

    @classmethod
    def of(cls, t: TrainerRecord) -> TrainerOut:
        return cls(t.id, t.name, t.home_city, t.version, t.created_at)


class SessionOut(msgspec.Struct):
    """A session as clients see it: UTC instants plus the wall-clock start in each city."""

    id: uuid.UUID
    training_id: uuid.UUID
    mode: str
    cities: list[str]
    venue: str | None
    timezone: str
    starts_at_utc: datetime
    ends_at_utc: datetime
    local_times: dict[str, str]
    local_end_times: dict[str, str]
    capacity: int
    language: str
    trainer_ids: list[uuid.UUID]
    status: str
    version: int
    cancel_reason: str | None = None
    quotas: list[SeatQuota] = msgspec.field(default_factory=list)

    @classmethod
    def of(cls, s: Session, catalogue: CityCatalogue) -> SessionOut:
        def zone(city: str) -> str:
            # A city later dropped from the catalogue falls back to the session's own zone, so
            # old sessions stay readable.
            return catalogue.timezone_of(city) if city in catalogue else s.timezone

        return cls(
            id=s.id,
            training_id=s.training_id,
            mode=s.mode,
            cities=list(s.cities),
            venue=s.venue,
            timezone=s.timezone,
            starts_at_utc=s.starts_at,
            ends_at_utc=s.ends_at,
            local_times={c: format_local(s.starts_at, zone(c)) for c in s.cities},
            local_end_times={c: format_local(s.ends_at, zone(c)) for c in s.cities},
            capacity=s.capacity,
            language=s.language,
            trainer_ids=list(s.trainer_ids),
            status=s.status,
            version=s.version,
            cancel_reason=s.cancel_reason,
            quotas=list(s.quotas),
        )


class CityOut(msgspec.Struct):
    code: str
    timezone: str
    names: dict[str, str]
