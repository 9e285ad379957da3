"""The Session aggregate: invariants on creation and the lifecycle transitions."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from trainops_scheduling.domain import (
    CAPACITY_CEILING,
    CityCatalogue,
    IllegalTransition,
    InvalidField,
    InvalidTime,
    Session,
    UnknownCity,
)

pytestmark = pytest.mark.unit

START = datetime(2020, 12, 22, 4, tzinfo=UTC)
END = START + timedelta(hours=3)


def new_session(**overrides: Any) -> Session:
    values: dict[str, Any] = {
        "id": uuid.UUID(int=1),
        "training_id": uuid.UUID(int=2),
        "mode": "in_person",
        "cities": ["aktobe"],
        "starts_at": START,
        "ends_at": END,
        "capacity": 25,
        "language": "kk",
        "catalogue": CityCatalogue.default(),
        "venue": "Hotel Kazakhstan, hall 2",
        "trainer_ids": [uuid.UUID(int=10)],
    }
    values.update(overrides)
    return Session.schedule(**values)


def test_schedule_defaults_the_zone_to_the_first_city() -> None:
    session = new_session()
    assert session.timezone == "Asia/Aqtobe"
    assert session.version == 1
    assert session.status == "scheduled"
    assert session.cities == ("aktobe",)
    assert session.trainer_ids == (uuid.UUID(int=10),)
    assert new_session(timezone="Asia/Almaty").timezone == "Asia/Almaty"


def test_session_local_times() -> None:
    session = new_session(mode="online", cities=["almaty", "aktobe"], venue=None)
    assert session.local_times(CityCatalogue.default()) == {
        "almaty": "2020-12-22T10:00+06:00",
        "aktobe": "2020-12-22T09:00+05:00",
    }


def test_in_person_needs_exactly_one_city() -> None:
    with pytest.raises(InvalidField, match="exactly one city") as caught:
        new_session(cities=["almaty", "astana"])
    assert caught.value.field == "cities"


def test_online_may_span_distinct_cities() -> None:
    assert new_session(mode="online", cities=["almaty", "aktau"]).cities == ("almaty", "aktau")
    with pytest.raises(InvalidField, match="distinct"):
        new_session(mode="online", cities=["almaty", "almaty"])
    with pytest.raises(InvalidField, match="at least one"):
        new_session(mode="online", cities=[])


def test_unknown_city_is_rejected() -> None:
    with pytest.raises(UnknownCity):
        new_session(cities=["paris"])


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("capacity", 0),
        ("capacity", 100_001),
        ("capacity", True),
        ("capacity", 2.5),
        ("language", "de"),
        ("mode", "hybrid"),
        ("timezone", "Not/AZone"),
    ],
)
def test_invalid_values_name_their_field(field: str, value: Any) -> None:
    with pytest.raises(InvalidField) as caught:
        new_session(**{field: value})
    assert caught.value.field == field


def test_capacity_bounds_are_inclusive() -> None:
    assert new_session(capacity=1).capacity == 1
    assert new_session(capacity=100_000).capacity == 100_000


def test_the_capacity_bound_is_the_installations() -> None:
    # A national online webinar: far above the old fixed 10,000.
    assert new_session(capacity=50_000).capacity == 50_000
    assert new_session(capacity=250_000, max_capacity=300_000).capacity == 250_000
    with pytest.raises(InvalidField, match="between 1 and 500"):
        new_session(capacity=501, max_capacity=500)
    with pytest.raises(InvalidField):
        new_session(capacity=CAPACITY_CEILING + 1, max_capacity=CAPACITY_CEILING + 10)
    session = new_session(capacity=400)
    assert session.change_capacity(600, max_capacity=1000).capacity == 600
    with pytest.raises(InvalidField):
        session.change_capacity(600, max_capacity=500)


def test_a_stored_session_above_a_lowered_bound_still_loads() -> None:
    big = new_session(capacity=90_000)
    assert Session(**big.__dict__).capacity == 90_000


def test_times_are_checked() -> None:
    with pytest.raises(InvalidTime) as caught:
        new_session(ends_at=START)
    assert caught.value.field == "ends_at"
    with pytest.raises(InvalidTime, match="14 days"):
        new_session(ends_at=START + timedelta(days=15))


def test_blank_venue_is_no_venue() -> None:
    assert new_session(venue="  ").venue is None


def test_reschedule_returns_a_new_version() -> None:
    session = new_session()
    moved = session.reschedule(START + timedelta(days=1), END + timedelta(days=1))
    assert moved.version == 2
    assert moved.starts_at == START + timedelta(days=1)
    assert session.starts_at == START  # the original is untouched
    assert session.reschedule(START, END) is session


def test_change_capacity_detects_a_no_op() -> None:
    session = new_session()
    assert session.change_capacity(25) is session
    bigger = session.change_capacity(40)
    assert (bigger.capacity, bigger.version) == (40, 2)
    with pytest.raises(InvalidField) as caught:
        session.change_capacity(0)
    assert caught.value.field == "capacity"


def test_cancel_needs_a_reason() -> None:
    session = new_session()
    with pytest.raises(InvalidField) as caught:
        session.cancel("   ")
    assert caught.value.field == "reason"
    cancelled = session.cancel(" Trainer ill ")
    assert (cancelled.status, cancelled.cancel_reason, cancelled.version) == (
        "cancelled",
        "Trainer ill",
        2,
    )
    assert not cancelled.is_active


def test_past_sessions_can_be_scheduled_and_completed() -> None:
    past = new_session(
        starts_at=datetime(2019, 1, 1, tzinfo=UTC), ends_at=datetime(2019, 1, 2, tzinfo=UTC)
    )
    done = past.complete()
    assert (done.status, done.version) == ("completed", 2)
    assert done.is_active


@pytest.mark.parametrize("finish", ["cancel", "complete"])
@pytest.mark.parametrize(
    "action",
    [
        lambda s: s.reschedule(START + timedelta(hours=1), END + timedelta(hours=1)),
        lambda s: s.change_capacity(30),
        lambda s: s.cancel("again"),
        lambda s: s.complete(),
    ],
    ids=["reschedule", "change_capacity", "cancel", "complete"],
)
def test_only_scheduled_sessions_change(finish: str, action: Any) -> None:
    session = new_session()
    closed = session.cancel("venue flooded") if finish == "cancel" else session.complete()
    with pytest.raises(IllegalTransition) as caught:
        action(closed)
    assert caught.value.field == "status"
    assert caught.value.session_status == closed.status


def test_loading_a_stored_row_skips_the_catalogue_but_keeps_invariants() -> None:
    stored = Session(
        id=uuid.uuid4(),
        training_id=uuid.uuid4(),
        mode="online",
        cities=["a_city_since_removed"],
        timezone="Asia/Almaty",
        starts_at=START,
        ends_at=END,
        capacity=10,
        language="ru",
        status="completed",
        version=7,
    )
    assert stored.cities == ("a_city_since_removed",)
    with pytest.raises(InvalidTime):
        Session(**{**stored.__dict__, "starts_at": datetime(2020, 1, 1)})
    with pytest.raises(InvalidField) as caught:
        Session(**{**stored.__dict__, "version": 0})
    assert caught.value.field == "version"
