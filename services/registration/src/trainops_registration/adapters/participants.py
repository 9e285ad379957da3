"""Participants and identity matching: the only rows holding personal data (sealed per person:
:mod:`.personal_data`; the matching compares blind-index values, then opens the candidates).

Matching never leaves one city (the *match scope*): every query here is confined to it, so a
participant of another city is never read while registering and nothing about them can reach
an answer (see :mod:`trainops_registration.domain.identity`).
"""

from __future__ import annotations

import uuid
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_registration.adapters import personal_data
from trainops_registration.adapters.common import NOT_CANCELLED, execute_may_conflict
from trainops_registration.adapters.tables import participants, registrations
from trainops_registration.domain import Participant
from trainops_registration.domain.identity import CANDIDATE_RULE_LIMIT, Candidate, choose_match
from trainops_registration.domain.records import LiveRegistration, ParticipantMatch, Person

_p = participants.c
_r = registrations.c

_MATCH_PRIORITY = sa.case(
    (_p.email_index == sa.bindparam("email"), 0),
    (_p.phone_index == sa.bindparam("phone"), 1),
    else_=2,
)
_IN_SCOPE = _p.city == sa.bindparam("city")
_FIND_PARTICIPANT = (
    sa.select(
        _p.participant_id,
        _p.full_name,
        _p.name_key,
        _p.email,
        _p.phone,
        _p.organisation,
        _p.city,
        _p.merged_into,
        _r.registration_id.label("live_registration_id"),
        _r.status.label("live_status"),
        _r.city.label("live_city"),
    )
    .select_from(
        participants.outerjoin(
            registrations,
            sa.and_(
                _r.participant_id == _p.participant_id,
                _r.session_id == sa.bindparam("sid"),
                NOT_CANCELLED,
            ),
        )
    )
    # Every branch is confined to the match scope (one city) and written as its own
    # ``index = :v AND city = :c`` so that each uses its (blind index, city) index.
    .where(
        sa.or_(
            sa.and_(_p.email_index == sa.bindparam("email"), _IN_SCOPE),
            sa.and_(_p.phone_index == sa.bindparam("phone"), _IN_SCOPE),
            sa.and_(_p.name_index == sa.bindparam("name_key"), _IN_SCOPE),
        ),
        _p.merged_into.is_(None),
        _p.erased_at.is_(None),
    )
    # E-mail matches first, then phone matches, then same-name candidates oldest first: the
    # rows arrive in the order the matching rules are tried. At most one row each for e-mail
    # and phone (unique per city) and one live registration per person and session.
    .order_by(_MATCH_PRIORITY, _p.created_at)
    .limit(CANDIDATE_RULE_LIMIT + 2)
)


def match_participant(
    conn: Connection, person: Participant, session_id: uuid.UUID, scope: str
) -> ParticipantMatch | None:
    """The existing participant of city ``scope`` this input denotes (the rules are
    :func:`~trainops_registration.domain.identity.choose_match`), with their live (not
    cancelled) registration for ``session_id``, if any.

    One query answers all three rules and the duplicate check.
    """
    ring = personal_data.keyring()
    rows = conn.execute(
        _FIND_PARTICIPANT,
        {
            "email": ring.blind("email", person.email),
            "phone": ring.blind("phone", person.phone),
            "name_key": ring.blind("name_key", person.name_key),
            "city": scope,
            "sid": str(session_id),
        },
    ).all()
    if not rows:
        return None
    by_id = {row.participant_id: row for row in rows}
    ciphers = personal_data.ciphers_for(conn, by_id)
    opened = {
        pid: personal_data.open_fields(ciphers.get(pid), row._mapping) for pid, row in by_id.items()
    }
    chosen = choose_match(
        person,
        (
            Candidate(
                participant_id=row.participant_id,
                city=row.city,
                name_key=opened[row.participant_id]["name_key"] or "",
                email=opened[row.participant_id]["email"],
                phone=opened[row.participant_id]["phone"],
                merged_into=row.merged_into,
            )
            for row in rows
        ),
        scope,
    )
    if chosen is None:
        return None
    row = by_id[chosen.participant_id]
    fields = opened[chosen.participant_id]
    found = Person(
        participant_id=chosen.participant_id,
        full_name=fields["full_name"] or "",
        name_key=fields["name_key"] or "",
        email=fields["email"],
        phone=fields["phone"],
        organisation=fields["organisation"],
        city=row.city,
    )
    live = None
    if row.live_registration_id is not None:
        live = LiveRegistration(
            registration_id=row.live_registration_id,
            status=row.live_status,
            city=row.live_city,
        )
    return ParticipantMatch(person=found, live=live)


_LOCK_LIVE_PARTICIPANT = (
    sa.select(_p.participant_id)
    .where(_p.participant_id == sa.bindparam("pid"), _p.merged_into.is_(None))
    .with_for_update()
)


def lock_live_participant(conn: Connection, participant_id: uuid.UUID) -> bool:
    """Lock the matched participant for the rest of the registration; ``False`` when a merge
    folded them away since the match was read (the caller matches again).

    A merge locks both of its rows the same way, so on PostgreSQL a registration and a merge of
    one person take turns: the registration never links to a row merged under it. One row,
    exclusively: two registrations of one person queue instead of both holding a shared lock
    and deadlocking when both fill in a contact. SQLite runs write transactions one at a time,
    so there is nothing to lock and no statement is spent.
    """
    if conn.dialect.name == "sqlite":
        return True
    row = conn.execute(_LOCK_LIVE_PARTICIPANT, {"pid": str(participant_id)}).first()
    return row is not None


_INSERT_PARTICIPANT = participants.insert()


def insert_participant(conn: Connection, person: Participant, now: datetime) -> uuid.UUID | None:
    """Insert a new person; ``None`` when a concurrent transaction inserted the same e-mail or
    phone first (the unique index fired; the caller looks the person up again)."""
    participant_id = uuid.uuid4()
    cipher = personal_data.PersonCipher(participant_id, personal_data.new_person_key())
    inserted = execute_may_conflict(
        conn,
        _INSERT_PARTICIPANT,
        {
            "participant_id": str(participant_id),
            **personal_data.sealed_values(
                cipher,
                {
                    "full_name": person.full_name,
                    "name_key": person.name_key,
                    "email": person.email,
                    "phone": person.phone,
                    "organisation": person.organisation,
                },
            ),
            "city": person.city,
            "sector": person.sector,
            "sex": person.sex,
            "age_band": person.age_band,
            "language": person.language,
            "created_at": now,
            "updated_at": now,
        },
    )
    if not inserted:
        return None
    personal_data.store_person_key(conn, cipher, now)
    return participant_id


_FILL_GAP = {
    column: participants.update()
    .where(_p.participant_id == sa.bindparam("pid"), participants.c[column].is_(None))
    .values(
        {
            column: sa.bindparam("value"),
            **(
                {personal_data.BLIND_INDEXED[column]: sa.bindparam("index")}
                if column in personal_data.BLIND_INDEXED
                else {}
            ),
            "updated_at": sa.bindparam("now"),
        }
    )
    for column in ("email", "phone", "organisation")
}


def fill_participant_gaps(
    conn: Connection, stored: Person, person: Participant, now: datetime
) -> None:
    """Add contact details the stored person lacks; never overwrite what is there (each update
    is conditional on the column still being empty, whatever ``stored`` was read as).

    A contact already used by another participant is left out (the unique index says so):
    merging two people is a human decision, not a side effect of registering.
    """
    cipher = personal_data.cipher_for(conn, stored.participant_id)
    if cipher is None:
        return
    ring = personal_data.keyring()
    for column, value, present in (
        ("email", person.email, stored.email),
        ("phone", person.phone, stored.phone),
        ("organisation", person.organisation, stored.organisation),
    ):
        if value is None or present is not None:
            continue
        execute_may_conflict(
            conn,
            _FILL_GAP[column],
            {
                "pid": str(stored.participant_id),
                "value": cipher.seal(column, value),
                "index": ring.blind(column, value),
                "now": now,
            },
        )
