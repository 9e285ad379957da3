"""iCalendar (RFC 5545) export of a session, for participants' and trainers' calendars.

Only what calendar clients need is emitted. ``UID`` is stable per session and ``SEQUENCE`` is the
session version (it only ever grows), so a reschedule or cancellation *updates* the entry
already in a calendar rather than adding a second one. Titles are Kazakh or Russian, so line
folding counts UTF-8 octets and never splits a character.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Final

from trainops_scheduling.domain.cities import FALLBACK_LANGUAGE, CityCatalogue
from trainops_scheduling.domain.session import Session
from trainops_scheduling.domain.times import format_local
from trainops_shared.ical import UID_DOMAIN, escape_text, fold_line, format_utc, render_calendar
from trainops_shared.timeutil import utc_now

__all__ = ["escape_text", "fold_line", "render_calendar_ical", "render_session_ical"]

PRODID: Final[str] = "-//trainops//scheduling//EN"


def session_title(title: Mapping[str, str], language: str) -> tuple[str, str]:
    """``(language, title)``: the session's language, else English, else any, else a placeholder.

    The language actually used is returned so the SUMMARY's LANGUAGE parameter tells the truth.
    """
    for candidate in (language, FALLBACK_LANGUAGE, *title):
        if title.get(candidate):
            return candidate, title[candidate]
    return FALLBACK_LANGUAGE, "Training session"


def _description(session: Session, catalogue: CityCatalogue | None) -> str:
    if catalogue is None:
        return "Cities: " + ", ".join(session.cities)
    lines = []
    for code in session.cities:
        name = catalogue.display_name(code, session.language) if code in catalogue else code
        zone = catalogue.zone_of(code) if code in catalogue else session.timezone
        lines.append(f"{name}: {format_local(session.starts_at, zone)}")
    return "\n".join(lines)


def _event_lines(
    session: Session, title: Mapping[str, str], catalogue: CityCatalogue | None, stamp: datetime
) -> list[str]:
    status = "CANCELLED" if session.status == "cancelled" else "CONFIRMED"
    location = session.venue if session.venue else "Online"
    summary_language, summary = session_title(title, session.language)
    return [
        "BEGIN:VEVENT",
        f"UID:{session.id}@{UID_DOMAIN}",
        f"DTSTAMP:{format_utc(stamp)}",
        f"DTSTART:{format_utc(session.starts_at)}",
        f"DTEND:{format_utc(session.ends_at)}",
        f"SUMMARY;LANGUAGE={summary_language}:{escape_text(summary)}",
        f"LOCATION:{escape_text(location)}",
        f"DESCRIPTION:{escape_text(_description(session, catalogue))}",
        f"STATUS:{status}",
        f"SEQUENCE:{session.version}",
        "END:VEVENT",
    ]


def render_calendar_ical(
    events: Sequence[tuple[Session, Mapping[str, str]]],
    catalogue: CityCatalogue | None = None,
    dtstamp: datetime | None = None,
    name: str | None = None,
) -> str:
    """A VCALENDAR with one VEVENT per ``(session, training title)``, CRLF-terminated; ``name``
    is what a subscribing calendar app calls the feed."""
    stamp = dtstamp if dtstamp is not None else utc_now()
    return render_calendar(
        PRODID, (_event_lines(s, title, catalogue, stamp) for s, title in events), name
    )


def render_session_ical(
    session: Session,
    title: Mapping[str, str],
    catalogue: CityCatalogue | None = None,
    dtstamp: datetime | None = None,
) -> str:
    """A complete VCALENDAR with one VEVENT for ``session``, CRLF-terminated.

    ``title`` maps language to the training title. With a ``catalogue`` the description names each
    city in the session language with its local start time; without, it lists the city codes.
    ``dtstamp`` defaults to now; pass it for reproducible output.
    """
    return render_calendar_ical([(session, title)], catalogue, dtstamp)
