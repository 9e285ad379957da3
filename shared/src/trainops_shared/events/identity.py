"""Events published by the identity service (stream ``IDENTITY``).

Only revocations travel: every service must refuse a signed-out session's or a revoked personal
token's JWTs at once, although it verifies them offline. The events name the session id
(``sid``) or token id (``jti``) and when the credential would have expired anyway (after that a
service may forget it); never the token itself, a password or an account's username.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from trainops_shared.events.base import Event


class SessionRevoked(Event, frozen=True, kw_only=True, tag="identity.session_revoked.v1"):
    """A browser session ended before its expiry: signed out, or its account was disabled.
    ``aggregate_id`` is the account."""

    session_id: str
    expires_at: datetime
    reason: Literal["signed_out", "account_disabled", "password_changed", "role_changed"]


class ApiTokenRevoked(Event, frozen=True, kw_only=True, tag="identity.api_token_revoked.v1"):
    """A personal API token was revoked by its owner, or its account was disabled.
    ``aggregate_id`` is the account."""

    token_id: str
    expires_at: datetime
    reason: Literal["revoked", "account_disabled", "role_changed"]
