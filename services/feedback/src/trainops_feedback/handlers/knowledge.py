"""Knowledge tests and drafts: issuing the links, the page's reads, saving and submitting.

A pre-test link is issued as soon as a registration holds a confirmed seat in a session of a
training that has a published test; a post-test link when the person attended the completed
session. Both are invitations of their own (``kind`` ``pre_test`` / ``post_test``) with tokens
derived from the same key as the feedback links, listed with them for whoever sends the
invitations. The score is computed here from the version the link was answered with; it leaves
only in ``KnowledgeTestSubmitted``, tied to the pseudonymous participant id, never in an answer
to a person.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy.engine import Connection

from trainops_feedback.adapters import definitions as store
from trainops_feedback.adapters import knowledge
from trainops_feedback.adapters.knowledge import TestLinkView
from trainops_feedback.domain.definitions import (
    Phase,
    VersionRow,
    check_answers,
    check_draft,
    score,
)
from trainops_feedback.domain.errors import AlreadySubmitted, InvitationNotFound
from trainops_feedback.domain.language import resolve_language
from trainops_feedback.domain.tokens import (
    InvitationTokens,
    hash_token,
    is_expired,
    looks_like_token,
)
from trainops_shared.events import CommentGiven, Event, KnowledgeTestSubmitted, uuid7
from trainops_shared.outbox import record_events
from trainops_shared.timeutil import as_utc

PRE_TEST_GRACE: Final = timedelta(hours=1)
"""A pre-test still opens during the first hour of the session (trainers often hand it out
at the start); after that its answers would no longer measure what was known before."""

PHASES: Final[tuple[Phase, ...]] = ("pre", "post")


def issue_tests(
    conn: Connection,
    tokens: InvitationTokens,
    now: datetime,
    post_expiry: Callable[[datetime, datetime], datetime],
    *,
    session_id: uuid.UUID | None = None,
    registration_id: uuid.UUID | None = None,
) -> int:
    """Create the missing pre- and post-test links in scope; how many were created."""
    if not knowledge.lock_test_definitions(conn, session_id, registration_id):
        # No knowledge test for the training(s) in scope: nobody can be due a link. Most
        # trainings have none, and this runs for every registration the service copies.
        return 0
    rows = []
    for phase in PHASES:
        for due in knowledge.missing_test_invitations(conn, phase, session_id, registration_id):
            invitation_id = uuid7()
            if phase == "pre":
                expires_at = as_utc(due.starts_at) + PRE_TEST_GRACE
            else:
                expires_at = post_expiry(due.ends_at, now)
            rows.append(
                {
                    "invitation_id": invitation_id,
                    "registration_id": due.registration_id,
                    "phase": phase,
                    "session_id": due.session_id,
                    "survey_id": due.survey_id,
                    "token_hash": tokens.token_hash(invitation_id),
                    "created_at": now,
                    "expires_at": expires_at,
                    "used_at": None,
                }
            )
    knowledge.insert_test_invitations(conn, rows)
    return len(rows)


# --------------------------------------------------------------------------------------------
# The participant's link


@dataclass(frozen=True, slots=True)
class OpenTest:
    link: TestLinkView
    version: VersionRow
    draft: dict[str, object]


def _link(conn: Connection, token: str) -> TestLinkView | None:
    if not looks_like_token(token):
        return None
    return knowledge.find_test_invitation(conn, hash_token(token))


def open_test(conn: Connection, token: str, now: datetime) -> OpenTest:
    """The test behind a link with the version to answer and the saved draft; unknown,
    expired and cancelled links are one "not found" (404), a used one 409."""
    link = _link(conn, token)
    if link is None or link.cancelled or is_expired(link.expires_at, now):
        raise InvitationNotFound()
    if link.used_at is not None:
        raise AlreadySubmitted(message="this test was already submitted")
    version = store.latest_published(conn, link.survey_id)
    if version is None:
        raise InvitationNotFound()
    return OpenTest(link, version, knowledge.load_draft(conn, hash_token(token)))


def save_test_draft(
    conn: Connection, token: str, answers: Mapping[str, object], now: datetime
) -> dict[str, object]:
    """Keep what was answered so far (well-formed answers of known items only)."""
    current = open_test(conn, token, now)
    kept = check_draft(current.version.definition, answers)
    knowledge.save_draft(conn, hash_token(token), kept, now)
    return kept


@dataclass(frozen=True, slots=True)
class TestSubmitted:
    __test__ = False

    response_id: uuid.UUID
    language: str
    phase: Phase


def comment_events(
    texts: str | dict[str, str] | None,
    *,
    survey_id: uuid.UUID,
    session_id: uuid.UUID,
    language: str,
    survey_version: int = 1,
) -> list[Event]:
    """One ``CommentGiven`` per free-text answer (``comment`` for the feedback form's), with
    nothing that ties it to the response or the person."""
    if texts is None:
        return []
    by_item = {"comment": texts} if isinstance(texts, str) else texts
    return [
        CommentGiven(
            aggregate_id=(comment_id := uuid7()),
            comment_id=comment_id,
            survey_id=survey_id,
            survey_version=survey_version,
            session_id=session_id,
            item=item,
            text=text,
            language=language,
        )
        for item, text in sorted(by_item.items())
    ]


def submit_test(
    conn: Connection,
    token: str,
    answers: Mapping[str, object],
    language: str | None,
    now: datetime,
) -> TestSubmitted:
    """Check, score and store one response per link, with its events, in one transaction."""
    current = open_test(conn, token, now)
    link, version = current.link, current.version
    submission = check_answers(version.definition, answers)
    if not knowledge.claim_test_invitation(conn, hash_token(token), now):
        raise AlreadySubmitted(message="this test was already submitted")
    lang = resolve_language(language, link.language)
    points = score(version.definition, submission)
    response_id = uuid7()
    knowledge.insert_test_response(
        conn,
        {
            "response_id": response_id,
            "invitation_id": link.invitation_id,
            "survey_id": link.survey_id,
            "survey_version": version.version,
            "session_id": link.session_id,
            "participant_id": link.participant_id,
            "phase": link.phase,
            "answers": {**submission.likert, **submission.choices, **submission.texts},
            "score": points,
            "max_score": version.definition.max_score,
            "submitted_at": now,
        },
    )
    knowledge.drop_draft(conn, hash_token(token))
    scored = KnowledgeTestSubmitted(
        occurred_at=now,
        aggregate_id=response_id,
        response_id=response_id,
        survey_id=link.survey_id,
        survey_version=version.version,
        session_id=link.session_id,
        registration_id=link.registration_id,
        participant_id=link.participant_id,
        invitation_id=link.invitation_id,
        phase=link.phase,
        score=points,
        max_score=version.definition.max_score,
        language=lang,
    )
    comments = comment_events(
        submission.texts,
        survey_id=link.survey_id,
        session_id=link.session_id,
        language=lang,
        survey_version=version.version,
    )
    record_events(conn, [scored, *comments])
    return TestSubmitted(response_id=response_id, language=lang, phase=link.phase)
