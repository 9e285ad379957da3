"""Event handlers: local copies of sessions, trainings and registrations, and invitations.

Each handler is a synchronous ``fn(conn, event)`` run inside the consumer's transaction (the
inbox makes redeliveries no-ops). Two rules shape them:

* **Version guard.** Every projected row stores the ``aggregate_version`` it last applied; an
  event whose version is not newer changes nothing, so a late redelivery never rolls back.
* **Out-of-order streams.** Scheduling and registration are separate streams read by separate
  consumers: a registration may arrive before its session. An event that refers to a session or
  registration not known yet raises :class:`RetryLater` and is redelivered with backoff.

Invitations follow one reconcile rule, applied after every change that can affect it: a
registration that *attended* a *completed* session and is not cancelled has exactly one live
invitation; otherwise its unused invitation is revoked. The unique ``registration_id`` of the
invitations table makes a second invitation impossible; a revoked invitation that becomes
eligible again is reinstated (same link), never duplicated. A used invitation is never touched:
the response stands.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.engine import Connection

from trainops_feedback.adapters import copies, invitations
from trainops_feedback.domain.tokens import DEFAULT_TOKEN_TTL, InvitationTokens, expiry_for
from trainops_feedback.handlers.knowledge import issue_tests
from trainops_feedback.handlers.surveys import DEFAULT_SURVEY_ID
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    FeedbackLinkIssued,
    ParticipantRegistered,
    RegistrationCancelled,
    SessionCancelled,
    SessionCapacityChanged,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    TrainingDefined,
    WaitlistPromoted,
    uuid7,
)
from trainops_shared.inbox import EventHandler, RetryLater
from trainops_shared.timeutil import as_utc, utc_now
from trainops_shared.validation import instant_bounds


@dataclass(frozen=True, slots=True)
class FeedbackProjection:
    """The event handlers of the feedback service, bound to the token key and the link TTL."""

    tokens: InvitationTokens
    ttl: timedelta = DEFAULT_TOKEN_TTL
    clock: Callable[[], datetime] = field(default=utc_now)

    def handlers(self) -> Mapping[type[Event], EventHandler]:
        return {
            TrainingDefined: self.on_training_defined,
            SessionScheduled: self.on_session_scheduled,
            SessionRescheduled: self.on_session_rescheduled,
            SessionCapacityChanged: self.on_session_capacity_changed,
            SessionCancelled: self.on_session_cancelled,
            SessionCompleted: self.on_session_completed,
            ParticipantRegistered: self.on_participant_registered,
            RegistrationCancelled: self.on_registration_cancelled,
            WaitlistPromoted: self.on_waitlist_promoted,
            AttendanceRecorded: self.on_attendance_recorded,
            FeedbackLinkIssued: self.on_feedback_link_issued,
        }

    # ----------------------------------------------------------------------------------------
    # Expiry

    def expiry(self, session_ends_at: datetime, issued_at: datetime) -> datetime:
        """``ttl`` after the session ends, but never less than ``ttl`` after the link is issued.

        The wall clock gates nothing: a session of 2020 may be completed (and its attendance
        recorded) today, and its participants must still get a working link. A session dated
        past the programme window (scheduling refuses such dates now, but an event may predate
        that) counts as ending at the window's end: its expiry stays computable instead of
        overflowing and dead-lettering the event, and its participants still get their link.
        """
        base = max(as_utc(session_ends_at), as_utc(issued_at))
        return expiry_for(min(base, instant_bounds().high), self.ttl)

    # ----------------------------------------------------------------------------------------
    # Scheduling

    def on_training_defined(self, conn: Connection, event: TrainingDefined) -> None:
        copies.save_training(
            conn, event.training_id, event.code, dict(event.title), event.aggregate_version
        )

    def on_session_scheduled(self, conn: Connection, event: SessionScheduled) -> None:
        values: dict[str, Any] = {
            "training_id": event.training_id,
            "cities": list(event.cities),
            "language": event.language,
            "timezone": event.timezone,
            "starts_at": as_utc(event.starts_at),
            "ends_at": as_utc(event.ends_at),
            "version": event.aggregate_version,
        }
        copies.save_session(conn, event.session_id, values)

    def _known_session(self, conn: Connection, session_id: uuid.UUID) -> copies.SessionRow:
        """The session; raises :class:`RetryLater` while it is not known yet."""
        session = copies.get_session(conn, session_id)
        if session is None:
            raise RetryLater(f"session {session_id} not known yet")
        return session

    def on_session_rescheduled(self, conn: Connection, event: SessionRescheduled) -> None:
        session = self._known_session(conn, event.session_id)
        ends_at = as_utc(event.ends_at)
        moved = copies.change_session(
            conn,
            session.session_id,
            event.aggregate_version,
            starts_at=as_utc(event.starts_at),
            ends_at=ends_at,
        )
        if not moved:
            return
        unused = invitations.unused_invitations(conn, session.session_id)
        invitations.set_invitation_expiry(
            conn,
            [
                (invitation_id, self.expiry(ends_at, created_at))
                for invitation_id, created_at in unused
            ],
        )

    def on_session_capacity_changed(self, conn: Connection, event: SessionCapacityChanged) -> None:
        session = self._known_session(conn, event.session_id)
        copies.change_session(conn, session.session_id, event.aggregate_version)

    def on_session_cancelled(self, conn: Connection, event: SessionCancelled) -> None:
        session = self._known_session(conn, event.session_id)
        if copies.change_session(
            conn, session.session_id, event.aggregate_version, status="cancelled"
        ):
            self.reconcile(conn, session.session_id)

    def on_session_completed(self, conn: Connection, event: SessionCompleted) -> None:
        session = self._known_session(conn, event.session_id)
        if copies.change_session(
            conn, session.session_id, event.aggregate_version, status="completed"
        ):
            self.reconcile(conn, session.session_id)

    # ----------------------------------------------------------------------------------------
    # Registration

    def on_participant_registered(self, conn: Connection, event: ParticipantRegistered) -> None:
        if copies.get_session(conn, event.session_id) is None:
            raise RetryLater(f"session {event.session_id} not known yet")
        values: dict[str, Any] = {
            "session_id": event.session_id,
            "participant_id": event.participant_id,
            "city": event.profile.city,
            "language": event.profile.language,
            "status": event.status,
            "version": event.aggregate_version,
        }
        # A first registration cannot be eligible yet (no attendance): only a change reconciles.
        current = copies.get_registration(conn, event.registration_id)
        changed = copies.save_registration(conn, event.registration_id, values)
        if changed and current is not None:
            self.reconcile(conn, current.session_id, current.registration_id)
        elif changed:
            self.issue_tests(conn, registration_id=event.registration_id)

    def _change_registration(
        self, conn: Connection, registration_id: uuid.UUID, version: int, **changes: Any
    ) -> None:
        """Apply ``changes`` to a registration if ``version`` is newer than what it holds, then
        bring its invitation in line; raises :class:`RetryLater` when it is not known yet."""
        registration = copies.get_registration(conn, registration_id)
        if registration is None:
            raise RetryLater(f"registration {registration_id} not known yet")
        if copies.change_registration(conn, registration.registration_id, version, **changes):
            self.reconcile(conn, registration.session_id, registration.registration_id)

    def on_registration_cancelled(self, conn: Connection, event: RegistrationCancelled) -> None:
        self._change_registration(
            conn, event.registration_id, event.aggregate_version, status="cancelled"
        )

    def on_waitlist_promoted(self, conn: Connection, event: WaitlistPromoted) -> None:
        self._change_registration(
            conn, event.registration_id, event.aggregate_version, status="confirmed"
        )

    def on_attendance_recorded(self, conn: Connection, event: AttendanceRecorded) -> None:
        self._change_registration(
            conn, event.registration_id, event.aggregate_version, attended=event.attended
        )

    def on_feedback_link_issued(self, conn: Connection, event: FeedbackLinkIssued) -> None:
        """Registration mailed the participant a link of its own: its hash opens the same
        invitation (which may not exist yet: the link waits for it, nothing to retry)."""
        invitations.save_mailed_link(
            conn, event.link_id, event.registration_id, event.token_hash, event.occurred_at
        )

    # ----------------------------------------------------------------------------------------
    # Invitations

    def issue_tests(
        self,
        conn: Connection,
        *,
        session_id: uuid.UUID | None = None,
        registration_id: uuid.UUID | None = None,
    ) -> None:
        """Issue the knowledge-test links now due (rules in :mod:`.knowledge`)."""
        issue_tests(
            conn,
            self.tokens,
            self.clock(),
            self.expiry,
            session_id=session_id,
            registration_id=registration_id,
        )

    def reconcile(
        self, conn: Connection, session_id: uuid.UUID, registration_id: uuid.UUID | None = None
    ) -> None:
        """Bring the invitations of a session (or of one registration) in line with the rule."""
        now = self.clock()
        self.issue_tests(conn, session_id=session_id, registration_id=registration_id)
        invitations.revoke_invitations(conn, session_id, registration_id, now)
        invitations.reinstate_invitations(conn, session_id, registration_id, now)
        missing = invitations.missing_invitations(conn, session_id, registration_id)
        if not missing:
            return
        session = copies.get_session(conn, session_id)
        assert session is not None, "missing_invitations joins the session row"
        expires_at = self.expiry(session.ends_at, now)
        rows = []
        for reg_id in missing:
            invitation_id = uuid7()
            rows.append(
                {
                    "invitation_id": invitation_id,
                    "registration_id": reg_id,
                    "session_id": session_id,
                    "survey_id": DEFAULT_SURVEY_ID,
                    "token_hash": self.tokens.token_hash(invitation_id),
                    "created_at": now,
                    "expires_at": expires_at,
                    "revoked_at": None,
                    "used_at": None,
                }
            )
        invitations.insert_invitations(conn, rows)
