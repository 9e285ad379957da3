"""Use cases: each a synchronous ``fn(conn, ...)`` run in one transaction by ``runtime.write``.

They load state, let the domain decide, save, and record the events of the change in the outbox
of the same transaction, so an answered submission always has its ``FeedbackSubmitted``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Connection

from trainops_feedback.adapters import invitations, knowledge, responses, surveys
from trainops_feedback.domain.errors import (
    AlreadySubmitted,
    InvitationExpired,
    InvitationNotFound,
)
from trainops_feedback.domain.invitation import InvitationKind, InvitationView, link_state
from trainops_feedback.domain.language import resolve_language
from trainops_feedback.domain.survey import Submission, SurveyDefinition, check_form_draft
from trainops_feedback.domain.tokens import (
    InvitationTokens,
    hash_token,
    is_expired,
    looks_like_token,
)
from trainops_feedback.handlers.knowledge import comment_events
from trainops_feedback.handlers.surveys import published_event_id, survey_id_for
from trainops_shared.auth import Principal
from trainops_shared.errors import NotFound
from trainops_shared.events import FeedbackSubmitted, SurveyPublished, uuid7
from trainops_shared.outbox import record_events

# --------------------------------------------------------------------------------------------
# Surveys


def publish_survey(conn: Connection, survey: SurveyDefinition, now: datetime) -> bool:
    """Record ``survey`` and its ``SurveyPublished`` once; ``False`` if it was published before.

    Ids are derived from the survey code (see :mod:`trainops_feedback.handlers.surveys`), so
    every restart and replica agrees on them and a race between replicas ends in one row.
    """
    survey_id = survey_id_for(survey.code)
    if surveys.survey_exists(conn, survey_id):
        return False
    items = list(survey.item_keys)
    surveys.insert_survey(conn, survey_id, survey.code, items, now)
    record_events(
        conn,
        [
            SurveyPublished(
                event_id=published_event_id(survey_id),
                occurred_at=now,
                aggregate_id=survey_id,
                aggregate_version=1,
                survey_id=survey_id,
                code=survey.code,
                items=items,
            )
        ],
    )
    return True


# --------------------------------------------------------------------------------------------
# Invitations


def find_invitation(conn: Connection, token: str) -> InvitationView | None:
    """The invitation of ``token`` whatever its state, or ``None`` (junk never hits the DB)."""
    if not looks_like_token(token):
        return None
    return invitations.find_invitation(conn, hash_token(token))


def usable_invitation(conn: Connection, token: str, now: datetime) -> InvitationView:
    """The invitation if a response can still be submitted with it; else the domain error.

    Unknown, revoked and expired links all read as "not found or expired" (404): the answer
    reveals nothing about which tokens ever existed. A used link is :class:`AlreadySubmitted`.
    """
    view = find_invitation(conn, token)
    if view is None or view.revoked_at is not None:
        raise InvitationNotFound()
    if view.used_at is not None:
        raise AlreadySubmitted()
    if is_expired(view.expires_at, now):
        raise InvitationExpired()
    return view


@dataclass(frozen=True, slots=True)
class OpenForm:
    """A link as its page shows it: the invitation (``None`` if unknown) and, while the link
    is open, the answers saved so far."""

    view: InvitationView | None
    draft: dict[str, object] = field(default_factory=dict)


def open_form(conn: Connection, token: str, now: datetime) -> OpenForm:
    view = find_invitation(conn, token)
    if view is None or link_state(view, now) != "open":
        return OpenForm(view)
    return OpenForm(view, knowledge.load_draft(conn, hash_token(token)))


def save_form_draft(
    conn: Connection, token: str, answers: Mapping[str, object], now: datetime
) -> dict[str, int | str]:
    """Keep what was answered so far; a used link is 409, an unknown or expired one 404, as
    for a submission, so a draft never outlives the link it belongs to."""
    usable_invitation(conn, token, now)
    kept = check_form_draft(answers)
    knowledge.save_draft(conn, hash_token(token), dict(kept), now)
    return kept


@dataclass(frozen=True, slots=True)
class InvitationLink:
    registration_id: uuid.UUID
    participant_id: uuid.UUID
    url: str
    language: str
    expires_at: datetime
    submitted: bool
    kind: InvitationKind = "feedback"


def list_invitations(
    conn: Connection,
    session_id: uuid.UUID,
    principal: Principal,
    tokens: InvitationTokens,
    public_url: str,
) -> list[InvitationLink]:
    """The live invitation links of a session, feedback and knowledge tests (``kind``); a
    coordinator sees only their region's people."""
    if not invitations.session_exists(conn, session_id):
        raise NotFound(f"session {session_id} not found", field="session_id")
    base = public_url.rstrip("/")
    tests = [
        InvitationLink(
            registration_id=row.registration_id,
            participant_id=row.participant_id,
            url=f"{base}/t/{tokens.token(row.invitation_id)}",
            language=row.language,
            expires_at=row.expires_at,
            submitted=row.used,
            kind="pre_test" if row.phase == "pre" else "post_test",
        )
        for row in knowledge.session_test_links(conn, session_id, principal)
    ]
    return tests + [
        InvitationLink(
            registration_id=row.registration_id,
            participant_id=row.participant_id,
            url=f"{base}/f/{tokens.token(row.invitation_id)}",
            language=row.language,
            expires_at=row.expires_at,
            submitted=row.used_at is not None,
        )
        for row in invitations.list_session_invitations(conn, session_id, principal)
    ]


# --------------------------------------------------------------------------------------------
# Responses


@dataclass(frozen=True, slots=True)
class SubmitFeedback:
    token: str
    submission: Submission
    language: str | None = None
    """The language the participant answered in (page or request); ``None`` → registered one."""


@dataclass(frozen=True, slots=True)
class Submitted:
    response_id: uuid.UUID
    language: str
    training_title: dict[str, str]
    participant_language: str


def submit_feedback(conn: Connection, command: SubmitFeedback, now: datetime) -> Submitted:
    """Store one response per invitation and emit ``FeedbackSubmitted``.

    The invitation is claimed with an atomic ``UPDATE … WHERE used_at IS NULL``: of two
    concurrent submissions of one link exactly one updates a row; the other gets 409.

    The event has no ``actor`` and the change no audit entry: the participant is not an account
    (the link's token is the credential), and naming them would tie answers to a person.
    """
    view = usable_invitation(conn, command.token, now)
    if not invitations.claim_invitation(conn, hash_token(command.token), now):
        raise AlreadySubmitted()
    language = resolve_language(command.language, view.language)
    knowledge.drop_draft(conn, hash_token(command.token))
    response_id = uuid7()
    submission = command.submission
    responses.insert_response(
        conn,
        response_id=response_id,
        invitation_id=view.invitation_id,
        survey_id=view.survey_id,
        session_id=view.session_id,
        registration_id=view.registration_id,
        participant_id=view.participant_id,
        answers=dict(submission.answers),
        comment=submission.comment,
        language=language,
        submitted_at=now,
    )
    record_events(
        conn,
        [
            FeedbackSubmitted(
                occurred_at=now,
                aggregate_id=response_id,
                aggregate_version=1,
                response_id=response_id,
                survey_id=view.survey_id,
                session_id=view.session_id,
                registration_id=view.registration_id,
                participant_id=view.participant_id,
                answers=dict(submission.answers),
                language=language,
                has_comment=submission.has_comment,
                invitation_id=view.invitation_id,
            ),
            *comment_events(
                submission.comment,
                survey_id=view.survey_id,
                session_id=view.session_id,
                language=language,
            ),
        ],
    )
    return Submitted(
        response_id=response_id,
        language=language,
        training_title=view.training_title,
        participant_language=view.language,
    )
