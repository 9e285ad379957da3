"""A participant's calendar feed: their sessions at a secret, revocable URL (participants have
no account, and calendar apps cannot send a token; the URL is the credential).

A coordinator of the participant's region makes the feed and passes its URL on; making a new
one revokes the old (the next generation derives another token), and revoking leaves none.
The token derives from ``REGISTRATION_LINK_KEY``, so the page can show the live URL again; only
its hash is stored.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Final

from sqlalchemy.engine import Connection

from trainops_registration.adapters import feeds, people, sessions, trainings
from trainops_registration.domain.calendar import registration_event
from trainops_registration.domain.errors import NotFound
from trainops_registration.domain.records import Person
from trainops_registration.domain.trainings import training_name
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.console.labels import label
from trainops_shared.ical import render_calendar
from trainops_shared.link_tokens import LinkTokens, hash_token, looks_like_token

FEED_PURPOSE: Final = "participant-feed"
PRODID: Final = "-//trainops//registration//EN"
READER: Final = Principal(subject="participant-feed", role="participant")
"""Whose view a feed is read in: the participant's own, every region of theirs."""


@lru_cache(maxsize=4)
def feed_tokens(secret: str) -> LinkTokens:
    return LinkTokens(secret, FEED_PURPOSE)


def _token(tokens: LinkTokens, participant_id: uuid.UUID, generation: int) -> str:
    return tokens.token(f"{participant_id}:{generation}")


@dataclass(frozen=True)
class FeedPage:
    person: Person
    token: str | None


def _person(conn: Connection, participant_id: uuid.UUID, principal: Principal) -> Person:
    found = people.get_person(conn, participant_id, principal)
    if found is None:
        raise NotFound("participant_id", f"participant {participant_id} not found")
    return found


def read_feed_page(
    conn: Connection, participant_id: uuid.UUID, principal: Principal, tokens: LinkTokens
) -> FeedPage:
    """The person (404 outside the reader's region) and their live feed's token, if any."""
    person = _person(conn, participant_id, principal)
    current = feeds.feed_of(conn, participant_id)
    live = current is not None and current[1]
    token = _token(tokens, participant_id, current[0]) if current is not None and live else None
    return FeedPage(person, token)


def renew_feed(
    conn: Connection,
    participant_id: uuid.UUID,
    principal: Principal,
    tokens: LinkTokens,
    now: datetime,
) -> FeedPage:
    """A new feed URL for the person; the previous one stops working."""
    person = _person(conn, participant_id, principal)
    current = feeds.feed_of(conn, participant_id)
    generation = (current[0] if current is not None else 0) + 1
    token = _token(tokens, participant_id, generation)
    feeds.store_feed(conn, participant_id, generation, hash_token(token), now)
    record_audit(
        conn, principal, "participant.feed_made", "participant", participant_id, {}, at=now
    )
    return FeedPage(person, token)


def revoke_feed(
    conn: Connection, participant_id: uuid.UUID, principal: Principal, now: datetime
) -> FeedPage:
    person = _person(conn, participant_id, principal)
    current = feeds.feed_of(conn, participant_id)
    if current is not None and current[1]:
        feeds.store_feed(conn, participant_id, current[0], None, now)
        record_audit(
            conn, principal, "participant.feed_revoked", "participant", participant_id, {}, at=now
        )
    return FeedPage(person, None)


def read_feed(conn: Connection, token: str, now: datetime) -> str:
    """The iCalendar text of a live feed: the person's registrations not cancelled, in the
    language of each; 404 for an unknown or revoked token."""
    participant_id = (
        feeds.participant_of(conn, hash_token(token)) if looks_like_token(token) else None
    )
    if participant_id is None:
        raise NotFound("token", "no calendar feed at this address")
    names = trainings.training_names(conn)
    events = []
    for registration in people.registrations_of(conn, participant_id, READER):
        session = sessions.get_session(conn, registration.session_id)
        if registration.status == "cancelled" or session is None:
            continue
        lang = registration.language
        title = training_name(names, session.training_id, lang)
        place = ", ".join(label("city", c, lang) for c in session.cities)
        events.append(registration_event(registration, session, title, place, now))
    return render_calendar(PRODID, events)
