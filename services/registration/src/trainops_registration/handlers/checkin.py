"""Check-in: each confirmed registration's code (the QR of the printable attendance list),
and recording attendance when a coordinator opens a scanned code.

The code is a credential (whoever holds it can be checked in), so it is derived from the
installation's ``REGISTRATION_LINK_KEY`` and only its hash is stored. Opening a code is a
coordinator's act, signed in: the region rule applies as everywhere (another region's code is
404), and recording goes through the one attendance use case, so its event and audit entry are
those of the attendance checklist.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Final

from sqlalchemy.engine import Connection

from trainops_registration.adapters import checkin, registrations, sessions
from trainops_registration.domain.checkin import (
    CHECKIN_PATH,
    JOIN_PATH,
    checkin_tokens,
    checkin_url,
)
from trainops_registration.domain.errors import Conflict, NotFound
from trainops_registration.domain.meetings import validate_meeting_url
from trainops_registration.domain.records import Registration, SessionCopy
from trainops_registration.domain.seats import ensure_can_record_attendance
from trainops_registration.handlers.registrations import record_attendance
from trainops_registration.handlers.sessions import (
    SessionRoster,
    read_session_roster,
    visible_session,
)
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.events.vocabulary import Language
from trainops_shared.link_tokens import LinkTokens, hash_token, looks_like_token

__all__ = [
    "CHECKIN_PATH",
    "JOIN_PATH",
    "AttendanceSheet",
    "CheckIn",
    "JoinView",
    "check_in",
    "checkin_tokens",
    "checkin_url",
    "join",
    "read_attendance_sheet",
    "read_checkin",
    "read_join",
    "set_meeting",
]

JOINER: Final = Principal(subject="join-link", role="participant")
"""Who records presence through a join link: the participant, who has no account; the actor
of the attendance event and its audit entry says so."""


@dataclass(frozen=True)
class AttendanceSheet:
    """The printable list: the session's confirmed people the reader may see, each with the
    code of their QR (for an online session, of their personal join link)."""

    roster: SessionRoster
    codes: dict[uuid.UUID, str]
    meeting_url: str | None = None


def read_attendance_sheet(
    conn: Connection,
    session_id: uuid.UUID,
    principal: Principal,
    tokens: LinkTokens,
    now: datetime,
) -> AttendanceSheet:
    """The sheet; the codes it shows are stored (as hashes) so that scanning them works."""
    roster = read_session_roster(conn, session_id, principal)
    codes = {r.registration_id: tokens.token(str(r.registration_id)) for r in roster.confirmed}
    checkin.ensure_codes(conn, {rid: hash_token(code) for rid, code in codes.items()}, now)
    return AttendanceSheet(roster, codes, checkin.meeting_url(conn, session_id))


@dataclass(frozen=True)
class CheckIn:
    registration: Registration
    session: SessionCopy


def _not_found() -> NotFound:
    return NotFound("code", "no registration with this check-in code")


def read_checkin(conn: Connection, code: str, principal: Principal) -> CheckIn:
    """The registration a code opens, if the reader may see it (else 404, as for any other
    registration of another region)."""
    if not looks_like_token(code):
        raise _not_found()
    registration_id = checkin.registration_of(conn, hash_token(code))
    if registration_id is None:
        raise _not_found()
    found = registrations.get_registration(conn, registration_id, principal, with_person=True)
    session = sessions.get_session(conn, found.session_id) if found is not None else None
    if found is None or session is None:
        raise _not_found()
    return CheckIn(found, session)


def check_in(
    conn: Connection, code: str, principal: Principal, correlation_id: uuid.UUID
) -> CheckIn:
    """Record the person as attended; a second scan of someone already checked in records
    nothing again (no second event)."""
    found = read_checkin(conn, code, principal)
    if found.registration.attended is True:
        return found
    record_attendance(conn, found.registration.registration_id, True, principal, correlation_id)
    return read_checkin(conn, code, principal)


def set_meeting(
    conn: Connection, session_id: uuid.UUID, url: str, principal: Principal, now: datetime
) -> str:
    """Set the meeting address of an online session the principal may see (404 otherwise);
    the audit entry says that it changed, not what to (the address may hold a passcode)."""
    session = visible_session(conn, session_id, principal)
    if session.mode != "online":
        raise Conflict("session.mode", "only an online session has a meeting address")
    address = validate_meeting_url(url)
    checkin.set_meeting_url(conn, session_id, address, now)
    record_audit(conn, principal, "session.meeting_set", "session", session_id, {}, at=now)
    return address


def _no_address() -> Conflict:
    return Conflict("meeting_url", "the meeting address of this session is not set yet")


@dataclass(frozen=True, slots=True)
class JoinView:
    """What the join page shows before anything is recorded: the participant's language, and
    why the link cannot be used now (``None`` when it can)."""

    language: Language
    problem: Conflict | None


def _joining(
    conn: Connection, code: str
) -> tuple[Registration, SessionCopy, str | None, Conflict | None]:
    """The registration, session and meeting address of a join code, and the reason it cannot
    be used now if any; 404 for an unknown code or one of an in-person session."""
    if not looks_like_token(code):
        raise _not_found()
    registration_id = checkin.registration_of(conn, hash_token(code))
    found = (
        registrations.get_registration(conn, registration_id, JOINER)
        if registration_id is not None
        else None
    )
    session = sessions.get_session(conn, found.session_id) if found is not None else None
    if found is None or session is None or session.mode != "online":
        raise _not_found()
    address = checkin.meeting_url(conn, session.session_id)
    problem = None
    if address is None:
        problem = _no_address()
    else:
        try:
            ensure_can_record_attendance(found.status, session.status)
        except Conflict as exc:
            problem = exc
    return found, session, address, problem


def read_join(conn: Connection, code: str) -> JoinView:
    """The join page of a code, changing nothing (mail scanners and link previews open it)."""
    found, _, _, problem = _joining(conn, code)
    return JoinView(found.language, problem)


def join(conn: Connection, code: str, correlation_id: uuid.UUID) -> tuple[str, Registration]:
    """The meeting address a participant's join link leads to, recording their presence the
    first time (a confirmed registration of an online session that is not cancelled).

    An unknown code, or one of an in-person session, is 404; a link that cannot be used now
    (not confirmed, the session cancelled, no meeting address yet) is a 409 saying why.
    """
    found, _, address, problem = _joining(conn, code)
    if problem is not None or address is None:
        raise problem or _no_address()
    if found.attended is not True:
        found = record_attendance(conn, found.registration_id, True, JOINER, correlation_id)
    return address, found
