"""Trainer travel time between in-person sessions in different cities, and its settings."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from trainops_scheduling.app import TRAVEL_ENV, TRAVEL_PAIRS_ENV, load_travel
from trainops_scheduling.domain import (
    DEFAULT_TRAVEL,
    CityCatalogue,
    Session,
    TrainerTravelTooShort,
    TravelTimes,
    ensure_travel_possible,
    find_travel_conflicts,
    search_window,
)
from trainops_shared.settings import SettingsError

pytestmark = pytest.mark.unit

T1, T2 = uuid.UUID(int=201), uuid.UUID(int=202)
TRAINING = uuid.UUID(int=1)
DAY = datetime(2027, 3, 2, tzinfo=UTC)
CATALOGUE = CityCatalogue.default()


def sitting(
    n: int,
    city: str,
    start: float,
    end: float,
    trainers: tuple[uuid.UUID, ...] = (T1,),
    mode: str = "in_person",
    status: str = "scheduled",
) -> Session:
    return Session(
        id=uuid.UUID(int=n),
        training_id=TRAINING,
        mode=mode,  # type: ignore[arg-type]
        cities=(city,),
        timezone="Asia/Almaty",
        starts_at=DAY + timedelta(hours=start),
        ends_at=DAY + timedelta(hours=end),
        capacity=20,
        language="ru",
        trainer_ids=trainers,
        status=status,  # type: ignore[arg-type]
    )


TRAVEL = TravelTimes(
    default=timedelta(hours=3), pairs={frozenset({"almaty", "almaty_region"}): timedelta(hours=1)}
)


def test_a_session_in_another_city_too_soon_after_is_named_with_the_time_needed() -> None:
    before = sitting(1, "astana", 6, 9)
    new = sitting(2, "almaty", 11, 13)
    [conflict] = find_travel_conflicts(new, [before], TRAVEL)
    assert (conflict.session_id, conflict.trainer_id) == (before.id, T1)
    assert conflict.travel == timedelta(hours=3)
    with pytest.raises(TrainerTravelTooShort) as caught:
        ensure_travel_possible(new, [before], TRAVEL)
    assert caught.value.status == 409
    assert caught.value.field == "trainer_ids[0]"
    assert caught.value.extra["conflicting_session_id"] == str(before.id)
    assert caught.value.extra["travel_minutes"] == 180


def test_the_next_session_elsewhere_counts_as_much_as_the_previous_one() -> None:
    after = sitting(1, "shymkent", 14, 16)
    assert [
        c.session_id for c in find_travel_conflicts(sitting(2, "almaty", 9, 12), [after], TRAVEL)
    ] == [after.id]


def test_exactly_the_travel_time_is_enough() -> None:
    assert (
        find_travel_conflicts(sitting(2, "almaty", 12, 14), [sitting(1, "astana", 6, 9)], TRAVEL)
        == []
    )


def test_a_city_pair_has_its_own_time_in_both_directions() -> None:
    near = sitting(1, "almaty_region", 8, 10)
    assert find_travel_conflicts(sitting(2, "almaty", 11, 12), [near], TRAVEL) == []
    assert find_travel_conflicts(sitting(2, "almaty", 10.5, 12), [near], TRAVEL) != []
    assert TRAVEL.between("almaty_region", "almaty") == TRAVEL.between("almaty", "almaty_region")


@pytest.mark.parametrize(
    ("other", "new"),
    [
        (sitting(1, "almaty", 8, 10), sitting(2, "almaty", 10, 12)),  # the same city
        (sitting(1, "astana", 8, 10, mode="online"), sitting(2, "almaty", 10, 12)),
        (sitting(1, "astana", 8, 10), sitting(2, "almaty", 10, 12, mode="online")),
        (sitting(1, "astana", 8, 10, status="cancelled"), sitting(2, "almaty", 10, 12)),
        (sitting(1, "astana", 8, 10, trainers=(T2,)), sitting(2, "almaty", 10, 12)),
        (sitting(2, "astana", 8, 10), sitting(2, "almaty", 10, 12)),  # its own old slot
        (sitting(1, "astana", 9, 11), sitting(2, "almaty", 10, 12)),  # overlap: the other rule
    ],
)
def test_no_travel_is_needed(other: Session, new: Session) -> None:
    assert find_travel_conflicts(new, [other], TRAVEL) == []


def test_the_search_window_widens_by_the_longest_time_and_stays_in_the_calendar() -> None:
    window = search_window(sitting(2, "almaty", 10, 12), TRAVEL)
    assert window.starts_at == DAY + timedelta(hours=7)
    assert window.ends_at == DAY + timedelta(hours=15)
    edge = Session(
        **{
            **sitting(3, "almaty", 0, 1).__dict__,
            "starts_at": datetime(1, 1, 1, 1, tzinfo=UTC),
            "ends_at": datetime(1, 1, 1, 2, tzinfo=UTC),
        }
    )
    assert search_window(edge, TRAVEL).starts_at == datetime.min.replace(tzinfo=UTC)


def test_settings_default_and_pairs() -> None:
    assert load_travel(CATALOGUE, {}) == TravelTimes(default=DEFAULT_TRAVEL)
    travel = load_travel(
        CATALOGUE, {TRAVEL_ENV: "240", TRAVEL_PAIRS_ENV: " almaty:astana=90 , shymkent:almaty=150"}
    )
    assert travel.default == timedelta(hours=4)
    assert travel.between("astana", "almaty") == timedelta(minutes=90)
    assert travel.between("almaty", "shymkent") == timedelta(minutes=150)
    assert travel.between("astana", "shymkent") == timedelta(hours=4)
    assert travel.longest == timedelta(hours=4)


@pytest.mark.parametrize(
    ("env", "needle"),
    [
        ({TRAVEL_ENV: "three hours"}, TRAVEL_ENV),
        ({TRAVEL_ENV: "-5"}, TRAVEL_ENV),
        ({TRAVEL_ENV: "99999999999"}, TRAVEL_ENV),
        ({TRAVEL_PAIRS_ENV: "almaty-astana=90"}, "city:city=minutes"),
        ({TRAVEL_PAIRS_ENV: "almaty:atlantis=90"}, "atlantis"),
        ({TRAVEL_PAIRS_ENV: "almaty:almaty=90"}, "two different cities"),
        ({TRAVEL_PAIRS_ENV: "almaty:astana=90,astana:almaty=60"}, "given twice"),
        ({TRAVEL_PAIRS_ENV: "almaty:astana=soon"}, "minutes"),
    ],
)
def test_unusable_settings_stop_the_start_naming_the_setting(
    env: dict[str, str], needle: str
) -> None:
    with pytest.raises(SettingsError, match=needle) as caught:
        load_travel(CATALOGUE, env)
    assert (TRAVEL_ENV in str(caught.value)) or (TRAVEL_PAIRS_ENV in str(caught.value))
