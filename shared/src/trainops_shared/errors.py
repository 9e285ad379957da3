"""Errors the HTTP layer turns into JSON answers, and the one JSON shape every error takes.

Every error body is ``{"status", "error", "detail", "field"?, "errors"?}``: a code a client can
switch on, a sentence a person can read, and which field was wrong.
"""

from __future__ import annotations

from typing import Any


class AppError(Exception):
    status: int = 400
    code: str = "bad_request"

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
