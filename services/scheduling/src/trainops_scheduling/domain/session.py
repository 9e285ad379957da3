"""The ``Session`` aggregate: one sitting of a training, its invariants and its lifecycle.

Sessions are immutable; every transition returns a new value with ``version`` + 1, which is the
``aggregate_version`` of the event the service publishes and the optimistic-locking token of the
row it writes. The wall clock gates nothing: the programme back-fills past sessions, so a session
may be scheduled in the past and completed whenever the organisers say so.
"""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal, get_args

from trainops_scheduling.domain.cities import CityCatalogue, load_zone, validate_language
from trainops_scheduling.domain.errors import IllegalTransition, InvalidField
from trainops_scheduling.domain.quotas import validate_quotas
from trainops_scheduling.domain.times import (
    MAX_SESSION_LENGTH,
    TimeRange,
    check_interval,
    local_times,
)
from trainops_shared.events.scheduling import SeatQuota

SessionMode = Literal["online", "in_person"]
SessionStatus = Literal["scheduled", "cancelled", "completed"]

MODES: Final[tuple[str, ...]] = get_args(SessionMode)
STATUSES: Final[tuple[str, ...]] = get_args(SessionStatus)
MIN_CAPACITY: Final[int] = 1
CAPACITY_CEILING: Final[int] = 1_000_000
"""No session and no setting goes above this: seat counts stay far inside every integer column
and event field, and a slip of the keyboard (three extra zeros) is still refused."""
DEFAULT_MAX_CAPACITY: Final[int] = 100_000
"""The default of the ``SCHEDULING_MAX_CAPACITY`` setting, the largest session programme staff
may schedule: national online webinars gather tens of thousands; an installation that wants a
tighter guard against typos (or a bigger event) sets its own bound."""


def validate_capacity(
    capacity: int, field: str = "capacity", maximum: int = CAPACITY_CEILING
) -> int:
    """Seats must be a real integer in ``MIN_CAPACITY..maximum`` (``True`` is not 1)."""
    if isinstance(capacity, bool) or not isinstance(capacity, int):
        raise InvalidField(field, "must be an integer")
    if not MIN_CAPACITY <= capacity <= min(maximum, CAPACITY_CEILING):
        raise InvalidField(field, f"must be between {MIN_CAPACITY} and {maximum}")
    return capacity


def _validate_cities(mode: str, cities: Sequence[str]) -> None:
    """In-person happens in one place; online may gather audiences from several cities."""
    if mode == "in_person" and len(cities) != 1:
        raise InvalidField("cities", "an in-person session takes place in exactly one city")
    if mode == "online" and not cities:
        raise InvalidField("cities", "an online session needs at least one city")
    if len(set(cities)) != len(cities):
        raise InvalidField("cities", "cities must be distinct")


@dataclass(frozen=True, kw_only=True)
class Session:
    """A scheduled sitting of a training; times are aware UTC, ``timezone`` is for display.

    The constructor checks structural invariants only (it is also used to load stored rows, and a
    city later removed from the catalogue must not make old sessions unreadable); use
    :meth:`schedule` for new sessions, which also checks the cities against the catalogue.
    """

    id: uuid.UUID
    training_id: uuid.UUID
    mode: SessionMode
    cities: tuple[str, ...]
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    language: str
    trainer_ids: tuple[uuid.UUID, ...] = ()
    venue: str | None = None
    status: SessionStatus = "scheduled"
    version: int = 1
    cancel_reason: str | None = None
    quotas: tuple[SeatQuota, ...] = ()

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise InvalidField("mode", f"unknown mode {self.mode!r}; valid: {', '.join(MODES)}")
        if self.status not in STATUSES:
            raise InvalidField("status", f"unknown status {self.status!r}")
        # Accept lists from callers but store tuples, so the value really is immutable.
        object.__setattr__(self, "cities", tuple(self.cities))
        object.__setattr__(self, "trainer_ids", tuple(self.trainer_ids))
        object.__setattr__(
            self, "quotas", validate_quotas(self.quotas, self.cities, CAPACITY_CEILING)
        )
        _validate_cities(self.mode, self.cities)
        if len(set(self.trainer_ids)) != len(self.trainer_ids):
            raise InvalidField("trainer_ids", "trainers must be distinct")
        load_zone(self.timezone)
        TimeRange(self.starts_at, self.ends_at)
        validate_capacity(self.capacity)
        validate_language(self.language)
        if self.venue is not None:
            if not isinstance(self.venue, str):
                raise InvalidField("venue", "must be text")
            object.__setattr__(self, "venue", self.venue.strip() or None)
        if isinstance(self.version, bool) or not isinstance(self.version, int) or self.version < 1:
            raise InvalidField("version", "must be a positive integer")

    @classmethod
    def schedule(
        cls,
        *,
        id: uuid.UUID,
        training_id: uuid.UUID,
        mode: SessionMode,
        cities: Sequence[str],
        starts_at: datetime,
        ends_at: datetime,
        capacity: int,
        language: str,
        catalogue: CityCatalogue,
        timezone: str | None = None,
        trainer_ids: Sequence[uuid.UUID] = (),
        venue: str | None = None,
        max_length: timedelta = MAX_SESSION_LENGTH,
        max_capacity: int = DEFAULT_MAX_CAPACITY,
        quotas: Sequence[SeatQuota] = (),
    ) -> Session:
        """Create a new session at version 1, validating everything including the catalogue.

        ``timezone`` defaults to the zone of the session's first city (where the organisers are).
        ``max_capacity`` is the installation's bound on new seat counts; a stored session is
        only held to :data:`CAPACITY_CEILING`, so lowering the setting never breaks old ones.
        """
        validate_capacity(capacity, maximum=max_capacity)
        _validate_cities(mode, cities)
        catalogue.validate_many(cities)
        check_interval(starts_at, ends_at, max_length)
        zone = timezone if timezone is not None else catalogue.timezone_of(cities[0])
        return cls(
            id=id,
            training_id=training_id,
            mode=mode,
            cities=tuple(cities),
            timezone=zone,
            starts_at=starts_at,
            ends_at=ends_at,
            capacity=capacity,
            language=language,
            trainer_ids=tuple(trainer_ids),
            venue=venue.strip() if venue else None,
            quotas=validate_quotas(quotas, cities, max_capacity),
        )

    @property
    def interval(self) -> TimeRange:
        return TimeRange(self.starts_at, self.ends_at)

    @property
    def is_active(self) -> bool:
        """Whether the session still occupies its trainers (cancelled ones free them)."""
        return self.status != "cancelled"

    def local_times(self, catalogue: CityCatalogue) -> dict[str, str]:
        """Start time as wall clock in each of the session's cities."""
        return local_times(self.starts_at, self.cities, catalogue)

    def _require_scheduled(self, action: str) -> None:
        if self.status != "scheduled":
            raise IllegalTransition(action, self.status)

    def reschedule(
        self, starts_at: datetime, ends_at: datetime, max_length: timedelta = MAX_SESSION_LENGTH
    ) -> Session:
        """Move the session; returns ``self`` unchanged (same version) if the times are the same."""
        self._require_scheduled("reschedule")
        check_interval(starts_at, ends_at, max_length)
        if (starts_at, ends_at) == (self.starts_at, self.ends_at):
            return self
        return dataclasses.replace(
            self, version=self.version + 1, starts_at=starts_at, ends_at=ends_at
        )

    def change_capacity(
        self,
        capacity: int,
        max_capacity: int = DEFAULT_MAX_CAPACITY,
        quotas: Sequence[SeatQuota] | None = None,
    ) -> Session:
        """Set the seat count (at most ``max_capacity``) and, unless ``quotas`` is ``None``,
        the whole list of quotas; returns ``self`` unchanged (same version) if nothing changes.

        Callers detect the no-op with ``result is session`` and then publish no event.
        """
        self._require_scheduled("change the capacity of")
        validate_capacity(capacity, maximum=max_capacity)
        new_quotas = (
            self.quotas if quotas is None else validate_quotas(quotas, self.cities, max_capacity)
        )
        if capacity == self.capacity and new_quotas == self.quotas:
            return self
        return dataclasses.replace(
            self, version=self.version + 1, capacity=capacity, quotas=new_quotas
        )

    def cancel(self, reason: str) -> Session:
        """Cancel with a reason participants will be told; cancelling twice is a conflict."""
        self._require_scheduled("cancel")
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidField("reason", "a cancellation reason is required")
        return dataclasses.replace(
            self, version=self.version + 1, status="cancelled", cancel_reason=reason.strip()
        )

    def complete(self) -> Session:
        """Mark the session as held; a cancelled session never took place so cannot complete."""
        self._require_scheduled("complete")
        return dataclasses.replace(self, version=self.version + 1, status="completed")
