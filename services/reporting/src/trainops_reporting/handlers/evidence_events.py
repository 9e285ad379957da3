"""Projection of what makes every answer reportable: item answers, test scores, comments.

Same rules as the rest of the projection: no wall clock, and a re-publish or a redelivery
changes nothing (the earliest test per person, session and phase counts; a comment is kept
once by its id), so a replay of the streams yields the same rows.
"""

from __future__ import annotations

from sqlalchemy.engine import Connection

from trainops_reporting.adapters import evidence, state
from trainops_shared.events import CommentGiven, KnowledgeTestSubmitted
from trainops_shared.timeutil import as_utc


def on_knowledge_test_submitted(conn: Connection, event: KnowledgeTestSubmitted) -> None:
    state.bump_generation(conn)
    if event.phase not in ("pre", "post") or not 0 <= event.score <= event.max_score:
        return  # not a result any test version can produce: counted nowhere
    submitted_at = as_utc(event.occurred_at)
    counted = evidence.counted_test(conn, event.participant_id, event.session_id, event.phase)
    if counted is not None and (as_utc(counted.submitted_at), str(counted.response_id)) <= (
        submitted_at,
        str(event.response_id),
    ):
        return
    evidence.replace_test(
        conn,
        counted.response_id if counted is not None else None,
        {
            "response_id": event.response_id,
            "participant_id": event.participant_id,
            "session_id": event.session_id,
            "survey_id": event.survey_id,
            "phase": event.phase,
            "score": event.score,
            "max_score": event.max_score,
            "submitted_at": submitted_at,
        },
    )


def on_comment_given(conn: Connection, event: CommentGiven) -> None:
    state.bump_generation(conn)
    evidence.add_comment(
        conn,
        {
            "comment_id": event.comment_id,
            "session_id": event.session_id,
            "survey_id": event.survey_id,
            "item": event.item,
            "text": event.text,
            "language": event.language,
        },
    )
