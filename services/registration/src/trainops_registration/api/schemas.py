"""Request bodies of the registration API (msgspec Structs decoded by Litestar).

Participant fields are decoded loosely (:class:`ParticipantInput` holds plain strings) so that
the domain's validation reports a bad sector or phone as a 422 naming ``participant.sector``
with the valid values, instead of a generic decoding error.
"""

from __future__ import annotations

import uuid

import msgspec

from trainops_registration.domain import ParticipantInput


class RegistrationRequest(msgspec.Struct, kw_only=True, frozen=True, omit_defaults=True):
    """POST /registrations: one participant for one session.

    ``consents`` names the purposes the person agreed to (``taking_part`` must be among them);
    left out, the person agreed to taking part only. Left out, it is also left out of the
    request's fingerprint, so an idempotent retry of an older body still matches.
    """

    session_id: uuid.UUID
    participant: ParticipantInput
    consents: list[str] | None = None


class AttendanceRequest(msgspec.Struct, kw_only=True, frozen=True):
    """POST /registrations/{id}/attendance."""

    attended: bool


class DuplicateFlagRequest(msgspec.Struct, kw_only=True, frozen=True):
    """POST /participants/{id}/duplicate-flags: why this may be someone registered before."""

    note: str
    possible_duplicate_of: uuid.UUID | None = None


class MergeRequest(msgspec.Struct, kw_only=True, frozen=True):
    """POST /participants/merges: fold ``merge`` into ``keep`` (admin only)."""

    keep: uuid.UUID
    merge: uuid.UUID
    reason: str


class MoveRequest(msgspec.Struct, kw_only=True, frozen=True, forbid_unknown_fields=True):
    """POST /sessions/{id}/move: these registrations of a cancelled or full session to another."""

    to_session_id: uuid.UUID
    registration_ids: list[uuid.UUID]
