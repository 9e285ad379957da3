"""Stable identities of published surveys.

A survey's id and the event id of its ``SurveyPublished`` are derived (UUIDv5) from the survey
code, not drawn at random: every replica and every restart computes the same ids, so publishing
"again" is recognised as the same publication by the ``fb_surveys`` row, the outbox's unique
``event_id`` and JetStream's ``Nats-Msg-Id`` duplicate window.
"""

from __future__ import annotations

import uuid
from typing import Final

from trainops_feedback.domain.survey import POST_TRAINING_V1, SurveyDefinition

SURVEY_NAMESPACE: Final = uuid.UUID("6f1c2f0e-5a0b-5d7e-9b1a-3c2d4e5f6a7b")
"""Namespace of trainops survey ids (fixed forever: changing it would re-publish every survey)."""

DEFAULT_SURVEY: Final[SurveyDefinition] = POST_TRAINING_V1


def survey_id_for(code: str) -> uuid.UUID:
    """The survey id of ``code`` (``post_training_v1`` → always the same UUID)."""
    return uuid.uuid5(SURVEY_NAMESPACE, f"trainops.feedback.survey:{code}")


def published_event_id(survey_id: uuid.UUID) -> uuid.UUID:
    """The ``event_id`` of the one ``SurveyPublished`` of ``survey_id``."""
    return uuid.uuid5(survey_id, "survey_published.v1")


DEFAULT_SURVEY_ID: Final = survey_id_for(DEFAULT_SURVEY.code)
