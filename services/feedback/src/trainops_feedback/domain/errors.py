"""Errors the feedback domain raises, each naming the field or thing it is about.

Each class carries its HTTP answer (the shared :class:`~trainops_shared.errors.DomainError`
maps them all): :class:`NotFound` (including an expired invitation, which the participant sees
as the same "link not found or expired" page) is 404, :class:`Conflict` (feedback already
submitted) is 409, :class:`Invalid` is 422. The JSON answer's ``detail`` is the sentence alone,
``field`` names the input. Each is also the shared error of its status, so ``except NotFound``
catches the domain's and the handlers' alike. :class:`InvalidAnswers` carries
*every* problem of a submitted form, not just the first, so the re-shown page can mark each
wrong question at once instead of making a participant on a phone resubmit four times.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import ClassVar

import msgspec

from trainops_shared import errors as shared


class FeedbackError(shared.DomainError):
    """Base of every feedback domain error; ``field`` names the offending input."""

    code: ClassVar[str] = "feedback_error"
    field_in_detail: ClassVar[bool] = False


class NotFound(FeedbackError, shared.NotFound):
    """Unknown survey, invitation or response (404)."""

    status: ClassVar[int] = 404
    code: ClassVar[str] = "not_found"


class InvitationNotFound(NotFound):
    """No invitation has this token's hash."""

    def __init__(self, field: str = "token", message: str = "link not found or expired") -> None:
        super().__init__(field, message)


class InvitationExpired(InvitationNotFound):
    """The invitation exists but is past its expiry; shown exactly like an unknown link."""


class Conflict(FeedbackError, shared.Conflict):
    """The state forbids the action (409)."""

    status: ClassVar[int] = 409
    code: ClassVar[str] = "conflict"


class AlreadySubmitted(Conflict):
    """The invitation was already used: one response per participant and session."""

    def __init__(self, field: str = "token", message: str = "feedback already submitted") -> None:
        super().__init__(field, message)


class Invalid(FeedbackError, shared.Invalid):
    """An input value that can never be valid (422)."""

    status: ClassVar[int] = 422
    code: ClassVar[str] = "invalid"


class FieldError(msgspec.Struct, frozen=True, kw_only=True):
    """One problem with one field of a submission.

    ``code`` is a stable key (``required``, ``not_integer``, ``out_of_range``,
    ``unknown_item``, ``too_long``) that the page translates through the i18n texts; ``message``
    is the English text for logs and JSON API answers.
    """

    field: str
    code: str
    message: str

    @property
    def item(self) -> str:
        """The form name of the field: ``answers.trainer`` → ``trainer``."""
        return self.field.rsplit(".", 1)[-1]


class InvalidAnswers(Invalid):
    """A submission with one or more field errors; ``field`` is the first of them."""

    def __init__(self, errors: Iterable[FieldError]) -> None:
        self.errors: tuple[FieldError, ...] = tuple(errors)
        if not self.errors:
            raise ValueError("InvalidAnswers needs at least one FieldError")
        first = self.errors[0]
        super().__init__(
            first.field,
            first.message,
            errors=[{"field": e.field, "code": e.code, "message": e.message} for e in self.errors],
        )
        # str() lists every problem, so a log line shows the whole submission's faults.
        self.args = ("; ".join(f"{e.field}: {e.message}" for e in self.errors),)

    def by_item(self) -> dict[str, FieldError]:
        """Errors keyed by form name (first error per item wins), for the re-shown page."""
        out: dict[str, FieldError] = {}
        for error in self.errors:
            out.setdefault(error.item, error)
        return out
