"""Realistic synthetic programme data: events with correct aggregate versions, request bodies.

A programme here is a few trainings, sessions in eight cities, participants who sit in several
sessions over the year (so distinct counts differ from registration counts), about 70 % of them
attending, and 40 % of attendees answering the feedback survey. Every aggregate's versions are
consistent (a registration is v1 when created, v2 on attendance, …), as a real producer makes
them, so the projection's version guards do the work they do in production.
"""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from trainops_shared.events import (
    AttendanceRecorded,
    Event,
    FeedbackSubmitted,
    ParticipantProfile,
    ParticipantRegistered,
    RegistrationCancelled,
    SessionCompleted,
    SessionScheduled,
    SurveyPublished,
    TrainingDefined,
)
from trainops_shared.events.vocabulary import (
    AGE_BANDS,
    LANGUAGES,
    SECTORS,
    SEXES,
    AgeBand,
    Language,
    Sector,
    Sex,
)

CITIES = ("almaty", "astana", "shymkent", "karaganda", "aktobe", "taraz", "pavlodar", "oral")
YEAR_START = datetime(2026, 1, 12, 5, 0, tzinfo=UTC)


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


@dataclass(frozen=True, slots=True)
class Profile:
    participant_id: uuid.UUID
    city: str
    sector: Sector
    sex: Sex
    age_band: AgeBand
    language: Language

    def event_profile(self) -> ParticipantProfile:
        return ParticipantProfile(
            city=self.city,
            sector=self.sector,
            sex=self.sex,
            age_band=self.age_band,
            language=self.language,
        )


def session_scheduled(
    session_id: uuid.UUID,
    training_id: uuid.UUID,
    starts_at: datetime,
    *,
    capacity: int,
    cities: tuple[str, ...] = CITIES,
) -> SessionScheduled:
    return SessionScheduled(
        aggregate_id=session_id,
        aggregate_version=1,
        session_id=session_id,
        training_id=training_id,
        mode="in_person",
        cities=list(cities),
        timezone="Asia/Almaty",
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=6),
        capacity=capacity,
        language="ru",
    )


def bench_sessions(count: int, capacity: int = 10_000_000) -> list[SessionScheduled]:
    """Sessions for the write-path benchmarks: every city, a capacity nobody reaches."""
    rng = random.Random(7)
    training = _uuid(rng)
    return [
        session_scheduled(_uuid(rng), training, YEAR_START + timedelta(days=i), capacity=capacity)
        for i in range(count)
    ]


def programme_events(total: int, seed: int = 1) -> Iterator[Event]:
    """About ``total`` events in producer order: trainings and sessions first per batch of
    sessions, then registrations (some cancelled), attendance, completion and feedback."""
    rng = random.Random(seed)
    trainings = [_uuid(rng) for _ in range(6)]
    emitted = 0
    for i, training in enumerate(trainings):
        yield TrainingDefined(
            aggregate_id=training,
            training_id=training,
            code=f"T{i + 1}",
            title={"en": f"Training {i + 1}", "ru": f"Тренинг {i + 1}"},
            target_sectors=["media", "blogger"],
        )
        emitted += 1
    pool: list[Profile] = []
    day = 0
    while emitted < total:
        session_id = _uuid(rng)
        training = rng.choice(trainings)
        starts_at = YEAR_START + timedelta(hours=7 * day)
        day += 1
        session_version = 1
        yield session_scheduled(session_id, training, starts_at, capacity=400)
        survey_id = _uuid(rng)
        yield SurveyPublished(
            aggregate_id=survey_id,
            survey_id=survey_id,
            code="post-session",
            items=["overall", "relevance", "trainer"],
            session_id=session_id,
        )
        emitted += 2
        size = rng.randint(80, 200)
        registrations: list[tuple[uuid.UUID, Profile]] = []
        for _ in range(size):
            if pool and rng.random() < 0.35:  # a returning participant (a series of trainings)
                person = rng.choice(pool)
            else:
                person = Profile(
                    participant_id=_uuid(rng),
                    city=rng.choice(CITIES),
                    sector=rng.choice(SECTORS),
                    sex=rng.choice(SEXES),
                    age_band=rng.choice(AGE_BANDS),
                    language=rng.choice(LANGUAGES),
                )
                pool.append(person)
                if len(pool) > 50_000:
                    pool.pop(rng.randrange(len(pool)))
            registration_id = _uuid(rng)
            yield ParticipantRegistered(
                aggregate_id=registration_id,
                aggregate_version=1,
                registration_id=registration_id,
                session_id=session_id,
                participant_id=person.participant_id,
                status="confirmed",
                profile=person.event_profile(),
            )
            emitted += 1
            if rng.random() < 0.06:
                yield RegistrationCancelled(
                    aggregate_id=registration_id,
                    aggregate_version=2,
                    registration_id=registration_id,
                    session_id=session_id,
                    participant_id=person.participant_id,
                    previous_status="confirmed",
                )
                emitted += 1
            else:
                registrations.append((registration_id, person))
        attendees = []
        for registration_id, person in registrations:
            attended = rng.random() < 0.7
            yield AttendanceRecorded(
                aggregate_id=registration_id,
                aggregate_version=2,
                registration_id=registration_id,
                session_id=session_id,
                participant_id=person.participant_id,
                attended=attended,
                language=person.language,
            )
            emitted += 1
            if attended:
                attendees.append((registration_id, person))
        session_version += 1
        yield SessionCompleted(
            aggregate_id=session_id, aggregate_version=session_version, session_id=session_id
        )
        emitted += 1
        for registration_id, person in attendees:
            if rng.random() < 0.4:
                response_id = _uuid(rng)
                yield FeedbackSubmitted(
                    aggregate_id=response_id,
                    response_id=response_id,
                    survey_id=survey_id,
                    session_id=session_id,
                    registration_id=registration_id,
                    participant_id=person.participant_id,
                    answers={
                        "overall": rng.randint(2, 5),
                        "relevance": rng.randint(1, 5),
                        "trainer": rng.randint(3, 5),
                    },
                    language=person.language,
                    has_comment=rng.random() < 0.2,
                )
                emitted += 1


def registration_body_template(run: str) -> str:
    """A POST /registrations body with ``{n}`` (unique per request), ``{s}`` (a session),
    ``{c}`` (a city) and ``{k}`` (a sector) placeholders for the load generator."""
    return (
        '{"session_id":"{s}","participant":{"full_name":"Bench Participant '
        + run
        + ' {n}","sector":"{k}","city":"{c}","language":"ru","sex":"female",'
        '"age_band":"25-34","email":"p{n}.'
        + run
        + '@bench.example.kz","organisation":"Bench Media"}}'
    )
