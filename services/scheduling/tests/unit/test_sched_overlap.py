"""Trainer double-booking: half-open intervals, self-exclusion, cancelled sessions."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest

from trainops_scheduling.domain import (
    TimeRange,
    TrainerDoubleBooked,
    ensure_trainers_free,
    find_trainer_conflict,
    find_trainer_conflicts,
)

pytestmark = pytest.mark.unit

T1, T2, T3 = (uuid.UUID(int=n) for n in (101, 102, 103))
DAY = datetime(2020, 12, 22, tzinfo=UTC)


@dataclass(frozen=True)
class Row:
    id: uuid.UUID
    trainer_ids: tuple[uuid.UUID, ...]
    starts_at: datetime
    ends_at: datetime
    status: str = "scheduled"


def hours(start: int, end: int) -> TimeRange:
    return TimeRange(DAY + timedelta(hours=start), DAY + timedelta(hours=end))


def row(
    n: int, trainers: tuple[uuid.UUID, ...], start: int, end: int, status: str = "scheduled"
) -> Row:
    slot = hours(start, end)
    return Row(uuid.UUID(int=n), trainers, slot.starts_at, slot.ends_at, status)


def test_overlap_names_the_other_session_and_trainer() -> None:
    existing = [row(1, (T1,), 9, 12), row(2, (T2,), 10, 11)]
    conflict = find_trainer_conflict([T3, T2], hours(10, 13), existing)
    assert conflict is not None
    assert (conflict.session_id, conflict.trainer_id) == (uuid.UUID(int=2), T2)


def test_back_to_back_sessions_do_not_overlap() -> None:
    existing = [row(1, (T1,), 9, 12), row(2, (T1,), 14, 16)]
    assert find_trainer_conflict([T1], hours(12, 14), existing) is None


def test_a_rescheduled_session_does_not_conflict_with_itself() -> None:
    existing = [row(1, (T1,), 9, 12)]
    assert find_trainer_conflict([T1], hours(10, 13), existing, uuid.UUID(int=1)) is None
    assert find_trainer_conflict([T1], hours(10, 13), existing) is not None


def test_cancelled_sessions_free_the_trainer_but_completed_ones_do_not() -> None:
    existing = [row(1, (T1,), 9, 12, "cancelled")]
    assert find_trainer_conflict([T1], hours(10, 11), existing) is None
    existing = [row(1, (T1,), 9, 12, "completed")]
    assert find_trainer_conflict([T1], hours(10, 11), existing) is not None


def test_no_trainers_means_no_conflict() -> None:
    assert find_trainer_conflict([], hours(0, 24), [row(1, (T1,), 9, 12)]) is None


def test_first_conflict_is_the_earliest_other_session() -> None:
    existing = [row(5, (T1,), 11, 12), row(6, (T1, T2), 8, 10), row(7, (T3,), 9, 10)]
    conflicts = find_trainer_conflicts([T2, T1], hours(9, 12), existing)
    assert [(c.session_id.int, c.trainer_id) for c in conflicts] == [(6, T2), (6, T1), (5, T1)]
    first = find_trainer_conflict([T2, T1], hours(9, 12), reversed(existing))
    assert first is not None and (first.session_id.int, first.trainer_id) == (6, T2)


def test_ensure_trainers_free_raises_a_409_kind_of_error() -> None:
    with pytest.raises(TrainerDoubleBooked) as caught:
        ensure_trainers_free([T1], hours(10, 11), [row(9, (T1,), 9, 12)])
    assert caught.value.field == "trainer_ids"
    assert caught.value.conflicting_session_id == uuid.UUID(int=9)
    assert str(uuid.UUID(int=9)) in str(caught.value)
    ensure_trainers_free([T2], hours(10, 11), [row(9, (T1,), 9, 12)])
