"""The link registration mails: only its hash arrives (``FeedbackLinkIssued``), and it opens the
same single-use invitation as the link derived here, whichever event arrives first."""

from __future__ import annotations

import hashlib
import secrets
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from test_feedback_handlers import ANSWERS, NOW, SECRET, World, _invited

from trainops_feedback.adapters.tables import MIGRATIONS, mailed_links, responses
from trainops_feedback.domain.errors import AlreadySubmitted, InvitationNotFound
from trainops_feedback.domain.survey import validate_answers
from trainops_feedback.domain.tokens import InvitationTokens
from trainops_feedback.handlers import commands
from trainops_feedback.handlers.events import FeedbackProjection
from trainops_shared.events import FeedbackLinkIssued
from trainops_shared.storage import apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS

pytestmark = pytest.mark.unit


@pytest.fixture
def tokens() -> InvitationTokens:
    return InvitationTokens(SECRET)


@pytest.fixture
def world(tokens: InvitationTokens) -> Iterator[World]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as conn:
        apply_migrations(conn, [PLUMBING_MIGRATIONS, MIGRATIONS])
        yield World(conn, FeedbackProjection(tokens=tokens, clock=lambda: NOW))
    engine.dispose()


def issued(registration_id: uuid.UUID, session_id: uuid.UUID) -> tuple[FeedbackLinkIssued, str]:
    token = secrets.token_urlsafe(32)
    link_id = uuid.uuid4()
    event = FeedbackLinkIssued(
        aggregate_id=link_id,
        aggregate_version=1,
        link_id=link_id,
        registration_id=registration_id,
        session_id=session_id,
        participant_id=uuid.uuid4(),
        token_hash=hashlib.sha256(token.encode()).hexdigest(),
    )
    return event, token


def submit(world: World, token: str) -> commands.Submitted:
    command = commands.SubmitFeedback(token=token, submission=validate_answers(ANSWERS))
    return commands.submit_feedback(world.conn, command, NOW)


def test_a_mailed_link_opens_the_invitation_once_with_the_derived_link(
    world: World, tokens: InvitationTokens
) -> None:
    reg, derived = _invited(world, tokens)
    event, mailed = issued(reg.registration_id, reg.session_id)
    world.apply(event)
    world.apply(event)  # redelivered: one row
    assert world.conn.execute(sa.select(sa.func.count()).select_from(mailed_links)).scalar() == 1
    stored = world.conn.execute(sa.select(mailed_links.c.token_hash)).scalar_one()
    assert stored == event.token_hash and mailed not in stored
    view = commands.find_invitation(world.conn, mailed)
    assert view is not None and view.registration_id == reg.registration_id
    submit(world, mailed)
    with pytest.raises(AlreadySubmitted):
        submit(world, derived)  # one response per invitation, whichever link
    with pytest.raises(AlreadySubmitted):
        submit(world, mailed)
    assert world.conn.execute(sa.select(sa.func.count()).select_from(responses)).scalar() == 1


def test_a_link_issued_before_the_invitation_exists_waits_for_it(world: World) -> None:
    world.apply(world.training())
    reg = world.registered()
    event, mailed = issued(reg.registration_id, world.session_id)
    world.apply(event)  # before the session and the registration are known here: kept
    assert commands.find_invitation(world.conn, mailed) is None
    with pytest.raises(InvitationNotFound):
        submit(world, mailed)
    world.apply(world.scheduled(datetime(2020, 12, 22, 12, tzinfo=UTC)))
    world.apply(reg)
    world.apply(world.attended(reg))
    world.apply(world.completed())
    assert submit(world, mailed).language == "kk"


def test_another_registrations_mailed_link_never_opens_this_one(
    world: World, tokens: InvitationTokens
) -> None:
    reg, _ = _invited(world, tokens)
    other, mailed = issued(uuid.uuid4(), reg.session_id)
    world.apply(other)
    assert commands.find_invitation(world.conn, mailed) is None
    assert commands.find_invitation(world.conn, secrets.token_urlsafe(32)) is None
