"""What every identity use case needs: storage, the password hasher, the signer, the limits."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol, TypeVar

from sqlalchemy.engine import Connection

from trainops_identity.adapters.passwords import Passwords
from trainops_identity.adapters.signer import TokenSigner
from trainops_identity.domain.sessions import SessionPolicy

T = TypeVar("T")


class Store(Protocol):
    """A service runtime or a bare database: one transaction per call."""

    async def read(self, fn: Callable[[Connection], T]) -> T: ...

    async def write(self, fn: Callable[[Connection], T]) -> T: ...


@dataclass(frozen=True, slots=True)
class SignInLimits:
    """Failed sign-ins allowed per ``window``: per account (guessing one password) and per
    client address (trying many accounts)."""

    per_account: int = 5
    per_address: int = 20
    window: timedelta = timedelta(minutes=15)


@dataclass(frozen=True)
class Identity:
    store: Store
    passwords: Passwords
    signer: TokenSigner | None
    """``None`` where no token is ever issued (``trainops users`` manages accounts only)."""
    policy: SessionPolicy = field(default_factory=SessionPolicy)
    limits: SignInLimits = field(default_factory=SignInLimits)

    @property
    def token_signer(self) -> TokenSigner:
        if self.signer is None:
            raise RuntimeError("this identity context holds no signing key")
        return self.signer
