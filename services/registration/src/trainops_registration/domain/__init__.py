"""Pure registration rules: participant validation, duplicate-name keys, seats and waitlist.

No HTTP, SQL or broker code lives here, so every rule is unit-testable in microseconds.
"""

from trainops_registration.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RegistrationError,
)
from trainops_registration.domain.participant import (
    Participant,
    ParticipantInput,
    name_key,
    normalise_phone,
    validate_participant,
)
from trainops_registration.domain.seats import (
    RegistrationStatus,
    SeatDecision,
    SessionSeats,
    SessionStatus,
    WaitlistEntry,
    decide_new_registration,
    ensure_can_cancel,
    ensure_can_record_attendance,
    ensure_session_accepts_registrations,
    promotions_after_cancel,
    promotions_after_capacity_change,
)

__all__ = [
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "Participant",
    "ParticipantInput",
    "RegistrationError",
    "RegistrationStatus",
    "SeatDecision",
    "SessionSeats",
    "SessionStatus",
    "WaitlistEntry",
    "decide_new_registration",
    "ensure_can_cancel",
    "ensure_can_record_attendance",
    "ensure_session_accepts_registrations",
    "name_key",
    "normalise_phone",
    "promotions_after_cancel",
    "promotions_after_capacity_change",
    "validate_participant",
]
