"""Seat and waitlist rules, and the registration/session status rules, as pure functions.

The service loads a small :class:`SessionSeats` snapshot inside the transaction that holds the
session's row lock, asks these functions what to do, then writes the result and its events.
Keeping the rules here (no SQL, no clock, no broker) makes every edge case a one-line unit test:
the last seat, the first waitlist position, a capacity cut below the confirmed count.
"""

from __future__ import annotations

import uuid
from collections import Counter
from collections.abc import Iterable
from typing import Final, Literal, NamedTuple, get_args

import msgspec

from trainops_registration.domain.errors import Conflict, Invalid
from trainops_shared.events.scheduling import SeatQuota

RegistrationStatus = Literal["confirmed", "waitlisted", "cancelled"]
SessionStatus = Literal["scheduled", "cancelled", "completed"]

REGISTRATION_STATUSES: Final[tuple[str, ...]] = get_args(RegistrationStatus)
SESSION_STATUSES: Final[tuple[str, ...]] = get_args(SessionStatus)


class WaitlistEntry(NamedTuple):
    """One waiting registration; ``position`` is 1-based and stable (gaps are fine).

    ``city`` and ``sector`` are the registration's, which the session's quotas look at (a
    snapshot of a session without quotas may leave them empty)."""

    registration_id: uuid.UUID
    position: int
    city: str = ""
    sector: str = ""


Group = tuple[str, str]
"""``(city, sector)`` of registrations, the two things a quota can limit."""


def fits(quotas: Iterable[SeatQuota], held: Counter[Group], city: str, sector: str) -> bool:
    """Whether one more confirmed seat of ``city``/``sector`` stays within every quota, given
    the confirmed seats ``held`` per group."""
    for quota in quotas:
        if not quota.matches(city, sector):
            continue
        used = sum(n for (c, s), n in held.items() if quota.matches(c, s))
        if used >= quota.max_seats:
            return False
    return True


class SessionSeats(msgspec.Struct, frozen=True, kw_only=True):
    """What the seat rules need to know about one session, taken before the change is applied.

    ``waitlist`` holds only registrations currently ``waitlisted``; its order does not matter
    because the functions order it by ``position`` themselves (FIFO by position).
    """

    capacity: int
    confirmed_count: int
    waitlist: tuple[WaitlistEntry, ...] = ()
    quotas: tuple[SeatQuota, ...] = ()
    held: tuple[tuple[str, str, int], ...] = ()
    """Confirmed seats per ``(city, sector, count)``: read only when there are quotas."""

    def __post_init__(self) -> None:
        # Accept plain ``(registration_id, position)`` tuples (and lists) from a query result.
        entries = tuple(WaitlistEntry(*entry) for entry in self.waitlist)
        msgspec.structs.force_setattr(self, "waitlist", entries)
        msgspec.structs.force_setattr(self, "quotas", tuple(self.quotas))
        if self.capacity < 0:
            raise Invalid("session.capacity", "capacity cannot be negative")
        if self.confirmed_count < 0:
            raise Invalid("session.confirmed_count", "confirmed count cannot be negative")

    @property
    def free_seats(self) -> int:
        """Seats still available; 0 (never negative) when a capacity cut left it overbooked."""
        return max(0, self.capacity - self.confirmed_count)

    def ordered_waitlist(self) -> list[WaitlistEntry]:
        """The waitlist first-come first-served (lowest position first)."""
        return sorted(self.waitlist, key=lambda entry: entry.position)

    @property
    def last_position(self) -> int:
        """Highest waitlist position in use, or 0 when nobody waits."""
        return max((entry.position for entry in self.waitlist), default=0)

    def held_seats(self) -> Counter[Group]:
        return Counter({(city, sector): n for city, sector, n in self.held})


class SeatDecision(msgspec.Struct, frozen=True, kw_only=True):
    """Outcome of a new registration; maps one-to-one onto the ``ParticipantRegistered`` event."""

    status: Literal["confirmed", "waitlisted"]
    waitlist_position: int | None = None

    @classmethod
    def confirmed(cls) -> SeatDecision:
        return cls(status="confirmed")

    @classmethod
    def waitlisted(cls, position: int) -> SeatDecision:
        return cls(status="waitlisted", waitlist_position=position)


# --------------------------------------------------------------------------------------------
# Seat decisions


def decide_new_registration(
    snapshot: SessionSeats, city: str = "", sector: str = ""
) -> SeatDecision:
    """Confirm while seats remain (confirmed < capacity) and the person fits every quota of
    their city and sector; else waitlist at ``last position + 1``.

    Seats and waitlist are kept consistent by promoting on every cancel and capacity change,
    so a free seat with people waiting arises only for those a quota keeps waiting; a person
    who fits therefore takes a free seat without looking at the waitlist.
    """
    if snapshot.free_seats > 0 and fits(snapshot.quotas, snapshot.held_seats(), city, sector):
        return SeatDecision.confirmed()
    return SeatDecision.waitlisted(snapshot.last_position + 1)


def _promote(
    snapshot: SessionSeats,
    confirmed_after: int,
    capacity: int,
    held: Counter[Group] | None = None,
) -> list[uuid.UUID]:
    """The first waiting people who fit the free seats (and, with quotas, their quotas: a
    person a quota keeps waiting is passed over for the next one who fits)."""
    free = max(0, capacity - confirmed_after)
    if not snapshot.quotas:
        return [entry.registration_id for entry in snapshot.ordered_waitlist()[:free]]
    counts = snapshot.held_seats() if held is None else held
    chosen: list[uuid.UUID] = []
    for entry in snapshot.ordered_waitlist():
        if len(chosen) >= free:
            break
        if fits(snapshot.quotas, counts, entry.city, entry.sector):
            chosen.append(entry.registration_id)
            counts[(entry.city, entry.sector)] += 1
    return chosen


def promotions_after_cancel(
    snapshot: SessionSeats,
    cancelled_status: RegistrationStatus,
    city: str = "",
    sector: str = "",
) -> list[uuid.UUID]:
    """Registration ids to promote, in order, when a registration of ``cancelled_status`` goes.

    ``snapshot`` is the state *before* the cancellation. Cancelling a confirmed registration
    frees one seat, which goes to the first waitlisted (FIFO) unless a capacity cut has left
    the session overbooked; cancelling a waitlisted one frees no seat. Cancelling a
    registration that is already cancelled is a :class:`Conflict` (409). With quotas, the
    cancelled seat's ``city``/``sector`` no longer counts against them.
    """
    ensure_can_cancel(cancelled_status)
    if cancelled_status != "confirmed":
        return []
    held = snapshot.held_seats()
    if held[(city, sector)] > 0:
        held[(city, sector)] -= 1
    return _promote(snapshot, snapshot.confirmed_count - 1, snapshot.capacity, held)


def promotions_after_capacity_change(snapshot: SessionSeats, new_capacity: int) -> list[uuid.UUID]:
    """Registration ids to promote, in order, when the session's capacity becomes ``new_capacity``
    (``snapshot`` carries the session's quotas as they now are).

    An increase (or a quota loosened) promotes as many waitlisted as the new free seats and
    the quotas allow. A decrease never
    un-confirms anyone: confirmed may then exceed capacity and nobody new is confirmed until
    cancellations bring it back below.
    """
    if isinstance(new_capacity, bool) or not isinstance(new_capacity, int):
        raise Invalid("capacity", "capacity must be an integer")
    if new_capacity < 0:
        raise Invalid("capacity", "capacity cannot be negative")
    return _promote(snapshot, snapshot.confirmed_count, new_capacity)


# --------------------------------------------------------------------------------------------
# Status rules


def _check_registration_status(status: str) -> None:
    if status not in REGISTRATION_STATUSES:
        raise Invalid("status", f"unknown registration status {status!r}")


def _check_session_status(status: str) -> None:
    if status not in SESSION_STATUSES:
        raise Invalid("session.status", f"unknown session status {status!r}")


def ensure_can_cancel(status: RegistrationStatus) -> None:
    """Cancelling twice is a client error worth telling (409), not a silent no-op."""
    _check_registration_status(status)
    if status == "cancelled":
        raise Conflict("status", "the registration is already cancelled")


def ensure_registrations_can_change(session_status: SessionStatus) -> None:
    """A completed session's registrations are its record: nobody cancels out of it afterwards."""
    _check_session_status(session_status)
    if session_status == "completed":
        raise Conflict(
            "session.status", "the session is completed; its registrations can no longer change"
        )


def ensure_session_accepts_registrations(session_status: SessionStatus) -> None:
    """New registrations only for ``scheduled`` sessions; the 409 says which status it is."""
    _check_session_status(session_status)
    if session_status != "scheduled":
        raise Conflict(
            "session.status",
            f"the session is {session_status}; registrations are accepted only for "
            "scheduled sessions",
        )


def ensure_can_record_attendance(
    registration_status: RegistrationStatus, session_status: SessionStatus
) -> None:
    """Attendance only for confirmed registrations of scheduled or completed sessions.

    Scheduled is allowed because attendance is taken on the day, before anyone marks the
    session completed; a cancelled session had no attendance to record.
    """
    _check_registration_status(registration_status)
    _check_session_status(session_status)
    if session_status == "cancelled":
        raise Conflict("session.status", "the session is cancelled; attendance cannot be recorded")
    if registration_status != "confirmed":
        raise Conflict(
            "status",
            f"the registration is {registration_status}; attendance can be recorded only "
            "for confirmed registrations",
        )
