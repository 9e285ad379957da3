"""The base of reporting's domain errors: a bad report request, named by its field."""

from __future__ import annotations

from trainops_shared.errors import DomainError, Invalid


class ReportingError(Invalid, DomainError):
    """A request the rules refuse, ``(field, message)``: the shared 422 ``invalid`` answer with
    ``field: message`` as its detail, mapped by the shared app like every domain error."""
