"""The participant's own consent page (``/r/consents/{token}``): see and change each purpose.

The token is the credential (no sign-in), checked here and nowhere else. Withdrawing a purpose
other than taking part, or giving it again, is one row of ``consents``; withdrawing taking
part is the request for erasure the consent model defines, so it goes through the same
:func:`~trainops_registration.handlers.lifecycle.erase` as ``DELETE /participants/{id}``.
Every change is audited with the pseudonymous id and the purpose only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_registration.adapters import consent_links, lifecycle
from trainops_registration.domain.consent import (
    TAKING_PART,
    ConsentChoice,
    consent_choices,
    ensure_self_change,
)
from trainops_registration.handlers.lifecycle import erase
from trainops_shared.audit import record_audit
from trainops_shared.errors import NotFound
from trainops_shared.link_tokens import hash_token, looks_like_token

CONSENT_PAGE_ACTOR = "participant:consent-page"
"""Who the audit log says acted when a participant changed a consent themselves."""


@dataclass(frozen=True, slots=True)
class ConsentPage:
    language: str
    erased: bool
    choices: list[ConsentChoice]


def _person(conn: Connection, token: str) -> consent_links.LinkedPerson | None:
    if not looks_like_token(token):
        return None
    return consent_links.find_person(conn, hash_token(token))


def _page(
    conn: Connection, person: consent_links.LinkedPerson, offered: tuple[str, ...], erased: bool
) -> ConsentPage:
    if erased:
        return ConsentPage(person.language, True, [])
    records = lifecycle.consents_of(conn, person.participant_id)
    return ConsentPage(person.language, False, consent_choices(records, offered))


def read_consent_page(conn: Connection, token: str, offered: tuple[str, ...]) -> ConsentPage | None:
    """The page of a consent link; ``None`` for a token that is no link."""
    person = _person(conn, token)
    return None if person is None else _page(conn, person, offered, person.erased)


def change_consent(
    conn: Connection,
    token: str,
    purpose: str,
    action: str,
    offered: tuple[str, ...],
    now: datetime,
    *,
    confirmed: bool = False,
) -> ConsentPage:
    """Withdraw ``purpose`` or give it again. 404 no link (or the person's data is erased:
    nothing left to consent about); 422 an unknown purpose or action; 409 a change the
    purpose does not allow now (already done); 422 ``confirm`` for withdrawing taking part
    without confirming the erasure."""
    person = _person(conn, token)
    if person is None or person.erased:
        raise NotFound("link not found", field="token")
    pid = person.participant_id
    choices = _page(conn, person, offered, False).choices
    ensure_self_change(purpose, action, choices, confirmed=confirmed)
    if action == "give":
        lifecycle.grant_consents(conn, pid, (purpose,), now, "participant")
        record_audit(
            conn,
            CONSENT_PAGE_ACTOR,
            "participant.consent_given",
            "participant",
            pid,
            {"purpose": purpose},
            at=now,
        )
        return _page(conn, person, offered, False)
    lifecycle.withdraw_consent(conn, pid, purpose, now, "participant")
    record_audit(
        conn,
        CONSENT_PAGE_ACTOR,
        "participant.consent_withdrawn",
        "participant",
        pid,
        {"purpose": purpose},
        at=now,
    )
    if purpose != TAKING_PART:
        return _page(conn, person, offered, False)
    erase(conn, pid, CONSENT_PAGE_ACTOR, "consent_withdrawn", now)
    return _page(conn, person, offered, True)
