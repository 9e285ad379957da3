"""The v1 catalogue: every event type, and one decoder for all of them.

Consumers decode with :func:`decode_event`; an unknown tag or a payload that fails validation
raises :class:`msgspec.ValidationError` whose message names the offending path.
"""

from __future__ import annotations

from typing import TypeAlias

import msgspec

from trainops_shared.events.base import Event
from trainops_shared.events.feedback import (
    CommentGiven,
    FeedbackSubmitted,
    KnowledgeTestSubmitted,
    SurveyPublished,
)
from trainops_shared.events.identity import ApiTokenRevoked, SessionRevoked
from trainops_shared.events.registration import (
    AttendanceRecorded,
    FeedbackLinkIssued,
    ParticipantRegistered,
    ParticipantsMerged,
    RegistrationCancelled,
    WaitlistPromoted,
)
from trainops_shared.events.scheduling import (
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainerRegistered,
    TrainingDefined,
)

AnyEvent: TypeAlias = (
    TrainingDefined
    | TrainerRegistered
    | SessionScheduled
    | SessionRescheduled
    | SessionCapacityChanged
    | SessionCancelled
    | SessionCompleted
    | ParticipantRegistered
    | RegistrationCancelled
    | WaitlistPromoted
    | AttendanceRecorded
    | ParticipantsMerged
    | FeedbackLinkIssued
    | SurveyPublished
    | FeedbackSubmitted
    | KnowledgeTestSubmitted
    | CommentGiven
    | SessionRevoked
    | ApiTokenRevoked
)

EVENT_TYPES: tuple[type[Event], ...] = (
    TrainingDefined,
    TrainerRegistered,
    SessionScheduled,
    SessionRescheduled,
    SessionCapacityChanged,
    SessionCancelled,
    SessionCompleted,
    ParticipantRegistered,
    RegistrationCancelled,
    WaitlistPromoted,
    AttendanceRecorded,
    ParticipantsMerged,
    FeedbackLinkIssued,
    SurveyPublished,
    FeedbackSubmitted,
    KnowledgeTestSubmitted,
    CommentGiven,
    SessionRevoked,
    ApiTokenRevoked,
)
EVENTS_BY_TYPE: dict[str, type[Event]] = {t.type_name(): t for t in EVENT_TYPES}

_decoder = msgspec.json.Decoder(AnyEvent)
_encoder = msgspec.json.Encoder()


def decode_event(payload: bytes) -> AnyEvent:
    event: AnyEvent = _decoder.decode(payload)
    return event


def encode_event(event: Event) -> bytes:
    return _encoder.encode(event)
