"""Why an organisation sign-in did not start a session, in words fit for the person and a log.

Messages name the check that failed (state, nonce, signature, audience, ...) and never carry a
token, a code, a secret or the person's claims: they are shown on the refusal page and logged.
"""

from __future__ import annotations

from typing import Literal

RefusalKind = Literal["request", "state", "provider", "code", "id_token", "mapping", "account"]


class OidcSignInRefused(Exception):
    """The sign-in is refused (a 4xx answer); nothing was created or changed."""

    def __init__(self, kind: RefusalKind, message: str) -> None:
        super().__init__(message)
        self.kind: RefusalKind = kind
        self.message = message


class OidcProviderUnavailable(Exception):
    """The provider could not be reached or answered with a server error: try again later."""

    def __init__(self, message: str, retry_after_seconds: int = 30) -> None:
        super().__init__(message)
        self.message = message
        self.retry_after_seconds = retry_after_seconds
