"""The one notion of "now" and of a UTC instant every service uses.

Databases hand datetimes back in different shapes (SQLite: naive; PostgreSQL: aware in the
session's zone), and a naive value compared with an aware one raises at run time, far from where
it was read. Everything that stores, compares or sends an instant goes through these two
functions, so an instant is always an aware UTC ``datetime``.

>>> from datetime import datetime, timedelta, timezone
>>> as_utc(datetime(2026, 3, 1, 9, 0))  # naive: taken as UTC
datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.timezone.utc)
>>> as_utc(datetime(2026, 3, 1, 14, 0, tzinfo=timezone(timedelta(hours=5))))  # Almaty
datetime.datetime(2026, 3, 1, 9, 0, tzinfo=datetime.timezone.utc)
>>> utc_now().tzinfo
datetime.timezone.utc
"""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["as_utc", "utc_now"]


def utc_now() -> datetime:
    """The current instant, aware, in UTC."""
    return datetime.now(UTC)


def as_utc(value: datetime) -> datetime:
    """``value`` as an aware UTC datetime: a naive value is taken to be UTC already (that is how
    every trainops store writes them), an aware one is converted."""
    if value.tzinfo is None or value.utcoffset() is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)
