"""Errors the scheduling domain raises, each naming the request field it is about.

Each class carries its HTTP answer (the shared :class:`~trainops_shared.errors.DomainError`
maps them all, no message parsing): :class:`InvalidField` (and its subclasses) is 422 with
``field`` as the pointer, :class:`IllegalTransition` and :class:`TrainerDoubleBooked` are 409
with what a client needs to recover (the current status, the other session). Keeping the field
on the exception (rather than only in the text) is what lets a form highlight the right input.
Each is also the shared error of its status, so ``except Invalid`` / ``except Conflict`` around
a use case catches the domain's refusals and the handlers' own alike.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import ClassVar

from trainops_shared import errors as shared


class SchedulingError(shared.DomainError):
    """Base of every scheduling domain error; ``field`` names the offending input."""

    code: ClassVar[str] = "scheduling_error"
    field_in_detail: ClassVar[bool] = False


class InvalidField(SchedulingError, shared.Invalid):
    """A value that can never be valid, whatever state the session is in (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid"


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


class IllegalTransition(SchedulingError, shared.Conflict):
    """The session's status does not allow the requested change (409, with its status)."""

    status: ClassVar[int] = 409
    code: ClassVar[str] = "conflict"

    def __init__(self, action: str, session_status: str) -> None:
        self.action = action
        self.session_status = session_status
        super().__init__(
            "status",
            f"cannot {action} a session that is {session_status}",
            current_status=session_status,
        )


class TrainerDoubleBooked(SchedulingError, shared.Conflict):
    """A trainer would be in two sessions at once (409 naming the other session).

    ``field`` points at the trainer's place in the request (``trainer_ids[1]``) when the caller
    knows it.
    """

    status: ClassVar[int] = 409
    code: ClassVar[str] = "conflict"

    def __init__(
        self,
        trainer_id: uuid.UUID,
        conflicting_session_id: uuid.UUID,
        field: str = "trainer_ids",
    ) -> None:
        self.trainer_id = trainer_id
        self.conflicting_session_id = conflicting_session_id
        super().__init__(
            field,
            f"trainer {trainer_id} is already booked in session {conflicting_session_id} "
            "at an overlapping time",
            conflicting_session_id=str(conflicting_session_id),
            trainer_id=str(trainer_id),
        )


class StaleSession(shared.Conflict):
    """The row's version moved between load and save (cannot happen under the row lock)."""
