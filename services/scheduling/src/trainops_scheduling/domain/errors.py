"""Errors the scheduling domain raises, each naming the request field it is about.

The HTTP layer maps them without parsing messages: :class:`InvalidField` (and its subclasses)
becomes 422 with ``field`` as the pointer, :class:`IllegalTransition` and
:class:`TrainerDoubleBooked` become 409. Keeping the field on the exception (rather than only in
the text) is what lets a form highlight the right input.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable


class SchedulingError(ValueError):
    """Base of every scheduling domain error; ``field`` names the offending input."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class InvalidField(SchedulingError):
    """A value that can never be valid, whatever state the session is in (maps to 422)."""


class UnknownCity(InvalidField):
    """A city code not in the catalogue; the message lists the valid codes so users can fix it."""

    def __init__(self, city: str, valid: Iterable[str], field: str = "cities") -> None:
        self.city = city
        self.valid = tuple(valid)
        super().__init__(field, f"unknown city {city!r}; valid cities: {', '.join(self.valid)}")


class InvalidTime(InvalidField):
    """A timestamp that cannot be parsed or placed on the timeline."""


class NonexistentLocalTime(InvalidTime):
    """A wall-clock time skipped by a clock change (a DST gap) in the session's zone.

    Silently shifting it by an hour would put trainers in the wrong room, so it is rejected.
    """


class IllegalTransition(SchedulingError):
    """The session's status does not allow the requested change (maps to 409)."""

    def __init__(self, action: str, status: str) -> None:
        self.action = action
        self.status = status
        super().__init__("status", f"cannot {action} a session that is {status}")


class TrainerDoubleBooked(SchedulingError):
    """A trainer would be in two sessions at once (maps to 409 naming the other session)."""

    def __init__(self, trainer_id: uuid.UUID, conflicting_session_id: uuid.UUID) -> None:
        self.trainer_id = trainer_id
        self.conflicting_session_id = conflicting_session_id
        super().__init__(
            "trainer_ids",
            f"trainer {trainer_id} is already booked in session {conflicting_session_id} "
            "at an overlapping time",
        )
