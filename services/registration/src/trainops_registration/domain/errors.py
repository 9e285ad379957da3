"""Errors the registration domain raises, each naming the field or state it is about.

The HTTP layer maps them by class, never by parsing messages: :class:`Invalid` is 422 (with
``field`` as the pointer a form can highlight), :class:`Conflict` is 409 (the request is fine but
the registration's or session's *state* forbids it), :class:`Forbidden` is 403 and
:class:`NotFound` is 404. ``status_code`` is carried on the class so the mapping is one lookup.
"""

from __future__ import annotations

from typing import ClassVar


class RegistrationError(ValueError):
    """Base of every registration domain error.

    ``field`` names the offending input (``participant.email``) or, for state conflicts, the
    attribute whose value is the problem (``status``, ``session.status``).
    """

    status_code: ClassVar[int] = 400
    code: ClassVar[str] = "registration_error"

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


class NotFound(RegistrationError):
    """The registration, session or participant does not exist (maps to 404)."""

    status_code: ClassVar[int] = 404
    code: ClassVar[str] = "not_found"


class Conflict(RegistrationError):
    """The current state forbids the action, e.g. cancelling twice (maps to 409)."""

    status_code: ClassVar[int] = 409
    code: ClassVar[str] = "conflict"


class Forbidden(RegistrationError):
    """The caller may not act on this registration, e.g. another city's coordinator (403)."""

    status_code: ClassVar[int] = 403
    code: ClassVar[str] = "forbidden"


class Invalid(RegistrationError):
    """An input value that can never be valid, whatever the state (maps to 422)."""

    status_code: ClassVar[int] = 422
    code: ClassVar[str] = "invalid"


RegistrationErrors: tuple[type[RegistrationError], ...] = (NotFound, Conflict, Forbidden, Invalid)
"""The concrete error classes, for an HTTP layer that registers one handler per class."""
