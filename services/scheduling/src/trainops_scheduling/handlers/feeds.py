"""Calendar feeds: a secret, revocable URL per city or trainer that calendar apps subscribe to.

Calendar apps cannot send a bearer token, so the URL itself is the credential: a random
256-bit token, shown once when the feed is made (like a personal API token) and stored only as
its SHA-256. Revoking a feed makes its URL answer 404 for good; a new feed gets a new URL.
Sessions carry no personal data, so any signed-in role may make a feed; each person lists and
revokes their own (an admin: everyone's).
"""

from __future__ import annotations

import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.engine import Connection

from trainops_scheduling.adapters import feeds, sessions, trainers, trainings
from trainops_scheduling.domain import CityCatalogue, Session
from trainops_scheduling.domain.records import FeedKind, FeedRecord, SessionFilter
from trainops_shared.audit import record_audit
from trainops_shared.auth import Principal
from trainops_shared.errors import Invalid, NotFound
from trainops_shared.events import uuid7
from trainops_shared.link_tokens import hash_token, looks_like_token

FEED_PAST: Final = timedelta(days=90)
"""How far back a feed reaches: recent sessions stay visible, old years do not bloat it."""
FEED_LIMIT: Final = 1000


def _owned(conn: Connection, actor: Principal, feed_id: uuid.UUID) -> FeedRecord:
    found = feeds.get_feed(conn, feed_id)
    if found is None or (actor.role != "admin" and found.created_by != actor.subject):
        raise NotFound(f"no calendar feed {feed_id}", field="feed_id")
    return found


def create_feed(
    conn: Connection,
    *,
    actor: Principal,
    catalogue: CityCatalogue,
    kind: FeedKind,
    subject: str,
    now: datetime,
) -> tuple[FeedRecord, str]:
    """A new feed and its token (the only time the token is seen)."""
    if kind == "city":
        catalogue.validate(subject, field="subject")
    else:
        try:
            trainer_id = uuid.UUID(subject)
        except ValueError:
            raise Invalid("a trainer feed needs the trainer's id", field="subject") from None
        if trainers.get_trainer(conn, trainer_id) is None:
            raise Invalid(f"unknown trainer {subject}", field="subject")
        subject = str(trainer_id)
    token = secrets.token_urlsafe(32)
    feed = FeedRecord(uuid7(), kind, subject, actor.subject, now)
    feeds.insert_feed(conn, feed, hash_token(token))
    record_audit(conn, actor, "calendar_feed.created", "calendar_feed", feed.id, {"kind": kind})
    return feed, token


def list_feeds(conn: Connection, *, actor: Principal) -> list[FeedRecord]:
    return feeds.feeds_of(conn, None if actor.role == "admin" else actor.subject)


def revoke_feed(
    conn: Connection, *, actor: Principal, feed_id: uuid.UUID, now: datetime
) -> FeedRecord:
    found = _owned(conn, actor, feed_id)
    if found.revoked_at is None:
        feeds.revoke(conn, feed_id, now)
        record_audit(conn, actor, "calendar_feed.revoked", "calendar_feed", feed_id, {})
    revoked = feeds.get_feed(conn, feed_id)
    assert revoked is not None  # read back in the transaction that revoked it
    return revoked


@dataclass(frozen=True)
class FeedContent:
    feed: FeedRecord
    events: list[tuple[Session, dict[str, str]]]
    name: str


def read_feed(
    conn: Connection, *, token: str, catalogue: CityCatalogue, now: datetime
) -> FeedContent:
    """The sessions of a live feed from :data:`FEED_PAST` ago on (cancelled ones too, so a
    subscribed calendar drops them); 404 for an unknown or revoked token."""
    found = feeds.feed_by_hash(conn, hash_token(token)) if looks_like_token(token) else None
    if found is None or found.revoked_at is not None:
        raise NotFound("no calendar feed at this address", field="token")
    since = now - FEED_PAST
    if found.kind == "city":
        flt = SessionFilter(city=found.subject, starts_from=since, limit=FEED_LIMIT)
        listed = sessions.find_sessions(conn, flt)
        name = (
            catalogue.display_name(found.subject) if found.subject in catalogue else found.subject
        )
    else:
        trainer_id = uuid.UUID(found.subject)
        listed = feeds.trainer_sessions(conn, trainer_id, since, FEED_LIMIT)
        trainer = trainers.get_trainer(conn, trainer_id)
        name = trainer.name if trainer is not None else found.subject
    titles = {t.id: t.title for t in trainings.list_trainings(conn)}
    return FeedContent(found, [(s, titles.get(s.training_id, {})) for s in listed], name)
