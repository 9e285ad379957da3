"""Seat quotas of a session: at most N confirmed seats for a sector, a city, or both together.

Scheduling defines them with the session (programme staff decide that a training for
journalists keeps room for others, or that no city fills an online session alone); registration
enforces them, because it is the service that decides seats. They travel on the session events
as :class:`~trainops_shared.events.scheduling.SeatQuota` values.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Final

from trainops_scheduling.domain.errors import InvalidField
from trainops_shared.events.scheduling import SeatQuota
from trainops_shared.events.vocabulary import SECTORS, Sector

MAX_QUOTAS: Final[int] = 50
"""More than any session needs (five sectors times eight cities plus their totals)."""


def validate_quotas(
    quotas: Iterable[SeatQuota], cities: Sequence[str], ceiling: int, field: str = "quotas"
) -> tuple[SeatQuota, ...]:
    """Each quota names a known sector, a city of the session, or both; at most ``ceiling``
    seats; no two quotas for the same sector and city (which one would hold?)."""
    found = tuple(quotas)
    if len(found) > MAX_QUOTAS:
        raise InvalidField(field, f"at most {MAX_QUOTAS} quotas")
    seen: set[tuple[str | None, str | None]] = set()
    for i, quota in enumerate(found):
        at = f"{field}[{i}]"
        if quota.sector is None and quota.city is None:
            raise InvalidField(at, "a quota names a sector, a city or both")
        if quota.sector is not None and quota.sector not in SECTORS:
            raise InvalidField(
                f"{at}.sector", f"unknown sector {quota.sector!r}; valid: {', '.join(SECTORS)}"
            )
        if quota.city is not None and quota.city not in cities:
            raise InvalidField(
                f"{at}.city", f"{quota.city!r} is not a city of the session: {', '.join(cities)}"
            )
        seats = quota.max_seats
        if isinstance(seats, bool) or not isinstance(seats, int) or not 0 <= seats <= ceiling:
            raise InvalidField(f"{at}.max_seats", f"must be a whole number from 0 to {ceiling}")
        key = (quota.sector, quota.city)
        if key in seen:
            raise InvalidField(at, "two quotas for the same sector and city")
        seen.add(key)
    return found


def parse_quota_text(text: str, cities: Sequence[str], field: str = "quotas") -> list[SeatQuota]:
    """Read the console's one-line form: ``media=10, almaty=5, blogger/aktobe=2``.

    A key is a sector, a city of the session, or ``sector/city``; sectors and city codes never
    share a name, so one word is enough to tell them apart.
    """
    quotas: list[SeatQuota] = []
    for item in (part.strip() for part in text.replace("\n", ",").split(",")):
        if not item:
            continue
        key, sep, number = item.partition("=")
        if not sep or not number.strip().isdigit():
            raise InvalidField(field, f"{item!r}: write sector=N, city=N or sector/city=N")
        sector: Sector | None = None
        city: str | None = None
        for word in (w.strip().lower() for w in key.split("/")):
            known = next((s for s in SECTORS if s == word), None)
            if known is not None and sector is None:
                sector = known
            elif word in cities and city is None:
                city = word
            else:
                raise InvalidField(
                    field, f"{item!r}: {word!r} is neither a sector nor a city of the session"
                )
        digits = number.strip()
        quotas.append(SeatQuota(max_seats=int(digits[:9]), sector=sector, city=city))
    return quotas


def quota_text(quotas: Iterable[SeatQuota]) -> str:
    """The console's form of ``quotas`` (what :func:`parse_quota_text` reads back)."""
    return ", ".join(
        f"{'/'.join(w for w in (q.sector, q.city) if w)}={q.max_seats}" for q in quotas
    )
