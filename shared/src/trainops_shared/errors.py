"""The error base of every trainops service, and the one JSON shape every error takes.

Every error body is ``{"status", "error", "detail", "field"?, "errors"?}``: a code a client can
switch on, a sentence a person can read, and which field was wrong. The class carries its HTTP
status, so ``create_app`` maps *every* subclass with one exception handler and services register
nothing; the classes themselves are plain Python and import no web framework, so domain modules
raise them freely.

Two ways to build one, the same classes underneath:

* :class:`AppError` and its four statuses take the sentence first: ``NotFound("no such
  session", field="session_id")``.
* :class:`DomainError` takes the field first, the shape domain rules use (``Invalid`` values
  always name the input they are about). A service's own error family is a thin subclass:

>>> class RegistrationError(DomainError):
...     code = "registration_error"
>>> class SeatConflict(RegistrationError):
...     status = 409
...     code = "conflict"
>>> err = SeatConflict("session.status", "the session is full")
>>> err.field, err.message, str(err)
('session.status', 'the session is full', 'session.status: the session is full')
>>> err.body()["status"], err.body()["error"], err.body()["field"]
(409, 'conflict', 'session.status')

A family whose answers show only the sentence (no ``field:`` prefix) sets
``field_in_detail = False``. A family that must also be one of the shared statuses (so that
``except NotFound`` catches it) lists the shared status first, so its ``status`` and ``code``
win, and keeps the family's field-first constructor: ``class Gone(NotFound, RegistrationError)``.
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "AppError",
    "Conflict",
    "DomainError",
    "Forbidden",
    "Invalid",
    "NotFound",
]


class AppError(Exception):
    """An error the caller can fix or must be told about; ``status`` is its HTTP answer."""

    status: ClassVar[int] = 400
    code: ClassVar[str] = "bad_request"

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # A subclass spelling the status the old way would silently answer 400.
        if "status_code" in cls.__dict__:
            raise TypeError(f"{cls.__name__}: set the class attribute `status`, not `status_code`")
        if not 400 <= cls.status <= 499:
            raise TypeError(f"{cls.__name__}: status {cls.status} is not a client error (4xx)")

    def __init__(self, detail: str, *, field: str | None = None, **extra: Any) -> None:
        super().__init__(detail)
        self.detail = detail
        self.field = field
        self.extra = extra

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "error": self.code, "detail": self.detail}
        if self.field:
            out["field"] = self.field
        out.update(self.extra)
        return out


class NotFound(AppError):
    status = 404
    code = "not_found"


class Conflict(AppError):
    status = 409
    code = "conflict"


class Forbidden(AppError):
    status = 403
    code = "forbidden"


class Invalid(AppError):
    status = 422
    code = "invalid"


class DomainError(AppError, ValueError):
    """Base of a service's domain errors: ``(field, message)``, field first.

    It is a ``ValueError`` too, as the services' own bases were, so ``except ValueError``
    around parsing keeps catching it. ``field`` names the offending input
    (``participant.email``) or, for a state conflict, the attribute whose value is the problem
    (``status``). ``message`` is the sentence alone;
    ``detail`` (what the answer shows) is ``"field: message"`` unless the family sets
    ``field_in_detail = False``. Extra keyword arguments become extra keys of the JSON body
    (``errors=[...]`` for a form with several problems).
    """

    field_in_detail: ClassVar[bool] = True
    field: str

    def __init__(self, field: str, message: str, **extra: Any) -> None:
        detail = f"{field}: {message}" if self.field_in_detail else message
        super().__init__(detail, field=field, **extra)
        self.message = message
