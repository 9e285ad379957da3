"""Input checks every service applies the same way: instants within the programme window, text
without control or bidi-override characters.

A date far outside any plausible programme (year 1, year 9999) is never a real session: accepting
it makes time-zone arithmetic overflow later, inside a handler or an event consumer, where it can
only fail as a 500 or a dead letter. Refusing it at the edge, with the field named, keeps every
stored instant in a range where arithmetic is safe.

Control characters (NUL first of all) and bidirectional overrides/isolates in names, titles and
free text corrupt CSV exports and can make a cell read differently from what it holds, so they are
refused rather than silently stripped. Messages name the field and the code point, never the value:
a value may be a person's name.
"""

from __future__ import annotations

import os
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, tzinfo
from functools import cache

from trainops_shared.errors import Invalid
from trainops_shared.settings import SettingsError

DATE_MIN_ENV = "TRAINOPS_DATE_MIN"
DATE_MAX_ENV = "TRAINOPS_DATE_MAX"
DEFAULT_YEAR_MIN = 2000
DEFAULT_YEAR_MAX = 2100

BIDI_CONTROLS = frozenset(
    {chr(c) for c in range(0x202A, 0x202F)} | {chr(c) for c in range(0x2066, 0x206A)}
)
"""Embeddings, overrides (U+202A–U+202E) and isolates (U+2066–U+2069)."""

MULTILINE_ALLOWED = frozenset("\n\r\t")

MAX_OFFSET = 1_000_000
"""Upper bound of every ``offset`` query parameter: past any real list, and far below the
64-bit integers SQLite and PostgreSQL bind (a larger value would overflow there, a 500)."""


@dataclass(frozen=True, slots=True)
class InstantBounds:
    """The accepted window: ``low <= value < high``, both UTC-aware."""

    low: datetime
    high: datetime

    def describe(self) -> str:
        last = self.high - timedelta(microseconds=1)
        return f"{self.low.date().isoformat()}..{last.date().isoformat()}"


def _bound(env: Mapping[str, str], name: str, default_year: int, *, upper: bool) -> datetime:
    """A year (``2100``: the whole year is inside) or an ISO date (that day is inside)."""
    raw = (env.get(name) or "").strip()
    try:
        if raw == "":
            day = date(default_year, 1, 1)
            whole_year = True
        elif raw.isdigit() and len(raw) == 4:
            day = date(int(raw), 1, 1)
            whole_year = True
        else:
            day = date.fromisoformat(raw)
            whole_year = False
        start = datetime(day.year, day.month, day.day, tzinfo=UTC)
        if not upper:
            return start
        if whole_year:
            return start.replace(year=day.year + 1)
        return start + timedelta(days=1)
    except (ValueError, OverflowError):
        raise SettingsError(
            f"{name}={raw!r} is not a year (2100) or an ISO date (2100-12-31) between 0002 and 9998"
        ) from None


def load_bounds(env: Mapping[str, str] | None = None) -> InstantBounds:
    """Read the window from ``TRAINOPS_DATE_MIN`` / ``TRAINOPS_DATE_MAX`` (default 2000–2100).

    The window must stay clear of ``datetime.min``/``max`` by more than a day so that converting
    any accepted instant to any time zone cannot overflow.
    """
    env = os.environ if env is None else env
    low = _bound(env, DATE_MIN_ENV, DEFAULT_YEAR_MIN, upper=False)
    high = _bound(env, DATE_MAX_ENV, DEFAULT_YEAR_MAX, upper=True)
    if low.year < 2 or high.year > 9998:
        raise SettingsError(f"{DATE_MIN_ENV}/{DATE_MAX_ENV} must lie within years 0002..9998")
    if low >= high:
        raise SettingsError(
            f"{DATE_MIN_ENV} ({low.date().isoformat()}) must be before "
            f"{DATE_MAX_ENV} ({high.date().isoformat()})"
        )
    return InstantBounds(low, high)


@cache
def instant_bounds() -> InstantBounds:
    """The process-wide window, read once from the environment."""
    return load_bounds()


def _out_of_window(field: str, value: datetime, bounds: InstantBounds) -> Invalid:
    return Invalid(
        f"{field} ({value.isoformat()}) is outside the accepted range of dates {bounds.describe()}",
        field=field,
    )


def _shown(raw: str) -> str:
    """The value as typed, quoted and cut short: for query values, never personal data."""
    return repr(raw if len(raw) <= 40 else raw[:40] + "…")


def check_instant(
    value: datetime,
    field: str,
    *,
    zone: tzinfo = UTC,
    bounds: InstantBounds | None = None,
) -> datetime:
    """``value`` as a UTC-aware datetime inside the window; a naive value is wall time in ``zone``.

    For datetimes msgspec already decoded from a JSON body, and for the result of any parser: an
    offset that would push the value past ``datetime.min``/``max`` is refused here instead of
    overflowing later in a handler or consumer.
    """
    window = bounds or instant_bounds()
    try:
        if value.utcoffset() is None:
            value = value.replace(tzinfo=zone)
        utc = value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise _out_of_window(field, value, window) from None
    if not window.low <= utc < window.high:
        raise _out_of_window(field, value, window)
    return utc


def parse_instant(
    raw: str,
    field: str,
    *,
    zone: tzinfo = UTC,
    bounds: InstantBounds | None = None,
) -> datetime:
    """An ISO date (midnight) or datetime (in ``zone`` when naive, converted when offset), inside
    the window, as a UTC-aware datetime. ``Z``/``z`` mean UTC.
    """
    text = raw.strip()
    try:
        if len(text) == 10:
            day = date.fromisoformat(text)
            value = datetime(day.year, day.month, day.day)
        else:
            value = datetime.fromisoformat(text.replace("z", "Z"))
    except (ValueError, OverflowError):
        raise Invalid(
            f"{field}={_shown(raw)} is not an ISO date (2020-12-22) "
            "or datetime (2020-12-22T09:00:00Z)",
            field=field,
        ) from None
    return check_instant(value, field, zone=zone, bounds=bounds)


def check_text(value: str, field: str, *, multiline: bool = False) -> str:
    """``value`` unchanged, or :class:`Invalid` if it holds a control or bidi-control character.

    ``multiline`` allows newline, carriage return and tab (free-text answers); nothing else in
    Unicode category Cc (C0, DEL, C1) is ever accepted, nor are lone surrogates.
    """
    for position, char in enumerate(value):
        if multiline and char in MULTILINE_ALLOWED:
            continue
        if char in BIDI_CONTROLS:
            kind = "a bidirectional-override character"
        else:
            category = unicodedata.category(char)
            if category == "Cc":
                kind = "a control character"
            elif category == "Cs":
                kind = "an unpaired surrogate"
            else:
                continue
        raise Invalid(
            f"{field} contains {kind} (U+{ord(char):04X}) at position {position}; "
            "remove it and try again",
            field=field,
        )
    return value
