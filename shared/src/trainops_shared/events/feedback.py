"""Events published by the feedback context (stream ``FEEDBACK``).

Free-text comments stay in the feedback service (they may name people); events say only
whether a comment was given.
"""

from __future__ import annotations

import uuid

import msgspec

from trainops_shared.events.base import Event


class SurveyPublished(Event, frozen=True, kw_only=True, tag="feedback.survey_published.v1"):
    """A survey definition became available; ``items`` are the Likert item keys (1..5)."""

    survey_id: uuid.UUID
    code: str
    items: list[str]
    session_id: uuid.UUID | None = None
    version: int = 1
    """The published version of the survey (1 for producers older than the field); a
    published version never changes, a new one is a new ``SurveyPublished``."""
    purpose: str = "feedback"
    """``feedback`` or ``knowledge_test`` (a test taken before and after a session)."""
    training_id: uuid.UUID | None = None
    """The training a knowledge test belongs to; ``None`` for a survey of every training."""
    item_kinds: dict[str, str] = msgspec.field(default_factory=dict)
    """Every item's kind (``likert``, ``single``, ``multiple``, ``text``); empty from older
    producers, whose ``items`` are all Likert."""
    options: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """The option keys of each choice item, in display order (for distributions). Which
    options are correct never leaves the feedback service."""


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
    survey_version: int = 1
    """The survey version answered (1 for producers older than the field)."""
    choices: dict[str, list[str]] = msgspec.field(default_factory=dict)
    """Chosen option keys of the version's choice items; ``answers`` keeps the Likert ones."""


class KnowledgeTestSubmitted(
    Event, frozen=True, kw_only=True, tag="feedback.knowledge_test_submitted.v1"
):
    """A knowledge test taken before (``pre``) or after (``post``) a session, scored by the
    feedback service from the correct options of ``survey_version``. Only the pseudonymous
    participant id ties a pre-test to its post-test; reports publish aggregates only."""

    response_id: uuid.UUID
    survey_id: uuid.UUID
    survey_version: int
    session_id: uuid.UUID
    registration_id: uuid.UUID
    participant_id: uuid.UUID
    invitation_id: uuid.UUID
    phase: str
    score: int
    max_score: int
    language: str


class CommentGiven(Event, frozen=True, kw_only=True, tag="feedback.comment_given.v1"):
    """A free-text answer, detached from whoever gave it: no participant, registration,
    response or invitation id travels with it, so reporting can show comments of a group
    (of at least k respondents) without ever attributing one."""

    comment_id: uuid.UUID
    survey_id: uuid.UUID
    survey_version: int = 1
    session_id: uuid.UUID
    item: str
    text: str
    language: str
