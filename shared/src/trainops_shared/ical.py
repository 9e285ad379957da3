"""iCalendar (RFC 5545) text: escaping, line folding, UTC times and the calendar envelope,
for every service that hands out ``.ics`` files or feeds.

Titles are Kazakh or Russian, so line folding counts UTF-8 octets and never splits a character.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Final

from trainops_shared.timeutil import as_utc

CRLF: Final[str] = "\r\n"
MAX_LINE_OCTETS: Final[int] = 75
UID_DOMAIN: Final[str] = "trainops"

_NEWLINES = re.compile(r"\r\n|\r|\n")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


def escape_text(value: str) -> str:
    """Escape a TEXT value (RFC 5545 §3.3.11): backslash, ``;``, ``,`` and newlines.

    Other control characters are not allowed in TEXT at all, so they are dropped.
    """
    value = value.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,")
    value = _NEWLINES.sub("\\\\n", value)
    return _CONTROL.sub("", value)


def fold_line(line: str, limit: int = MAX_LINE_OCTETS) -> str:
    """Fold a content line so no physical line exceeds ``limit`` octets (RFC 5545 §3.1).

    Continuation lines start with one space, which counts towards the limit; characters are never
    split, since a multi-octet Cyrillic letter cut in half is invalid UTF-8.
    """
    pieces: list[str] = []
    current: list[str] = []
    size = 0
    budget = limit
    for char in line:
        width = len(char.encode("utf-8"))
        if size + width > budget:
            pieces.append("".join(current))
            current, size, budget = [], 0, limit - 1
        current.append(char)
        size += width
    pieces.append("".join(current))
    return (CRLF + " ").join(pieces)


def format_utc(instant: datetime) -> str:
    """A DATE-TIME in UTC form, e.g. ``20201222T040000Z``."""
    return as_utc(instant).strftime("%Y%m%dT%H%M%SZ")


def render_calendar(
    prodid: str,
    events: Iterable[Sequence[str]],
    name: str | None = None,
    method: str = "PUBLISH",
) -> str:
    """A VCALENDAR around ``events`` (each the content lines of one VEVENT), folded and
    CRLF-terminated; ``name`` is what a subscribing calendar app calls it. ``method`` is
    PUBLISH for a feed or a download, REQUEST or CANCEL for an invitation sent by mail
    (RFC 5546)."""
    lines = [
        "BEGIN:VCALENDAR",
        "VERSION:2.0",
        f"PRODID:{prodid}",
        "CALSCALE:GREGORIAN",
        f"METHOD:{method}",
    ]
    if name:
        lines.append(f"X-WR-CALNAME:{escape_text(name)}")
    for event in events:
        lines.extend(event)
    lines.append("END:VCALENDAR")
    return "".join(fold_line(line) + CRLF for line in lines)
