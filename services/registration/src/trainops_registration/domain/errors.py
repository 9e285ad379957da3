"""Errors the registration domain raises, each naming the field or state it is about.

They are the shared :class:`~trainops_shared.errors.DomainError` family (``(field, message)``,
the status on the class, one HTTP mapping for every service), each also the shared error of its
status, so a caller catching ``trainops_shared.errors.Conflict`` catches this domain's too.
:class:`Invalid` is 422 (``field`` is the pointer a form can highlight), :class:`Conflict` is 409
(the request is fine but the registration's or session's *state* forbids it), :class:`Forbidden`
is 403 and :class:`NotFound` is 404.
"""

from __future__ import annotations

from trainops_shared import errors


class RegistrationError(errors.DomainError):
    """Base of every registration domain error.

    ``field`` names the offending input (``participant.email``) or, for state conflicts, the
    attribute whose value is the problem (``status``, ``session.status``).
    """

    code = "registration_error"


class NotFound(RegistrationError, errors.NotFound):
    """The registration, session or participant does not exist (404)."""

    status = 404
    code = "not_found"


class Conflict(RegistrationError, errors.Conflict):
    """The current state forbids the action, e.g. cancelling twice (409)."""

    status = 409
    code = "conflict"


class Forbidden(RegistrationError, errors.Forbidden):
    """The caller may not act on this, e.g. register another city's participant (403)."""

    status = 403
    code = "forbidden"


class Invalid(RegistrationError, errors.Invalid):
    """An input value that can never be valid, whatever the state (422)."""

    status = 422
    code = "invalid"
