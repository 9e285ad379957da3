"""Argon2id password hashes (argon2-cffi), and the dummy hash that keeps failures constant-time.

A sign-in for a username that does not exist verifies the password against a hash made at start
with the same parameters, so it costs what a real one does and its timing tells nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError


@dataclass
class Passwords:
    time_cost: int = 3
    memory_cost: int = 64 * 1024
    parallelism: int = 1
    _hasher: PasswordHasher = field(init=False, repr=False)
    _dummy: str = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._hasher = PasswordHasher(
            time_cost=self.time_cost,
            memory_cost=self.memory_cost,
            parallelism=self.parallelism,
            type=Type.ID,
        )
        self._dummy = self._hasher.hash("not a password of anyone: equalises the timing")

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        """Whether ``password`` matches ``stored``; with no stored hash, the same work is done
        against the dummy and the answer is ``False``."""
        try:
            return self._hasher.verify(stored or self._dummy, password) and stored is not None
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """The hash was made with other parameters (they were raised since): re-hash on the
        next successful sign-in, while the password is at hand."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True
