"""The base of reporting's domain errors: a bad report request, named by its field."""

from __future__ import annotations

from trainops_shared.errors import Invalid


class ReportingError(Invalid):
    """A request the rules refuse; ``field`` names the offending input.

    It is the shared ``Invalid`` (422, the shared JSON error body), so the service needs no
    mapping of its own; the message keeps its ``field: message`` form because clients and logs
    read the field at its start.
    """

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}", field=field)
        self.message = message
