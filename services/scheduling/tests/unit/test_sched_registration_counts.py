"""Registration's events as changes of a session's head counts."""

from __future__ import annotations

import uuid

from trainops_scheduling.domain.registrations import RegistrationCounts, registration_delta
from trainops_shared.events import (
    AttendanceRecorded,
    ParticipantProfile,
    ParticipantRegistered,
    RegistrationCancelled,
    WaitlistPromoted,
)

SESSION = uuid.uuid4()
PROFILE = ParticipantProfile(
    city="aktobe", sector="media", sex="female", age_band="25-34", language="ru"
)


def _ids() -> dict[str, uuid.UUID]:
    registration = uuid.uuid4()
    return {
        "aggregate_id": registration,
        "registration_id": registration,
        "session_id": SESSION,
        "participant_id": uuid.uuid4(),
    }


def test_each_event_moves_the_counts_it_names() -> None:
    confirmed = ParticipantRegistered(
        aggregate_version=1, status="confirmed", profile=PROFILE, **_ids()
    )
    waiting = ParticipantRegistered(
        aggregate_version=1, status="waitlisted", profile=PROFILE, waitlist_position=1, **_ids()
    )
    assert registration_delta(confirmed) == RegistrationCounts(1, 0)
    assert registration_delta(waiting) == RegistrationCounts(0, 1)
    promoted = WaitlistPromoted(aggregate_version=2, **_ids())
    assert registration_delta(promoted) == RegistrationCounts(1, -1)
    left = RegistrationCancelled(aggregate_version=2, previous_status="confirmed", **_ids())
    gave_up = RegistrationCancelled(aggregate_version=2, previous_status="waitlisted", **_ids())
    assert registration_delta(left) == RegistrationCounts(-1, 0)
    assert registration_delta(gave_up) == RegistrationCounts(0, -1)
    attended = AttendanceRecorded(aggregate_version=3, attended=True, **_ids())
    assert registration_delta(attended) == RegistrationCounts(0, 0)


def test_counts_never_show_below_zero_and_name_the_overflow() -> None:
    early = RegistrationCounts(confirmed=-1, waitlisted=2)
    assert early.shown() == RegistrationCounts(0, 2)
    assert early.total == 2
    assert RegistrationCounts(12, 0).over_capacity(10) == 2
    assert RegistrationCounts(8, 3).over_capacity(10) == 0
