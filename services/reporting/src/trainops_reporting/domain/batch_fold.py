"""A batch of registration and feedback events folded in memory into per-table changes.

The per-event handlers (``handlers.registration_events``, ``handlers.feedback_events``) read and
write a few rows per event: at thousands of events a second those statements, not the rules, are
the cost. Here the same rules run over the rows the database held for the batch's keys at its
start (:class:`Loaded`), in delivery order, and what they change comes out as row sets
(:class:`Changes`) that a handful of multi-row statements write. Nothing here touches a
database, so the equivalence with the per-event handlers is a property tested on plain values.

An event whose aggregate is not known yet (attendance before its registration, a registration
before its session) changes nothing and is reported waiting with the reason, so only that event
is retried, never the batch. Every other event counts as applied (a stale or re-published one
too: it was looked at and found to change nothing), which is what ``report_state.generation``
counts.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Final

from trainops_reporting.domain.projection import (
    Profile,
    counted_response_change,
    counts_as_registered,
    is_newer,
    overall_of,
)
from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    FeedbackSubmitted,
    ParticipantRegistered,
    RegistrationCancelled,
    WaitlistPromoted,
)
from trainops_shared.timeutil import as_utc

FOLDED_TYPES: Final[frozenset[type[Event]]] = frozenset(
    {
        ParticipantRegistered,
        RegistrationCancelled,
        WaitlistPromoted,
        AttendanceRecorded,
        FeedbackSubmitted,
    }
)
"""The high-volume event types, folded here; the rest (sessions, trainings, surveys, knowledge
tests, comments: a few per thousand registrations) keep their per-event handlers."""


@dataclass(frozen=True, slots=True)
class SessionContext:
    """What a registration copies from its session."""

    training_id: uuid.UUID
    mode: str
    starts_at: datetime
    cancelled: bool


@dataclass(slots=True)
class FactRow:
    """A registration's fact, without its profile: a fact's profile is always its participant's
    latest, so it is written from :attr:`Changes.participants` (and moved by ``relabelled``)."""

    registration_id: uuid.UUID
    participant_id: uuid.UUID
    session_id: uuid.UUID
    training_id: uuid.UUID
    mode: str
    starts_at: datetime
    status: str
    session_cancelled: bool
    registered: bool
    attended: bool
    feedback_count: int
    overall_sum: int
    overall_count: int
    status_version: int
    attendance_version: int


FACT_STATE_COLUMNS: Final[tuple[str, ...]] = (
    "status",
    "registered",
    "attended",
    "feedback_count",
    "overall_sum",
    "overall_count",
    "status_version",
    "attendance_version",
)
"""The fact columns events of this fold change on an existing fact."""


@dataclass(slots=True)
class ParticipantRow:
    participant_id: uuid.UUID
    profile: Profile
    profile_at: datetime
    profile_event_id: str


@dataclass(frozen=True, slots=True)
class ResponseRow:
    """A registration's counted feedback response."""

    response_id: uuid.UUID
    registration_id: uuid.UUID
    session_id: uuid.UUID
    survey_id: uuid.UUID
    overall: int | None
    language: str
    has_comment: bool
    submitted_at: datetime
    invitation_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Keys:
    """The rows a batch's events may read: what :class:`Loaded` must hold."""

    sessions: frozenset[uuid.UUID]
    registrations: frozenset[uuid.UUID]
    participants: frozenset[uuid.UUID]
    responses_of: frozenset[uuid.UUID]
    """Registrations whose counted response is needed (those with feedback in the batch)."""


def keys_of(events: Iterable[Event]) -> Keys:
    sessions: set[uuid.UUID] = set()
    registrations: set[uuid.UUID] = set()
    participants: set[uuid.UUID] = set()
    responses_of: set[uuid.UUID] = set()
    for event in events:
        if isinstance(event, ParticipantRegistered):
            sessions.add(event.session_id)
            participants.add(event.participant_id)
            registrations.add(event.registration_id)
        elif isinstance(event, FeedbackSubmitted):
            registrations.add(event.registration_id)
            responses_of.add(event.registration_id)
        elif isinstance(event, RegistrationCancelled | WaitlistPromoted | AttendanceRecorded):
            registrations.add(event.registration_id)
    return Keys(
        sessions=frozenset(sessions),
        registrations=frozenset(registrations),
        participants=frozenset(participants),
        responses_of=frozenset(responses_of),
    )


@dataclass(slots=True)
class Loaded:
    """The stored rows for a batch's :class:`Keys` (a key with no row is simply absent)."""

    sessions: dict[uuid.UUID, SessionContext] = field(default_factory=dict)
    facts: dict[uuid.UUID, FactRow] = field(default_factory=dict)
    participants: dict[uuid.UUID, ParticipantRow] = field(default_factory=dict)
    responses: dict[uuid.UUID, ResponseRow] = field(default_factory=dict)
    """Counted responses by registration."""


@dataclass(slots=True)
class Changes:
    """What the batch changes, per table, ready for multi-row statements."""

    applied: int
    waiting: dict[int, str]
    """Events (by position in the batch) that changed nothing and must come back, with why."""
    new_participants: list[ParticipantRow]
    changed_participants: list[ParticipantRow]
    relabelled: dict[uuid.UUID, Profile]
    """Stored participants whose profile changed: every stored fact of theirs takes it."""
    new_facts: list[FactRow]
    changed_facts: list[FactRow]
    profiles: dict[uuid.UUID, Profile]
    """Each participant's profile after the batch (what a new fact is written with)."""
    dropped_responses: list[uuid.UUID]
    """Stored counted responses replaced by an earlier one: their item answers go with them."""
    new_responses: list[ResponseRow]
    new_item_answers: list[tuple[uuid.UUID, str, int]]
    """``(response_id, item, value)``: the Likert answers of each new counted response."""
    new_item_choices: list[tuple[uuid.UUID, str, str]]
    """``(response_id, item, option)``: the chosen options of each new counted response."""


class BatchFold:
    """The batch's rules over its :class:`Loaded` rows; :meth:`apply` each event in delivery
    order, then read :meth:`changes`. ``loaded`` is taken over (its dicts are updated)."""

    def __init__(self, loaded: Loaded) -> None:
        self._sessions = loaded.sessions
        self._facts = loaded.facts
        self._participants = loaded.participants
        self._responses = loaded.responses
        self._stored_profiles = {pid: p.profile for pid, p in loaded.participants.items()}
        self._stored_responses = {rid: r.response_id for rid, r in loaded.responses.items()}
        self._answers: dict[uuid.UUID, FeedbackSubmitted] = {}
        """The event of each response this batch made counted, by response id."""
        self._stored_facts = frozenset(loaded.facts)
        self._new_participants: dict[uuid.UUID, None] = {}
        self._changed_participants: set[uuid.UUID] = set()
        self._new_facts: list[uuid.UUID] = []
        self._changed_facts: set[uuid.UUID] = set()
        self._applied = 0
        self._waiting: dict[int, str] = {}
        self._position = 0

    def apply(self, event: Event) -> str | None:
        """Fold one event in; the reason it has to wait (it then changed nothing), or None."""
        position = self._position
        self._position += 1
        if isinstance(event, ParticipantRegistered):
            reason = self._registered(event)
        elif isinstance(event, RegistrationCancelled):
            reason = self._status(event, event.registration_id, "cancelled")
        elif isinstance(event, WaitlistPromoted):
            reason = self._status(event, event.registration_id, "confirmed")
        elif isinstance(event, AttendanceRecorded):
            reason = self._attendance(event)
        elif isinstance(event, FeedbackSubmitted):
            reason = self._feedback(event)
        else:
            raise TypeError(f"{type(event).__name__} is not folded in batches")
        if reason is None:
            self._applied += 1
        else:
            self._waiting[position] = reason
        return reason

    def _registered(self, event: ParticipantRegistered) -> str | None:
        session = self._sessions.get(event.session_id)
        if session is None:
            return f"session {event.session_id} not seen yet (registration)"
        if event.registration_id in self._facts:
            return None  # a re-publish of the creation under a new event id
        profile = event.profile
        incoming: Profile = (
            profile.city,
            profile.sector,
            profile.sex,
            profile.age_band,
            profile.language,
        )
        stamp = (as_utc(event.occurred_at), str(event.event_id))
        known = self._participants.get(event.participant_id)
        if known is None:
            self._participants[event.participant_id] = ParticipantRow(
                event.participant_id, incoming, stamp[0], stamp[1]
            )
            self._new_participants[event.participant_id] = None
        elif stamp > (known.profile_at, known.profile_event_id):
            known.profile, known.profile_at, known.profile_event_id = incoming, *stamp
            if event.participant_id not in self._new_participants:
                self._changed_participants.add(event.participant_id)
        self._facts[event.registration_id] = FactRow(
            registration_id=event.registration_id,
            participant_id=event.participant_id,
            session_id=event.session_id,
            training_id=session.training_id,
            mode=session.mode,
            starts_at=session.starts_at,
            status=event.status,
            session_cancelled=session.cancelled,
            registered=counts_as_registered(event.status, session.cancelled),
            attended=False,
            feedback_count=0,
            overall_sum=0,
            overall_count=0,
            status_version=event.aggregate_version,
            attendance_version=0,
        )
        self._new_facts.append(event.registration_id)
        return None

    def _status(self, event: Event, registration_id: uuid.UUID, status: str) -> str | None:
        fact = self._facts.get(registration_id)
        if fact is None:
            return f"registration {registration_id} not seen yet ({status})"
        if not is_newer(event.aggregate_version, fact.status_version):
            return None
        if fact.status == "cancelled":
            return None  # cancelled is final: a re-registration is a new registration
        fact.status = status
        fact.status_version = event.aggregate_version
        fact.registered = counts_as_registered(status, fact.session_cancelled)
        self._changed_facts.add(registration_id)
        return None

    def _attendance(self, event: AttendanceRecorded) -> str | None:
        fact = self._facts.get(event.registration_id)
        if fact is None:
            return f"registration {event.registration_id} not seen yet (attendance)"
        if not is_newer(event.aggregate_version, fact.attendance_version):
            return None
        fact.attended = event.attended
        fact.attendance_version = event.aggregate_version
        self._changed_facts.add(event.registration_id)
        return None

    def _feedback(self, event: FeedbackSubmitted) -> str | None:
        """The earliest response by ``(occurred_at, response_id)`` is the one counted per
        registration (see ``handlers.feedback_events.on_feedback_submitted``)."""
        fact = self._facts.get(event.registration_id)
        if fact is None:
            return f"registration {event.registration_id} not seen yet (feedback)"
        submitted_at = as_utc(event.occurred_at)
        overall = overall_of(event.answers)
        counted = self._responses.get(event.registration_id)
        if counted is not None:
            if (counted.submitted_at, str(counted.response_id)) <= (
                submitted_at,
                str(event.response_id),
            ):
                return None  # the counted response is this one, or an earlier one
            change = counted_response_change(
                overall, replaces=True, replaced_overall=counted.overall
            )
        else:
            change = counted_response_change(overall, replaces=False)
        self._answers[event.response_id] = event
        self._responses[event.registration_id] = ResponseRow(
            response_id=event.response_id,
            registration_id=event.registration_id,
            session_id=event.session_id,
            survey_id=event.survey_id,
            overall=overall,
            language=event.language,
            has_comment=event.has_comment,
            submitted_at=submitted_at,
            invitation_id=event.invitation_id,
        )
        fact.feedback_count += change.feedback
        fact.overall_sum += change.overall_sum
        fact.overall_count += change.overall_count
        self._changed_facts.add(event.registration_id)
        return None

    def changes(self) -> Changes:
        new_facts = set(self._new_facts)
        relabelled = {
            pid: self._participants[pid].profile
            for pid in self._changed_participants
            if self._participants[pid].profile != self._stored_profiles[pid]
        }
        dropped: list[uuid.UUID] = []
        added: list[ResponseRow] = []
        answers: list[tuple[uuid.UUID, str, int]] = []
        choices: list[tuple[uuid.UUID, str, str]] = []
        for registration_id, response in self._responses.items():
            stored = self._stored_responses.get(registration_id)
            if stored == response.response_id:
                continue
            if stored is not None:
                dropped.append(stored)
            added.append(response)
            event = self._answers[response.response_id]
            answers.extend((response.response_id, k, v) for k, v in event.answers.items())
            choices.extend(
                (response.response_id, item, option)
                for item, options in event.choices.items()
                for option in sorted(set(options))
            )
        return Changes(
            applied=self._applied,
            waiting=dict(self._waiting),
            new_participants=[self._participants[pid] for pid in self._new_participants],
            changed_participants=[
                self._participants[pid] for pid in sorted(self._changed_participants)
            ],
            relabelled=relabelled,
            new_facts=[self._facts[rid] for rid in self._new_facts],
            changed_facts=[
                self._facts[rid]
                for rid in sorted(self._changed_facts)
                if rid not in new_facts and rid in self._stored_facts
            ],
            profiles={pid: p.profile for pid, p in self._participants.items()},
            dropped_responses=dropped,
            new_responses=added,
            new_item_answers=answers,
            new_item_choices=choices,
        )
