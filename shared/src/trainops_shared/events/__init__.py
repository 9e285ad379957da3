"""The trainops event schema: one module per producing context, one catalogue of all events."""

from trainops_shared.events.base import Event, ParticipantProfile, utc_now, uuid7
from trainops_shared.events.catalogue import (
    EVENT_TYPES,
    EVENTS_BY_TYPE,
    AnyEvent,
    decode_event,
    encode_event,
)
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
    SeatQuota,
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainerRegistered,
    TrainingDefined,
)

__all__ = [
    "EVENTS_BY_TYPE",
    "EVENT_TYPES",
    "AnyEvent",
    "ApiTokenRevoked",
    "AttendanceRecorded",
    "CommentGiven",
    "Event",
    "FeedbackLinkIssued",
    "FeedbackSubmitted",
    "KnowledgeTestSubmitted",
    "ParticipantProfile",
    "ParticipantRegistered",
    "ParticipantsMerged",
    "RegistrationCancelled",
    "SeatQuota",
    "SessionCancelled",
    "SessionCapacityChanged",
    "SessionCompleted",
    "SessionRescheduled",
    "SessionRevoked",
    "SessionScheduled",
    "SurveyPublished",
    "TrainerRegistered",
    "TrainingDefined",
    "WaitlistPromoted",
    "decode_event",
    "encode_event",
    "utc_now",
    "uuid7",
]
