"""Events published by the registration context (stream ``REGISTRATION``).

Only the pseudonymous ``participant_id`` and the report categories in ``ParticipantProfile``
travel; the person's name, phone and e-mail stay in the registration database.
"""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

import msgspec

from trainops_shared.events.base import Event, ParticipantProfile

RegistrationStatus = Literal["confirmed", "waitlisted"]
CancellationCause = Literal["participant", "session_cancelled"]


class ParticipantRegistered(
    Event, frozen=True, kw_only=True, tag="registration.participant_registered.v1"
):
    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    status: RegistrationStatus
    profile: ParticipantProfile
    waitlist_position: int | None = None


class RegistrationCancelled(
    Event, frozen=True, kw_only=True, tag="registration.registration_cancelled.v1"
):
    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    previous_status: RegistrationStatus
    cause: CancellationCause = "participant"


class WaitlistPromoted(Event, frozen=True, kw_only=True, tag="registration.waitlist_promoted.v1"):
    """A waitlisted registration got a seat (a cancellation or a capacity increase freed one)."""

    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID


class AttendanceRecorded(
    Event, frozen=True, kw_only=True, tag="registration.attendance_recorded.v1"
):
    """Attendance of a confirmed registration; recorded again, the latest version wins."""

    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    attended: bool
    language: str = "ru"


class ParticipantsMerged(
    Event, frozen=True, kw_only=True, tag="registration.participants_merged.v1"
):
    """An admin found two participants to be one person and folded ``merged_participant_id``
    into ``kept_participant_id``: every registration of the merged one now belongs to the kept
    one, and the merged id is never used again. ``profile`` is the kept participant's report
    categories, which the person's registrations now carry. Pseudonymous ids and categories
    only: the names, contacts and the merge's reason stay in registration's audit record."""

    merge_id: uuid.UUID
    kept_participant_id: uuid.UUID
    merged_participant_id: uuid.UUID
    profile: ParticipantProfile


class FeedbackLinkIssued(
    Event, frozen=True, kw_only=True, tag="registration.feedback_link_issued.v1"
):
    """Registration mailed (or is about to mail) a participant their own feedback link.

    The link's token is a credential and never travels: registration draws it at random, keeps
    it in its own database for the invitation and its reminders, and publishes only its SHA-256
    (hex) so that the feedback service can recognise the link when it is opened. The aggregate
    is the link itself (``aggregate_id`` = ``link_id``), not the registration, so issuing one
    never moves the registration's version.
    """

    link_id: uuid.UUID
    registration_id: uuid.UUID
    session_id: uuid.UUID
    participant_id: uuid.UUID
    token_hash: Annotated[str, msgspec.Meta(pattern="^[0-9a-f]{64}$")]
