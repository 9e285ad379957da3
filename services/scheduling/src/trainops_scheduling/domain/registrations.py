"""How registration's public events move a session's head counts (no person, only numbers).

Each event is one signed change of the confirmed and waitlisted counts. Sums commute, so the
counts come out the same whatever order the events arrive in, and the inbox applies each event
once; a count may read below zero for a moment (a cancellation before its registration), which
:meth:`RegistrationCounts.shown` hides.
"""

from __future__ import annotations

from dataclasses import dataclass

from trainops_shared.events import (
    Event,
    ParticipantRegistered,
    RegistrationCancelled,
    WaitlistPromoted,
)


@dataclass(frozen=True, slots=True)
class RegistrationCounts:
    """People holding a seat and people waiting for one, in one session."""

    confirmed: int = 0
    waitlisted: int = 0

    def shown(self) -> RegistrationCounts:
        """The counts as a page shows them: never negative while events are still arriving."""
        return RegistrationCounts(max(self.confirmed, 0), max(self.waitlisted, 0))

    @property
    def total(self) -> int:
        shown = self.shown()
        return shown.confirmed + shown.waitlisted

    def over_capacity(self, capacity: int) -> int:
        """Confirmed people beyond ``capacity`` (what lowering the seat count runs into)."""
        return max(self.shown().confirmed - capacity, 0)


def registration_delta(event: Event) -> RegistrationCounts:
    """The change one registration event makes to its session's counts."""
    if isinstance(event, ParticipantRegistered):
        if event.status == "confirmed":
            return RegistrationCounts(confirmed=1)
        return RegistrationCounts(waitlisted=1)
    if isinstance(event, RegistrationCancelled):
        if event.previous_status == "confirmed":
            return RegistrationCounts(confirmed=-1)
        return RegistrationCounts(waitlisted=-1)
    if isinstance(event, WaitlistPromoted):
        return RegistrationCounts(confirmed=1, waitlisted=-1)
    return RegistrationCounts()
