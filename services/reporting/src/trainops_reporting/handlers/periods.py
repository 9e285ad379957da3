"""Reporting periods as time windows, shared by every read of the reports."""

from __future__ import annotations

from datetime import UTC, datetime


def period_window(period: str) -> tuple[datetime | None, datetime | None]:
    """``[start, end)`` in UTC of a period name (``all`` is unbounded)."""
    if period == "all":
        return None, None
    year = int(period[:4])
    if len(period) == 4:
        return datetime(year, 1, 1, tzinfo=UTC), datetime(year + 1, 1, 1, tzinfo=UTC)
    if "Q" in period:
        first = (int(period[6]) - 1) * 3 + 1
        months = (first, first + 3)
    else:
        month = int(period[5:7])
        months = (month, month + 1)
    start = datetime(year, months[0], 1, tzinfo=UTC)
    end = (
        datetime(year + 1, 1, 1, tzinfo=UTC)
        if months[1] == 13
        else datetime(year, months[1], 1, tzinfo=UTC)
    )
    return start, end
