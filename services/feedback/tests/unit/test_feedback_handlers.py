"""Projection, invitation and submission handlers on an in-memory SQLite connection."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Connection

from trainops_feedback.adapters.tables import MIGRATIONS, invitations, responses, surveys
from trainops_feedback.api.pages import MalformedForm, parse_urlencoded
from trainops_feedback.domain.errors import (
    AlreadySubmitted,
    InvitationExpired,
    InvitationNotFound,
)
from trainops_feedback.domain.survey import POST_TRAINING_V1, validate_answers
from trainops_feedback.domain.tokens import InvitationTokens, looks_like_token
from trainops_feedback.handlers import commands
from trainops_feedback.handlers.events import FeedbackProjection
from trainops_feedback.handlers.surveys import DEFAULT_SURVEY_ID, published_event_id
from trainops_shared.auth import Principal
from trainops_shared.errors import NotFound
from trainops_shared.events import (
    AttendanceRecorded,
    FeedbackSubmitted,
    ParticipantProfile,
    ParticipantRegistered,
    RegistrationCancelled,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainingDefined,
    decode_event,
    encode_event,
)
from trainops_shared.inbox import RetryLater
from trainops_shared.storage import apply_migrations
from trainops_shared.tables import PLUMBING_MIGRATIONS, outbox
from trainops_shared.timeutil import as_utc

pytestmark = pytest.mark.unit

SECRET = "unit-test-secret-of-some-length-0123456789"
NOW = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
ANSWERS = {"overall": 5, "relevance": 4, "trainer": 5, "knowledge_gain": 4}


@pytest.fixture
def conn() -> Iterator[Connection]:
    engine = sa.create_engine("sqlite://")
    with engine.connect() as connection:
        apply_migrations(connection, [PLUMBING_MIGRATIONS, MIGRATIONS])
        yield connection
    engine.dispose()


@pytest.fixture
def tokens() -> InvitationTokens:
    return InvitationTokens(SECRET)


@pytest.fixture
def projection(tokens: InvitationTokens) -> FeedbackProjection:
    return FeedbackProjection(tokens=tokens, clock=lambda: NOW)


class World:
    """Events with per-aggregate versions, applied through the projection's handler table."""

    def __init__(self, conn: Connection, projection: FeedbackProjection) -> None:
        self.conn = conn
        self.handlers = projection.handlers()
        self.versions: dict[uuid.UUID, int] = {}
        self.training_id = uuid.uuid4()
        self.session_id = uuid.uuid4()

    def version(self, aggregate: uuid.UUID) -> int:
        self.versions[aggregate] = self.versions.get(aggregate, 0) + 1
        return self.versions[aggregate]

    def apply(self, event: Any) -> None:
        self.handlers[type(event)](self.conn, event)

    def training(self) -> TrainingDefined:
        return TrainingDefined(
            aggregate_id=self.training_id,
            aggregate_version=self.version(self.training_id),
            training_id=self.training_id,
            code="ethics",
            title={"en": "Ethics", "kk": "Әдеп"},
        )

    def scheduled(self, ends_at: datetime) -> SessionScheduled:
        return SessionScheduled(
            aggregate_id=self.session_id,
            aggregate_version=self.version(self.session_id),
            session_id=self.session_id,
            training_id=self.training_id,
            mode="online",
            cities=["almaty", "aktobe"],
            timezone="Asia/Almaty",
            starts_at=ends_at - timedelta(hours=8),
            ends_at=ends_at,
            capacity=20,
            language="ru",
        )

    def completed(self) -> SessionCompleted:
        return SessionCompleted(
            aggregate_id=self.session_id,
            aggregate_version=self.version(self.session_id),
            session_id=self.session_id,
        )

    def registered(self, city: str = "almaty", language: str = "kk") -> ParticipantRegistered:
        rid = uuid.uuid4()
        return ParticipantRegistered(
            aggregate_id=rid,
            aggregate_version=self.version(rid),
            registration_id=rid,
            session_id=self.session_id,
            participant_id=uuid.uuid4(),
            status="confirmed",
            profile=ParticipantProfile(
                city=city, sector="media", sex="female", age_band="25-34", language=language
            ),
        )

    def attended(self, reg: ParticipantRegistered, attended: bool = True) -> AttendanceRecorded:
        return AttendanceRecorded(
            aggregate_id=reg.registration_id,
            aggregate_version=self.version(reg.registration_id),
            registration_id=reg.registration_id,
            session_id=reg.session_id,
            participant_id=reg.participant_id,
            attended=attended,
        )

    def cancelled(self, reg: ParticipantRegistered) -> RegistrationCancelled:
        return RegistrationCancelled(
            aggregate_id=reg.registration_id,
            aggregate_version=self.version(reg.registration_id),
            registration_id=reg.registration_id,
            session_id=reg.session_id,
            participant_id=reg.participant_id,
            previous_status="confirmed",
        )

    def invitations(self) -> dict[uuid.UUID, Any]:
        rows = self.conn.execute(sa.select(invitations)).all()
        return {row.registration_id: row for row in rows}

    def live(self) -> set[uuid.UUID]:
        return {rid for rid, row in self.invitations().items() if row.revoked_at is None}


@pytest.fixture
def world(conn: Connection, projection: FeedbackProjection) -> World:
    return World(conn, projection)


def test_token_is_an_hmac_of_the_invitation_id_and_only_its_hash_is_stored(
    tokens: InvitationTokens,
) -> None:
    invitation_id = uuid.uuid4()
    token = tokens.token(invitation_id)
    assert token == tokens.token(str(invitation_id))
    assert looks_like_token(token) and len(token) == 43
    assert token != tokens.token(uuid.uuid4())
    assert token != InvitationTokens(SECRET + "x").token(invitation_id)
    assert tokens.token_hash(invitation_id) == hashlib.sha256(token.encode()).hexdigest()
    assert SECRET not in repr(tokens)
    with pytest.raises(ValueError):
        InvitationTokens("")


def test_registration_before_its_session_is_retried(world: World) -> None:
    reg = world.registered()
    with pytest.raises(RetryLater):
        world.apply(reg)
    with pytest.raises(RetryLater):
        world.apply(world.attended(reg))
    with pytest.raises(RetryLater):
        world.apply(world.completed())


def test_one_invitation_per_attendee_following_attendance(world: World) -> None:
    ends_at = datetime(2020, 12, 22, 12, tzinfo=UTC)
    world.apply(world.training())
    world.apply(world.scheduled(ends_at))
    present, absent, late, cancelled = (world.registered() for _ in range(4))
    for reg in (present, absent, late, cancelled):
        world.apply(reg)
    world.apply(world.attended(present))
    world.apply(world.attended(absent, attended=False))
    world.apply(world.attended(cancelled))
    world.apply(world.cancelled(cancelled))
    assert world.invitations() == {}  # not completed yet

    completed = world.completed()
    world.apply(completed)
    assert world.live() == {present.registration_id}
    first = world.invitations()[present.registration_id]
    # The wall clock gates nothing: a 2020 session gets a link valid 60 days from now.
    assert as_utc(first.expires_at) == NOW + timedelta(days=60)

    world.apply(world.attended(late))  # attendance recorded after completion
    assert world.live() == {present.registration_id, late.registration_id}

    flip = world.attended(present, attended=False)
    world.apply(flip)
    assert world.live() == {late.registration_id}
    # A stale (older) version changes nothing, a newer one reinstates the same invitation.
    stale = msgspec.structs.replace(world.attended(present), aggregate_version=1)
    world.apply(stale)
    assert world.live() == {late.registration_id}
    world.apply(world.attended(present))
    again = world.invitations()[present.registration_id]
    assert again.invitation_id == first.invitation_id
    assert again.revoked_at is None
    # The same completion again (a replay) creates nothing new.
    world.apply(completed)
    assert len(world.invitations()) == 2


def test_used_invitation_is_never_revoked(world: World, tokens: InvitationTokens) -> None:
    world.apply(world.scheduled(datetime(2020, 12, 22, 12, tzinfo=UTC)))
    reg = world.registered()
    world.apply(reg)
    world.apply(world.attended(reg))
    world.apply(world.completed())
    row = world.invitations()[reg.registration_id]
    token = tokens.token(row.invitation_id)
    submission = validate_answers(ANSWERS)
    command = commands.SubmitFeedback(token=token, submission=submission)
    commands.submit_feedback(world.conn, command, NOW)
    world.apply(world.attended(reg, attended=False))
    assert world.invitations()[reg.registration_id].revoked_at is None


def test_reschedule_moves_the_expiry_of_unused_links(world: World) -> None:
    world.apply(world.scheduled(NOW + timedelta(days=10)))
    reg = world.registered()
    world.apply(reg)
    world.apply(world.attended(reg))
    world.apply(world.completed())
    before = world.invitations()[reg.registration_id]
    assert as_utc(before.expires_at) == NOW + timedelta(days=70)
    new_end = NOW + timedelta(days=20)
    world.apply(
        SessionRescheduled(
            aggregate_id=world.session_id,
            aggregate_version=world.version(world.session_id),
            session_id=world.session_id,
            starts_at=new_end - timedelta(hours=8),
            ends_at=new_end,
        )
    )
    after = world.invitations()[reg.registration_id]
    assert as_utc(after.expires_at) == new_end + timedelta(days=60)


def _invited(world: World, tokens: InvitationTokens, **kwargs: Any) -> tuple[Any, str]:
    world.apply(world.training())
    world.apply(world.scheduled(datetime(2020, 12, 22, 12, tzinfo=UTC)))
    reg = world.registered(**kwargs)
    world.apply(reg)
    world.apply(world.attended(reg))
    world.apply(world.completed())
    row = world.invitations()[reg.registration_id]
    return reg, tokens.token(row.invitation_id)


def test_submit_once_then_conflict(world: World, tokens: InvitationTokens) -> None:
    reg, token = _invited(world, tokens)
    submission = validate_answers(ANSWERS, "Жақсы")
    done = commands.submit_feedback(
        world.conn, commands.SubmitFeedback(token=token, submission=submission), NOW
    )
    assert done.language == "kk"  # the registered language when none is given
    with pytest.raises(AlreadySubmitted):
        commands.submit_feedback(
            world.conn, commands.SubmitFeedback(token=token, submission=submission), NOW
        )
    stored = world.conn.execute(sa.select(responses)).one()
    assert stored.comment == "Жақсы"
    assert stored.participant_id == reg.participant_id
    payloads = world.conn.execute(
        sa.select(outbox.c.payload).where(outbox.c.subject == "feedback.feedback_submitted.v1")
    ).scalars()
    events = [decode_event(bytes(p)) for p in payloads]
    assert len(events) == 1
    event = events[0]
    assert isinstance(event, FeedbackSubmitted)
    assert event.response_id == done.response_id
    assert event.has_comment is True
    assert event.answers == ANSWERS
    assert event.invitation_id is not None
    assert event.invitation_id == stored.invitation_id  # reporting counts one per invitation
    assert "comment" not in msgspec.json.decode(encode_event(event))


def test_unknown_expired_and_revoked_tokens_are_not_found(
    world: World, tokens: InvitationTokens
) -> None:
    reg, token = _invited(world, tokens)
    submission = validate_answers(ANSWERS)
    with pytest.raises(InvitationNotFound):
        commands.submit_feedback(
            world.conn, commands.SubmitFeedback(token="x" * 43, submission=submission), NOW
        )
    with pytest.raises(InvitationNotFound):
        commands.submit_feedback(
            world.conn, commands.SubmitFeedback(token="../etc", submission=submission), NOW
        )
    with pytest.raises(InvitationExpired):
        commands.submit_feedback(
            world.conn,
            commands.SubmitFeedback(token=token, submission=submission),
            NOW + timedelta(days=61),
        )
    world.apply(world.attended(reg, attended=False))
    with pytest.raises(InvitationNotFound):
        commands.submit_feedback(
            world.conn, commands.SubmitFeedback(token=token, submission=submission), NOW
        )
    assert world.conn.execute(sa.select(sa.func.count()).select_from(responses)).scalar() == 0


def test_listing_is_region_scoped(world: World, tokens: InvitationTokens) -> None:
    world.apply(world.scheduled(datetime(2020, 12, 22, 12, tzinfo=UTC)))
    regs = [world.registered(city=c) for c in ("almaty", "aktobe", "almaty")]
    for reg in regs:
        world.apply(reg)
        world.apply(world.attended(reg))
    world.apply(world.completed())

    def listed(principal: Principal) -> set[uuid.UUID]:
        links = commands.list_invitations(
            world.conn, world.session_id, principal, tokens, "https://x.kz/"
        )
        assert all(link.url.startswith("https://x.kz/f/") for link in links)
        return {link.registration_id for link in links}

    assert len(listed(Principal("a", "admin"))) == 3
    assert listed(Principal("c", "coordinator", "aktobe")) == {regs[1].registration_id}
    with pytest.raises(NotFound):
        commands.list_invitations(
            world.conn, uuid.uuid4(), Principal("a", "admin"), tokens, "https://x.kz"
        )


def test_survey_is_published_once(conn: Connection) -> None:
    assert commands.publish_survey(conn, POST_TRAINING_V1, NOW) is True
    assert commands.publish_survey(conn, POST_TRAINING_V1, NOW) is False
    assert conn.execute(sa.select(surveys.c.survey_id)).scalars().all() == [DEFAULT_SURVEY_ID]
    ids = conn.execute(sa.select(outbox.c.event_id)).scalars().all()
    assert ids == [str(published_event_id(DEFAULT_SURVEY_ID))]


def test_urlencoded_form_parsing() -> None:
    assert parse_urlencoded(b"overall=5&overall=1&comment=a+b%21&lang=kk") == {
        "overall": "5",
        "comment": "a b!",
        "lang": "kk",
    }
    assert parse_urlencoded(b"comment=%D2%9A%D0%B0%D0%B9") == {"comment": "Қай"}
    with pytest.raises(MalformedForm) as too_big:
        parse_urlencoded(b"comment=" + b"x" * 20_000)
    assert too_big.value.status == 413
    for junk in (b"comment=\xff\xfe", b"comment=%FF%FE"):
        with pytest.raises(MalformedForm) as not_utf8:
            parse_urlencoded(junk)
        assert not_utf8.value.status == 400
    with pytest.raises(MalformedForm):
        parse_urlencoded("&".join(f"f{i}=1" for i in range(100)).encode())
