"""Test helpers of the reporting service: a builder of realistic, correctly versioned events.

Imported by the tests as ``reporting_programme`` (``conftest.py`` beside it puts this directory
on ``sys.path``); the module name is unique in the repository, unlike ``conftest``.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from trainops_shared.events import (
    AttendanceRecorded,
    CommentGiven,
    Event,
    FeedbackSubmitted,
    KnowledgeTestSubmitted,
    ParticipantProfile,
    ParticipantRegistered,
    ParticipantsMerged,
    RegistrationCancelled,
    SessionCancelled,
    SessionCompleted,
    SessionRescheduled,
    SessionScheduled,
    SurveyPublished,
    TrainingDefined,
    WaitlistPromoted,
)


class Programme:
    """Emits events the way the producers do: one version counter per aggregate.

    Aggregates: a training, a session, a registration (its creation, promotion, cancellation and
    attendance records), a survey, a feedback response.
    """

    def __init__(self) -> None:
        self.versions: dict[uuid.UUID, int] = defaultdict(int)
        self.events: list[Event] = []
        self.survey_id = uuid.uuid4()
        self.clock = datetime(2020, 12, 20, 9, 0, tzinfo=UTC)

    def _next(self, aggregate: uuid.UUID) -> int:
        self.versions[aggregate] += 1
        return self.versions[aggregate]

    def _emit(self, factory: Callable[..., Event], aggregate: uuid.UUID, **fields: Any) -> Any:
        self.clock += timedelta(seconds=1)
        event = factory(
            aggregate_id=aggregate,
            aggregate_version=self._next(aggregate),
            occurred_at=self.clock,
            **fields,
        )
        self.events.append(event)
        return event

    def training(self, code: str) -> uuid.UUID:
        training_id = uuid.uuid4()
        self._emit(
            TrainingDefined, training_id, training_id=training_id, code=code, title={"en": code}
        )
        return training_id

    def survey(self) -> None:
        self._emit(
            SurveyPublished,
            self.survey_id,
            survey_id=self.survey_id,
            code="post",
            items=["overall", "relevance"],
        )

    def session(
        self,
        training_id: uuid.UUID,
        starts_at: datetime,
        mode: str = "online",
        cities: tuple[str, ...] = ("almaty",),
    ) -> uuid.UUID:
        session_id = uuid.uuid4()
        self._emit(
            SessionScheduled,
            session_id,
            session_id=session_id,
            training_id=training_id,
            mode=mode,
            cities=list(cities),
            timezone="Asia/Almaty",
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=6),
            capacity=100,
            language="ru",
        )
        return session_id

    def reschedule(self, session_id: uuid.UUID, starts_at: datetime) -> None:
        self._emit(
            SessionRescheduled,
            session_id,
            session_id=session_id,
            starts_at=starts_at,
            ends_at=starts_at + timedelta(hours=6),
        )

    def cancel_session(self, session_id: uuid.UUID) -> None:
        self._emit(SessionCancelled, session_id, session_id=session_id, reason="trainer ill")

    def complete(self, session_id: uuid.UUID) -> None:
        self._emit(SessionCompleted, session_id, session_id=session_id)

    def register(
        self,
        session_id: uuid.UUID,
        *,
        city: str = "almaty",
        sex: str = "female",
        sector: str = "media",
        age_band: str = "25-34",
        language: str = "kk",
        status: str = "confirmed",
        participant_id: uuid.UUID | None = None,
    ) -> ParticipantRegistered:
        registration_id = uuid.uuid4()
        event: ParticipantRegistered = self._emit(
            ParticipantRegistered,
            registration_id,
            registration_id=registration_id,
            session_id=session_id,
            participant_id=participant_id or uuid.uuid4(),
            status=status,
            profile=ParticipantProfile(
                city=city, sector=sector, sex=sex, age_band=age_band, language=language
            ),
            waitlist_position=1 if status == "waitlisted" else None,
        )
        return event

    def merge(
        self, keep: ParticipantRegistered, merge: ParticipantRegistered
    ) -> ParticipantsMerged:
        """An admin merge of ``merge``'s participant into ``keep``'s (whose profile it carries)."""
        merge_id = uuid.uuid4()
        event: ParticipantsMerged = self._emit(
            ParticipantsMerged,
            merge_id,
            merge_id=merge_id,
            kept_participant_id=keep.participant_id,
            merged_participant_id=merge.participant_id,
            profile=keep.profile,
        )
        return event

    def promote(self, reg: ParticipantRegistered) -> None:
        self._emit(
            WaitlistPromoted,
            reg.registration_id,
            registration_id=reg.registration_id,
            session_id=reg.session_id,
            participant_id=reg.participant_id,
        )

    def cancel(self, reg: ParticipantRegistered) -> None:
        self._emit(
            RegistrationCancelled,
            reg.registration_id,
            registration_id=reg.registration_id,
            session_id=reg.session_id,
            participant_id=reg.participant_id,
            previous_status="confirmed",
        )

    def attend(self, reg: ParticipantRegistered, attended: bool = True) -> AttendanceRecorded:
        event: AttendanceRecorded = self._emit(
            AttendanceRecorded,
            reg.registration_id,
            registration_id=reg.registration_id,
            session_id=reg.session_id,
            participant_id=reg.participant_id,
            attended=attended,
        )
        return event

    def feedback(self, reg: ParticipantRegistered, overall: int) -> FeedbackSubmitted:
        response_id = uuid.uuid4()
        event: FeedbackSubmitted = self._emit(
            FeedbackSubmitted,
            response_id,
            response_id=response_id,
            survey_id=self.survey_id,
            session_id=reg.session_id,
            registration_id=reg.registration_id,
            participant_id=reg.participant_id,
            answers={"overall": overall, "relevance": 4},
            language="kk",
        )
        return event

    def knowledge_test(
        self, reg: ParticipantRegistered, phase: str, score: int, max_score: int = 10
    ) -> KnowledgeTestSubmitted:
        response_id = uuid.uuid4()
        event: KnowledgeTestSubmitted = self._emit(
            KnowledgeTestSubmitted,
            response_id,
            response_id=response_id,
            survey_id=self.survey_id,
            survey_version=1,
            session_id=reg.session_id,
            registration_id=reg.registration_id,
            participant_id=reg.participant_id,
            invitation_id=uuid.uuid5(reg.registration_id, phase),
            phase=phase,
            score=score,
            max_score=max_score,
            language="kk",
        )
        return event

    def comment(self, session_id: uuid.UUID, text: str, item: str = "comment") -> CommentGiven:
        """A free-text answer as feedback publishes it: no person, response or invitation."""
        comment_id = uuid.uuid4()
        event: CommentGiven = self._emit(
            CommentGiven,
            comment_id,
            comment_id=comment_id,
            survey_id=self.survey_id,
            session_id=session_id,
            item=item,
            text=text,
            language="kk",
        )
        return event


def december(day: int, hour: int = 4) -> datetime:
    return datetime(2020, 12, day, hour, 0, tzinfo=UTC)


def build_donor_scenario(p: Programme) -> dict[str, Any]:
    """The programme the report tests assert exact numbers on.

    Training T1 (online, 22 Dec 2020, completed), T2 (in person, 12 Jan 2021, scheduled), and a
    cancelled T1 session on 23 Dec. Registered (distinct, confirmed, live sessions):

    * almaty/female: 7 (6 on T1 of which 5 attended, one waitlisted-then-promoted; one more on T2)
      - and one T1 registration cancelled (not counted);
    * almaty/male: 2 (T1, both attended) — primary suppression;
    * aktau/female: 5 (T1, 3 attended);
    * aktau/male: 5 (T1, 5 attended).

    Plus 3 registrations in the cancelled session (never counted) and one waitlisted, never
    promoted (not counted). Feedback: 4 almaty/female T1 answers (overall 5,4,4,3), 5 aktau/male
    (all 4).
    """
    p.survey()
    t1 = p.training("T1")
    t2 = p.training("T2")
    s1 = p.session(t1, december(22), cities=("almaty", "aktau"))
    s_cancel = p.session(t1, december(23))
    s2 = p.session(t2, datetime(2021, 1, 12, 4, tzinfo=UTC), mode="in_person")
    af = [p.register(s1) for _ in range(5)]
    promoted = p.register(s1, status="waitlisted")
    p.promote(promoted)
    af.append(promoted)
    dropped = p.register(s1)
    p.cancel(dropped)
    p.register(s1, status="waitlisted", city="kostanay")
    # a T1 participant coming back for T2 (distinct: still one person in almaty/female)
    p.register(s2, participant_id=af[0].participant_id)
    p.register(s2)  # a new almaty/female participant on T2
    am = [p.register(s1, sex="male", sector="ngo") for _ in range(2)]
    xf = [p.register(s1, city="aktau", sector="blogger") for _ in range(5)]
    xm = [p.register(s1, city="aktau", sex="male", sector="akimat") for _ in range(5)]
    for _ in range(3):
        p.register(s_cancel, city="oskemen")
    p.cancel_session(s_cancel)
    for reg in af[:5]:
        p.attend(reg)
    late = p.attend(af[5], attended=True)
    p.attend(af[5], attended=False)  # corrected: the promoted one did not come after all
    for reg in am:
        p.attend(reg)
    for reg in xf[:3]:
        p.attend(reg)
    for reg in xm:
        p.attend(reg)
    for reg, score in zip(af[:4], (5, 4, 4, 2), strict=True):
        p.feedback(reg, score)
    for reg in xm:
        p.feedback(reg, 4)
    p.complete(s1)
    return {"t1": t1, "t2": t2, "s1": s1, "s2": s2, "late_attendance": late}
