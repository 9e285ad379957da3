"""The days a calendar page shows, and which session falls on which city's local day.

Pure date arithmetic: a week runs Monday to Sunday; a month is shown as whole weeks. A session
appears under each of its cities, on the day it starts in that city's own zone.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from trainops_scheduling.domain.cities import CityCatalogue
from trainops_scheduling.domain.session import Session


@dataclass(frozen=True)
class Period:
    """The days a calendar page shows and the links to the periods around it."""

    view: str
    first: date
    days: list[date]
    previous: date
    next: date

    @classmethod
    def of(cls, view: str, day: date) -> Period:
        if view == "month":
            first = day.replace(day=1)
            _, length = calendar.monthrange(first.year, first.month)
            last = first + timedelta(days=length - 1)
            grid_start = first - timedelta(days=first.weekday())
            grid_end = last + timedelta(days=6 - last.weekday())
            days = [grid_start + timedelta(days=i) for i in range((grid_end - grid_start).days + 1)]
            previous = (first - timedelta(days=1)).replace(day=1)
            following = last + timedelta(days=1)
            return cls("month", first, days, previous, following)
        first = day - timedelta(days=day.weekday())
        days = [first + timedelta(days=i) for i in range(7)]
        return cls("week", first, days, first - timedelta(days=7), first + timedelta(days=7))

    @property
    def weeks(self) -> list[list[date]]:
        return [self.days[i : i + 7] for i in range(0, len(self.days), 7)]


@dataclass(frozen=True)
class Entry:
    """One session on one city's local day."""

    session: Session
    city: str
    starts: datetime
    ends: datetime


def calendar_entries(
    found: list[Session], catalogue: CityCatalogue, days: list[date]
) -> dict[tuple[str, date], list[Entry]]:
    """``{(city, local day): entries}``: a session appears under each of its cities, on the
    day it starts in that city's own zone."""
    shown = set(days)
    cells: dict[tuple[str, date], list[Entry]] = {}
    for session in found:
        for city in session.cities:
            zone = catalogue.zone_of(city) if city in catalogue else UTC
            starts = session.starts_at.astimezone(zone)
            if starts.date() in shown:
                entry = Entry(session, city, starts, session.ends_at.astimezone(zone))
                cells.setdefault((city, starts.date()), []).append(entry)
    return cells
