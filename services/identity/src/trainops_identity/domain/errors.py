"""What the identity service refuses, each with its HTTP status (mapped once by ``create_app``)."""

from __future__ import annotations

from trainops_shared.errors import AppError, Conflict, Forbidden, Invalid, NotFound

__all__ = [
    "AccountExists",
    "AccountNotFound",
    "Conflict",
    "Forbidden",
    "Invalid",
    "NotFound",
    "SessionEnded",
    "SignInFailed",
    "TooManyAttempts",
]


class AccountNotFound(NotFound):
    code = "not_found"


class AccountExists(Conflict):
    code = "conflict"


class SignInFailed(AppError):
    """Wrong password, unknown user or disabled account: one message for all three, so the
    answer never tells whether a username exists."""

    status = 401
    code = "sign_in_failed"

    def __init__(self) -> None:
        super().__init__("wrong username or password")


class TooManyAttempts(AppError):
    status = 429
    code = "too_many_attempts"

    def __init__(self, retry_after: int) -> None:
        super().__init__(
            f"too many failed sign-ins; try again in {max(1, (retry_after + 59) // 60)} minute(s)",
            retry_after=retry_after,
        )
        self.retry_after = retry_after


class SessionEnded(AppError):
    """The session is signed out, idle or past its absolute lifetime, or its account is
    disabled: the browser must sign in again."""

    status = 401
    code = "session_ended"
