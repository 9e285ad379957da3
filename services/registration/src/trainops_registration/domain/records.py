"""The registration context's state as plain values: what the store hands the use cases.

The adapters build these from rows and the API turns them into responses; nothing here knows
either. Statuses carry the domain's ``Literal`` types, so a rule receives exactly the values it
was written for and mypy checks every comparison with them.
"""

from __future__ import annotations

import dataclasses
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from trainops_registration.domain.seats import (
    RegistrationStatus,
    SessionSeats,
    SessionStatus,
    WaitlistEntry,
)
from trainops_shared.events.scheduling import SeatQuota
from trainops_shared.events.vocabulary import AgeBand, Language, Sector, Sex

CancelCause = Literal["participant", "session_cancelled"]
FlagStatus = Literal["open", "resolved"]

# A stand-in id for the last waitlist entry of :meth:`SessionCopy.seats`: the new-registration
# rule reads only its position (the counters say where the queue ends without loading the row).
_LAST_ENTRY_ID = uuid.UUID(int=0)


@dataclass(frozen=True, slots=True)
class SessionCopy:
    """This service's copy of a scheduling session, with its seat counters."""

    session_id: uuid.UUID
    training_id: uuid.UUID
    mode: str
    cities: list[str]
    timezone: str
    starts_at: datetime
    ends_at: datetime
    capacity: int
    language: str
    status: SessionStatus
    version: int
    confirmed_count: int = 0
    waitlisted_count: int = 0
    last_waitlist_position: int = 0
    quotas: tuple[SeatQuota, ...] = ()

    def seats(self) -> SessionSeats:
        """Capacity, confirmed count and the end of the waitlist, from the counters alone (a
        session with quotas needs the seats held per city and sector too: the store's
        snapshot)."""
        last = self.last_waitlist_position
        return SessionSeats(
            capacity=self.capacity,
            confirmed_count=self.confirmed_count,
            waitlist=(WaitlistEntry(_LAST_ENTRY_ID, last),) if last > 0 else (),
        )

    def with_registration(self, added: Registration) -> SessionCopy:
        """This session after one more registration (what the seat counters now hold), for a
        transaction that registers several people with the session read once (CSV import)."""
        if added.status == "confirmed":
            return dataclasses.replace(self, confirmed_count=self.confirmed_count + 1)
        return dataclasses.replace(
            self,
            waitlisted_count=self.waitlisted_count + 1,
            last_waitlist_position=added.waitlist_position or self.last_waitlist_position,
        )


@dataclass(frozen=True, slots=True)
class Person:
    """A participant's personal data: it never leaves this service."""

    participant_id: uuid.UUID
    full_name: str
    name_key: str
    email: str | None
    phone: str | None
    organisation: str | None
    city: str


@dataclass(frozen=True, slots=True)
class Registration:
    """One person's place in one session; ``person`` only where the reader may see them."""

    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    city: str
    sector: Sector
    sex: Sex
    age_band: AgeBand
    language: Language
    status: RegistrationStatus
    waitlist_position: int | None
    attended: bool | None
    cancel_cause: CancelCause | None
    version: int
    created_at: datetime
    updated_at: datetime
    person: Person | None = None


@dataclass(frozen=True, slots=True)
class LiveRegistration:
    """A matched person's not-cancelled registration of the session being registered for."""

    registration_id: uuid.UUID
    status: RegistrationStatus
    city: str


@dataclass(frozen=True, slots=True)
class ParticipantMatch:
    """The existing participant an input denotes, and their live registration for a session."""

    person: Person
    live: LiveRegistration | None


@dataclass(frozen=True, slots=True)
class ParticipantSummary:
    """A participant as an admin reviewing duplicates sees them (personal data included)."""

    participant_id: uuid.UUID
    full_name: str
    email: str | None
    phone: str | None
    organisation: str | None
    city: str
    merged_into: uuid.UUID | None
    registrations: int


@dataclass(frozen=True, slots=True)
class DuplicateFlag:
    """A coordinator's note that a participant may have been registered before."""

    flag_id: uuid.UUID
    participant_id: uuid.UUID
    city: str
    possible_duplicate_of: uuid.UUID | None
    note: str
    status: FlagStatus
    flagged_by: str
    flagged_by_role: str
    created_at: datetime
    resolved_by_merge: uuid.UUID | None = None


@dataclass(frozen=True, slots=True)
class Merge:
    """The audit record of one merge: ids, cities, who and why; no personal data."""

    merge_id: uuid.UUID
    kept_participant_id: uuid.UUID
    merged_participant_id: uuid.UUID
    kept_city: str
    merged_city: str
    reason: str
    merged_by: str
    merged_by_role: str
    merged_by_region: str | None
    merged_at: datetime
    registrations_moved: int
    flags_resolved: int
