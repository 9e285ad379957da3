"""Accounts: who may sign in, with which role and region, and what a password must be."""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from trainops_identity.domain.errors import Invalid
from trainops_shared.auth import ROLES

USERNAME: Final = re.compile(r"^[a-z0-9][a-z0-9._-]{1,62}$")
REGION: Final = re.compile(r"^[a-z][a-z0-9-]{1,62}$")
MIN_PASSWORD_LENGTH: Final = 12
MAX_PASSWORD_LENGTH: Final = 1024
"""Longer input is refused before hashing: Argon2 over megabytes is work an attacker chooses."""

COMMON_PASSWORDS: Final = frozenset(
    {
        "123456789012",
        "1234567890123",
        "12345678901234",
        "123123123123",
        "111111111111",
        "000000000000",
        "qwertyuiopas",
        "qwertyuiop12",
        "qwerty123456",
        "1q2w3e4r5t6y",
        "1qaz2wsx3edc",
        "password1234",
        "password12345",
        "passwordpassword",
        "iloveyou1234",
        "adminadmin12",
        "administrator",
        "letmein12345",
        "welcome12345",
        "changeme1234",
        "trainops1234",
        "trainopstrainops",
        "qazwsxedcrfv",
        "abcdefghijkl",
        "abc123abc123",
        "kazakhstan12",
        "kazakhstan2024",
        "almaty123456",
        "astana123456",
        "parol1234567",
        "йцукенгшщзхъ",
        "пароль123456",
    }
)
"""A small list of the passwords people pick first at this length; the length rule does the
rest. Compared case-insensitively."""


@dataclass(frozen=True, slots=True)
class Account:
    account_id: uuid.UUID
    username: str
    role: str
    region: str | None
    disabled: bool
    created_at: datetime
    changed_at: datetime
    password_hash: str | None = None

    @classmethod
    def new(
        cls,
        account_id: uuid.UUID,
        *,
        username: str,
        role: str,
        region: str | None,
        now: datetime,
        password_hash: str | None = None,
    ) -> Account:
        """An enabled account as first stored: created and changed at ``now``. ``password_hash``
        stays None for people who sign in only through the organisation's provider."""
        return cls(
            account_id=account_id,
            username=username,
            role=role,
            region=region,
            disabled=False,
            created_at=now,
            changed_at=now,
            password_hash=password_hash,
        )


def check_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise Invalid(
            "username: 2 to 63 characters, lower-case letters, digits, '.', '_' or '-', "
            "starting with a letter or digit",
            field="username",
        )
    return name


def check_role(role: str, region: str | None) -> tuple[str, str | None]:
    """The role and region an account may have: a coordinator has exactly one region, the
    other roles none (they see every region)."""
    if role not in ROLES:
        raise Invalid(f"role: one of {', '.join(ROLES)}", field="role")
    region = (region or "").strip().lower() or None
    if role == "coordinator":
        if region is None:
            raise Invalid("region: a coordinator needs a region (the city code)", field="region")
        if not REGION.fullmatch(region):
            raise Invalid("region: a lower-case city code such as almaty", field="region")
        return role, region
    if region is not None:
        raise Invalid(f"region: only a coordinator has a region, not {role}", field="region")
    return role, None


def check_password(password: str, username: str) -> str:
    """The minimum strength: 12+ characters, not a common password, not the username."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise Invalid(
            f"password: at least {MIN_PASSWORD_LENGTH} characters (a few words make a good one)",
            field="password",
        )
    if len(password) > MAX_PASSWORD_LENGTH:
        raise Invalid(f"password: at most {MAX_PASSWORD_LENGTH} characters", field="password")
    folded = password.casefold()
    if folded in COMMON_PASSWORDS or len(set(folded)) < 4:
        raise Invalid("password: too common, pick another one", field="password")
    if username and username.casefold() in folded:
        raise Invalid("password: must not contain the username", field="password")
    return password
