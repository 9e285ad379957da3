"""Request and response bodies of the identity JSON API."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import msgspec

Username = Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
Secret = Annotated[str, msgspec.Meta(min_length=1, max_length=1024)]


class AccountOut(msgspec.Struct, kw_only=True):
    username: str
    role: str
    region: str | None
    disabled: bool
    created_at: datetime
    changed_at: datetime


class NewAccount(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    username: Username
    role: Annotated[str, msgspec.Meta(max_length=32)]
    password: Secret
    region: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class NewPassword(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    password: Secret


class NewRole(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    role: Annotated[str, msgspec.Meta(max_length=32)]
    region: Annotated[str, msgspec.Meta(max_length=64)] | None = None


class PasswordChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    current_password: Secret
    new_password: Secret


class Me(msgspec.Struct, kw_only=True):
    username: str
    role: str
    region: str | None
    session: bool
    """Whether this request came with a browser session (else a bearer token)."""


class NewToken(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    expires_in_days: Annotated[int, msgspec.Meta(ge=1, le=365)] = 90


class TokenOut(msgspec.Struct, kw_only=True):
    token_id: str
    name: str
    created_at: datetime
    expires_at: datetime
    revoked_at: datetime | None = None


class CreatedTokenOut(msgspec.Struct, kw_only=True):
    token_id: str
    name: str
    expires_at: datetime
    token: str
    """The bearer token itself: shown in this answer only, never again."""
