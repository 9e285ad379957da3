"""Events published by the feedback context (stream ``FEEDBACK``).

Free-text comments stay in the feedback service (they may name people); events say only
whether a comment was given.
"""

from __future__ import annotations

import uuid

from trainops_shared.events.base import Event


class SurveyPublished(Event, frozen=True, kw_only=True, tag="feedback.survey_published.v1"):
    """A survey definition became available; ``items`` are the Likert item keys (1..5)."""

    survey_id: uuid.UUID
    code: str
    items: list[str]
    session_id: uuid.UUID | None = None


class FeedbackSubmitted(Event, frozen=True, kw_only=True, tag="feedback.feedback_submitted.v1"):
    response_id: uuid.UUID
    survey_id: uuid.UUID
    session_id: uuid.UUID
    registration_id: uuid.UUID
    participant_id: uuid.UUID
    answers: dict[str, int]
    language: str
    has_comment: bool = False
    invitation_id: uuid.UUID | None = None
    """The invitation the response used (one per registration); ``None`` from producers older
    than the field. Reporting counts at most one response per invitation."""
