"""A participant's sessions as iCalendar events (their own feed).

The UID is the session's, as scheduling's ``.ics`` of the session has it, so a calendar that
holds both shows one entry; a waiting-list place is TENTATIVE, a seat CONFIRMED.
"""

from __future__ import annotations

from datetime import datetime

from trainops_registration.domain.records import Registration, SessionCopy
from trainops_shared.ical import UID_DOMAIN, escape_text, format_utc


def registration_event(
    registration: Registration, session: SessionCopy, title: str, place: str, stamp: datetime
) -> list[str]:
    """The content lines of one VEVENT: ``title`` of the training, ``place`` the cities."""
    if session.status == "cancelled":
        status = "CANCELLED"
    else:
        status = "CONFIRMED" if registration.status == "confirmed" else "TENTATIVE"
    return [
        "BEGIN:VEVENT",
        f"UID:{session.session_id}@{UID_DOMAIN}",
        f"DTSTAMP:{format_utc(stamp)}",
        f"DTSTART:{format_utc(session.starts_at)}",
        f"DTEND:{format_utc(session.ends_at)}",
        f"SUMMARY;LANGUAGE={registration.language}:{escape_text(title)}",
        f"LOCATION:{escape_text(place)}",
        f"STATUS:{status}",
        f"SEQUENCE:{session.version}",
        "END:VEVENT",
    ]
