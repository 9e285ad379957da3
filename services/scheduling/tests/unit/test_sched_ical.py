"""iCalendar export: structure, UTC times, escaping and UTF-8-aware folding, checked by parsing
the output back with a deliberately tiny RFC 5545 reader."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from trainops_scheduling.domain import CityCatalogue, Session, render_session_ical
from trainops_scheduling.domain.ical import escape_text, fold_line

pytestmark = pytest.mark.unit

STAMP = datetime(2020, 12, 1, 12, 0, tzinfo=UTC)
LONG_KK_TITLE = (
    "Балалар мәселелерін БАҚ-та этикалық тұрғыдан жариялау: журналистер, блогерлер және "
    "үкіметтік емес ұйымдар үшін тренинг; Алматы, 2020"
)


def unfold(text: str) -> list[str]:
    """Physical lines to logical lines: a CRLF followed by one space or tab is removed."""
    assert text.endswith("\r\n")
    assert "\n" not in text.replace("\r\n", "")
    logical: list[str] = []
    for physical in text[:-2].split("\r\n"):
        if physical[:1] in (" ", "\t"):
            logical[-1] += physical[1:]
        else:
            logical.append(physical)
    return logical


def parse(text: str) -> list[tuple[str, dict[str, str], str]]:
    """Logical lines to ``(name, params, value)``; the value is left escaped."""
    parsed = []
    for line in unfold(text):
        head, _, value = line.partition(":")
        name, *params = head.split(";")
        parsed.append((name, dict(p.split("=", 1) for p in params), value))
    return parsed


def unescape(value: str) -> str:
    out, chars = [], iter(value)
    for char in chars:
        if char == "\\":
            nxt = next(chars)
            out.append("\n" if nxt in "nN" else nxt)
        else:
            out.append(char)
    return "".join(out)


def make_session(**overrides: object) -> Session:
    values: dict[str, object] = {
        "id": uuid.UUID("0190f5a2-0000-7000-8000-000000000001"),
        "training_id": uuid.uuid4(),
        "mode": "online",
        "cities": ["almaty", "aktobe"],
        "starts_at": datetime(2020, 12, 22, 4, tzinfo=UTC),
        "ends_at": datetime(2020, 12, 22, 7, tzinfo=UTC),
        "capacity": 50,
        "language": "kk",
        "catalogue": CityCatalogue.default(),
    }
    values.update(overrides)
    return Session.schedule(**values)  # type: ignore[arg-type]


def test_calendar_structure_and_properties() -> None:
    session = make_session()
    text = render_session_ical(session, {"kk": LONG_KK_TITLE, "en": "Ethics"}, dtstamp=STAMP)
    lines = parse(text)
    names = [name for name, _, _ in lines]
    assert names[:2] == ["BEGIN", "VERSION"]
    assert lines[0][2] == "VCALENDAR" and lines[-1] == ("END", {}, "VCALENDAR")
    assert names.count("BEGIN") == names.count("END") == 2
    event = {name: (params, value) for name, params, value in lines}
    assert event["PRODID"][1] == "-//trainops//scheduling//EN"
    assert event["VERSION"][1] == "2.0"
    assert event["UID"][1] == f"{session.id}@trainops"
    assert event["DTSTAMP"][1] == "20201201T120000Z"
    assert event["DTSTART"][1] == "20201222T040000Z"
    assert event["DTEND"][1] == "20201222T070000Z"
    assert unescape(event["SUMMARY"][1]) == LONG_KK_TITLE
    assert event["SUMMARY"][0] == {"LANGUAGE": "kk"}
    assert event["LOCATION"][1] == "Online"
    assert event["STATUS"][1] == "CONFIRMED"
    assert event["SEQUENCE"][1] == "1"
    assert event["DESCRIPTION"][1] == "Cities: almaty\\, aktobe"
    assert unescape(event["DESCRIPTION"][1]) == "Cities: almaty, aktobe"


def test_long_cyrillic_lines_are_folded_on_character_boundaries() -> None:
    text = render_session_ical(make_session(), {"kk": LONG_KK_TITLE}, dtstamp=STAMP)
    raw = text.encode("utf-8")
    physical = raw.split(b"\r\n")[:-1]
    assert all(len(line) <= 75 for line in physical)
    assert any(line.startswith(b" ") for line in physical), "the long title must have been folded"
    for line in physical:
        line.decode("utf-8")  # no multi-octet character was split across lines
    summary = next(line for line in unfold(text) if line.startswith("SUMMARY"))
    assert unescape(summary.split(":", 1)[1]) == LONG_KK_TITLE


def test_fold_line_limits() -> None:
    assert fold_line("A" * 75) == "A" * 75
    assert fold_line("A" * 76) == "A" * 75 + "\r\n A"
    folded = fold_line("Ж" * 100).split("\r\n")  # two octets each
    assert [len(p.encode()) for p in folded] == [74, 75, 53]


def test_text_escaping() -> None:
    assert escape_text("a,b;c\\d\ne\r\nf\x07") == "a\\,b\\;c\\\\d\\ne\\nf"


def test_cancelled_session_with_venue_and_catalogue_description() -> None:
    session = make_session(mode="in_person", cities=["aktobe"], venue="Hall; 2, Abay St.")
    cancelled = session.cancel("storm")
    text = render_session_ical(
        cancelled, {"ru": "Этика", "en": "Ethics"}, CityCatalogue.default(), dtstamp=STAMP
    )
    event = {name: (params, value) for name, params, value in parse(text)}
    assert event["STATUS"][1] == "CANCELLED"
    assert event["SEQUENCE"][1] == "2"
    assert event["LOCATION"][1] == "Hall\\; 2\\, Abay St."
    assert unescape(event["LOCATION"][1]) == "Hall; 2, Abay St."
    # kk title missing: falls back to English, and says so.
    assert event["SUMMARY"] == ({"LANGUAGE": "en"}, "Ethics")
    assert unescape(event["DESCRIPTION"][1]) == "Ақтөбе: 2020-12-22T09:00+05:00"


def test_multi_city_description_lists_local_times_on_separate_lines() -> None:
    text = render_session_ical(
        make_session(language="ru"), {"ru": "Этика"}, CityCatalogue.default(), dtstamp=STAMP
    )
    description = next(v for n, _, v in parse(text) if n == "DESCRIPTION")
    assert unescape(description).split("\n") == [
        "Алматы: 2020-12-22T10:00+06:00",
        "Актобе: 2020-12-22T09:00+05:00",
    ]


def test_dtstamp_defaults_to_now() -> None:
    before = datetime.now(UTC).replace(microsecond=0)
    text = render_session_ical(make_session(), {"en": "Ethics"})
    stamp = next(v for n, _, v in parse(text) if n == "DTSTAMP")
    parsed = datetime.strptime(stamp, "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert before <= parsed <= before + timedelta(minutes=1)
