"""How many of a session's invited participants answered: the figure staff chase links by."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Uptake:
    """Live invitations and the answered ones among them (revoked links count for neither)."""

    invited: int
    answered: int

    @property
    def rate(self) -> int | None:
        """Whole percent answered, rounded half up; ``None`` with no one invited (not 0 %:
        a session nobody could answer has no rate, it has not failed)."""
        if self.invited <= 0:
            return None
        return (200 * self.answered + self.invited) // (2 * self.invited)

    @property
    def waiting(self) -> int:
        return self.invited - self.answered
