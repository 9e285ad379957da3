"""Projection handlers: every event of the three streams folded into the reporting read model.

Each handler is ``handler(conn, event)``, run inside the consumer's transaction together with the
inbox row of the event, so a redelivered event id never reaches it twice. What the inbox cannot
catch, the handlers do (the rules are in ``domain.projection``, the statements in ``adapters``):

* order: an event about an aggregate not seen yet (attendance before its registration, a
  registration before its session) raises :class:`~trainops_shared.inbox.RetryLater` and comes
  back later;
* staleness: each independently changing attribute keeps the ``aggregate_version`` that last set
  it, and an event not newer than that changes nothing, so a late redelivery never rolls back;
* re-publishes under a new event id: creation events are ignored when the row already exists, and
  a feedback response counts once per invitation (per registration: the first one counted).

Nothing here reads the wall clock, so replaying the streams into an
empty database (in any order the retries produce) yields the same rows.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from sqlalchemy.engine import Connection

from trainops_reporting.handlers.evidence_events import (
    on_comment_given,
    on_knowledge_test_submitted,
)
from trainops_reporting.handlers.feedback_events import on_feedback_submitted, on_survey_published
from trainops_reporting.handlers.registration_events import (
    on_attendance_recorded,
    on_participant_registered,
    on_participants_merged,
    on_registration_cancelled,
    on_waitlist_promoted,
)
from trainops_reporting.handlers.scheduling_events import (
    on_session_cancelled,
    on_session_capacity_changed,
    on_session_completed,
    on_session_rescheduled,
    on_session_scheduled,
    on_trainer_registered,
    on_training_defined,
)
from trainops_shared.events import (
    AttendanceRecorded,
    CommentGiven,
    Event,
    FeedbackSubmitted,
    KnowledgeTestSubmitted,
    ParticipantRegistered,
    ParticipantsMerged,
    RegistrationCancelled,
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    SurveyPublished,
    TrainerRegistered,
    TrainingDefined,
    WaitlistPromoted,
)

EVENT_HANDLERS: Mapping[type[Event], Callable[[Connection, Any], None]] = {
    TrainingDefined: on_training_defined,
    TrainerRegistered: on_trainer_registered,
    SessionScheduled: on_session_scheduled,
    SessionRescheduled: on_session_rescheduled,
    SessionCapacityChanged: on_session_capacity_changed,
    SessionCancelled: on_session_cancelled,
    SessionCompleted: on_session_completed,
    ParticipantRegistered: on_participant_registered,
    RegistrationCancelled: on_registration_cancelled,
    WaitlistPromoted: on_waitlist_promoted,
    AttendanceRecorded: on_attendance_recorded,
    ParticipantsMerged: on_participants_merged,
    SurveyPublished: on_survey_published,
    FeedbackSubmitted: on_feedback_submitted,
    KnowledgeTestSubmitted: on_knowledge_test_submitted,
    CommentGiven: on_comment_given,
}
"""Every event type of the programme streams in catalogue v1 (identity's revocations are not
reporting's business): the read model is a projection of every stream."""
