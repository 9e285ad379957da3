"""Turning what users type into instants on the UTC timeline, and back into wall-clock times.

Sessions are stored in UTC because Kazakhstan spans several zones (and their rules have
changed: Almaty was UTC+6 until 2024, Aqtobe UTC+5); a session at "10:00 in Almaty" is 09:00 in
Aktobe and only UTC makes that unambiguous. Users may send either an ISO 8601 timestamp with an
offset (then the offset wins and the zone is only used for display) or a naive one, read as wall
time in the session's zone.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Final
from zoneinfo import ZoneInfo

from trainops_scheduling.domain.cities import CityCatalogue, load_zone
from trainops_scheduling.domain.errors import InvalidTime, NonexistentLocalTime
from trainops_shared.errors import Invalid
from trainops_shared.validation import check_instant, instant_bounds

MAX_SESSION_LENGTH: Final[timedelta] = timedelta(days=14)
"""Longer than any training block; a longer span is almost certainly a typo in the date."""

_HAS_TIME = re.compile(r"^\d{4}-?\d{2}-?\d{2}[T ]\d{2}")


@dataclass(frozen=True)
class TimeRange:
    """A half-open ``[starts_at, ends_at)`` interval of aware UTC datetimes.

    Half-open so that a session ending at 12:00 and one starting at 12:00 do not overlap.
    """

    starts_at: datetime
    ends_at: datetime

    def __post_init__(self) -> None:
        require_utc(self.starts_at, "starts_at")
        require_utc(self.ends_at, "ends_at")
        if self.ends_at <= self.starts_at:
            raise InvalidTime("ends_at", "must be after starts_at")

    @property
    def duration(self) -> timedelta:
        return self.ends_at - self.starts_at

    def overlaps(self, other: TimeRange) -> bool:
        return self.starts_at < other.ends_at and other.starts_at < self.ends_at


def require_utc(value: datetime, field: str) -> datetime:
    """Reject naive or non-UTC datetimes so no local time sneaks into storage."""
    if not isinstance(value, datetime):
        raise InvalidTime(field, "must be a datetime")
    offset = value.utcoffset()
    if offset is None or offset != timedelta(0):
        raise InvalidTime(field, "must be an aware UTC datetime")
    return value


def to_utc(value: datetime, zone: tzinfo, field: str) -> datetime:
    """Convert an aware datetime, or a naive one read as wall time in ``zone``, to UTC.

    A wall time skipped by a clock change raises :class:`NonexistentLocalTime`. A wall time that
    occurs twice (clocks going back) means its *first* occurrence, as RFC 5545 specifies for
    calendars; Kazakhstan has had no DST since 2004 but the zone field accepts any IANA name.
    """
    try:
        if value.utcoffset() is not None:
            return _in_window(value.astimezone(UTC), field)
        first = value.replace(tzinfo=zone, fold=0)
        second = value.replace(tzinfo=zone, fold=1)
        if first.utcoffset() != second.utcoffset():
            # Either a gap or an overlap. In a gap, neither reading survives a round trip.
            round_trip = first.astimezone(UTC).astimezone(zone).replace(tzinfo=None, fold=0)
            if round_trip != value:
                raise NonexistentLocalTime(
                    field,
                    f"{value.isoformat()} does not exist in {zone} (clocks were moved forward); "
                    "pick another time or give an explicit UTC offset",
                )
        return _in_window(first.astimezone(UTC), field)
    except OverflowError:
        raise _out_of_window(value, field) from None


def _out_of_window(value: datetime, field: str) -> InvalidTime:
    return InvalidTime(
        field,
        f"{value.isoformat()} is outside the accepted range of dates {instant_bounds().describe()}",
    )


def _in_window(value: datetime, field: str) -> datetime:
    """Keep stored instants where later zone arithmetic (display, iCal, consumers) cannot
    overflow; the window is the programme-wide one every service applies."""
    try:
        return check_instant(value, field)
    except Invalid:
        raise _out_of_window(value, field) from None


def parse_instant(value: str, zone: tzinfo | str, field: str) -> datetime:
    """Parse an ISO 8601 date-time string into an aware UTC datetime.

    A date without a time is rejected: silently meaning midnight would schedule sessions for the
    wrong part of the day.
    """
    if not isinstance(value, str) or not _HAS_TIME.match(value.strip()):
        raise InvalidTime(field, f"{value!r} is not an ISO 8601 date-time such as 2020-12-22T10:00")
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidTime(field, f"{value!r} is not a valid ISO 8601 date-time") from exc
    resolved = load_zone(zone) if isinstance(zone, str) else zone
    return to_utc(parsed, resolved, field)


def check_interval(
    starts_at: datetime, ends_at: datetime, max_length: timedelta = MAX_SESSION_LENGTH
) -> TimeRange:
    """Validate UTC bounds: ``ends_at`` after ``starts_at`` and no longer than ``max_length``."""
    interval = TimeRange(starts_at, ends_at)
    if interval.duration > max_length:
        raise InvalidTime(
            "ends_at", f"a session may last at most {max_length.days} days; check the dates"
        )
    return interval


def parse_interval(
    starts_at: str,
    ends_at: str,
    zone: tzinfo | str,
    max_length: timedelta = MAX_SESSION_LENGTH,
) -> TimeRange:
    """Parse both bounds of a session (each may carry its own offset) and validate them."""
    return check_interval(
        parse_instant(starts_at, zone, "starts_at"),
        parse_instant(ends_at, zone, "ends_at"),
        max_length,
    )


def format_local(instant: datetime, zone: tzinfo | str) -> str:
    """Wall time in ``zone`` as ``YYYY-MM-DDTHH:MM+HH:MM`` (the offset keeps it unambiguous)."""
    if instant.utcoffset() is None:
        raise InvalidTime("instant", "must be an aware datetime")
    resolved = ZoneInfo(zone) if isinstance(zone, str) else zone
    return instant.astimezone(resolved).isoformat(timespec="minutes")


def local_times(
    instant: datetime, cities: Sequence[str], catalogue: CityCatalogue
) -> dict[str, str]:
    """``{city: local ISO time}`` for each city, each in that city's own zone.

    An online session across Almaty and Aktobe shows 10:00 to one audience and 09:00 to the other;
    this is what the API and invitations print.
    """
    return {city: format_local(instant, catalogue.zone_of(city)) for city in cities}
