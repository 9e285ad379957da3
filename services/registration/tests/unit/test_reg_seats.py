"""Seat/waitlist decisions and the registration and session status rules."""

from __future__ import annotations

import uuid

import pytest

from trainops_registration.domain.errors import (
    Conflict,
    Forbidden,
    Invalid,
    NotFound,
    RegistrationError,
)
from trainops_registration.domain.seats import (
    RegistrationStatus,
    SeatDecision,
    SessionSeats,
    SessionStatus,
    WaitlistEntry,
    decide_new_registration,
    ensure_can_cancel,
    ensure_can_record_attendance,
    ensure_registrations_can_change,
    ensure_session_accepts_registrations,
    promotions_after_cancel,
    promotions_after_capacity_change,
)

pytestmark = pytest.mark.unit

A, B, C, D = (uuid.UUID(int=i) for i in range(1, 5))


def seats(capacity: int, confirmed: int, *waiting: tuple[uuid.UUID, int]) -> SessionSeats:
    return SessionSeats(
        capacity=capacity,
        confirmed_count=confirmed,
        waitlist=tuple(WaitlistEntry(*w) for w in waiting),
    )


# -- new registrations -----------------------------------------------------------------------


def test_confirmed_while_seats_remain() -> None:
    assert decide_new_registration(seats(20, 0)) == SeatDecision.confirmed()
    assert decide_new_registration(seats(20, 19)).status == "confirmed"


def test_last_seat_then_first_waitlist_position() -> None:
    assert decide_new_registration(seats(2, 1)).status == "confirmed"
    decision = decide_new_registration(seats(2, 2))
    assert decision == SeatDecision(status="waitlisted", waitlist_position=1)


def test_waitlist_position_follows_the_last_one() -> None:
    decision = decide_new_registration(seats(2, 2, (A, 1), (B, 4), (C, 2)))
    assert decision == SeatDecision.waitlisted(5)


def test_overbooked_session_waitlists() -> None:
    assert decide_new_registration(seats(5, 8)).status == "waitlisted"


def test_zero_capacity_waitlists_everybody() -> None:
    assert decide_new_registration(seats(0, 0)) == SeatDecision.waitlisted(1)


def test_sequence_of_registrations() -> None:
    snapshot = seats(3, 0)
    statuses = []
    for i in range(6):
        decision = decide_new_registration(snapshot)
        statuses.append((decision.status, decision.waitlist_position))
        if decision.status == "confirmed":
            snapshot = SessionSeats(
                capacity=3,
                confirmed_count=snapshot.confirmed_count + 1,
                waitlist=snapshot.waitlist,
            )
        else:
            assert decision.waitlist_position is not None
            snapshot = SessionSeats(
                capacity=3,
                confirmed_count=snapshot.confirmed_count,
                waitlist=(
                    *snapshot.waitlist,
                    WaitlistEntry(uuid.UUID(int=i), decision.waitlist_position),
                ),
            )
    assert statuses == [
        ("confirmed", None),
        ("confirmed", None),
        ("confirmed", None),
        ("waitlisted", 1),
        ("waitlisted", 2),
        ("waitlisted", 3),
    ]


def test_snapshot_accepts_plain_tuples() -> None:
    snapshot = SessionSeats(capacity=1, confirmed_count=1, waitlist=[(B, 2), (A, 1)])  # type: ignore[arg-type]
    assert snapshot.waitlist[0].registration_id == B
    assert [e.registration_id for e in snapshot.ordered_waitlist()] == [A, B]
    assert promotions_after_capacity_change(snapshot, 2) == [A]


@pytest.mark.parametrize(
    ("capacity", "confirmed", "field"),
    [(-1, 0, "session.capacity"), (1, -1, "session.confirmed_count")],
)
def test_snapshot_rejects_negative_counts(capacity: int, confirmed: int, field: str) -> None:
    with pytest.raises(Invalid) as exc_info:
        SessionSeats(capacity=capacity, confirmed_count=confirmed)
    assert exc_info.value.field == field


def test_free_seats_never_negative() -> None:
    assert seats(5, 2).free_seats == 3
    assert seats(5, 7).free_seats == 0


# -- cancellation ----------------------------------------------------------------------------


def test_cancel_confirmed_promotes_first_waitlisted_fifo() -> None:
    snapshot = seats(2, 2, (C, 3), (A, 1), (B, 2))
    assert promotions_after_cancel(snapshot, "confirmed") == [A]


def test_cancel_confirmed_with_empty_waitlist_promotes_nobody() -> None:
    assert promotions_after_cancel(seats(2, 2), "confirmed") == []


def test_cancel_waitlisted_promotes_nobody() -> None:
    assert promotions_after_cancel(seats(2, 2, (A, 1), (B, 2)), "waitlisted") == []


def test_cancel_confirmed_in_overbooked_session_promotes_nobody() -> None:
    # Capacity was cut from 5 to 3 while 5 were confirmed: one cancellation leaves 4 > 3.
    assert promotions_after_cancel(seats(3, 5, (A, 1)), "confirmed") == []
    # ... but once the count drops below capacity the next cancellation promotes.
    assert promotions_after_cancel(seats(3, 3, (A, 1)), "confirmed") == [A]


def test_cancel_already_cancelled_is_conflict() -> None:
    with pytest.raises(Conflict) as exc_info:
        promotions_after_cancel(seats(2, 2, (A, 1)), "cancelled")
    assert exc_info.value.status == 409
    assert exc_info.value.field == "status"
    assert "already cancelled" in exc_info.value.message


@pytest.mark.parametrize("status", ["confirmed", "waitlisted"])
def test_ensure_can_cancel_live_registrations(status: RegistrationStatus) -> None:
    ensure_can_cancel(status)


def test_ensure_can_cancel_rejects_unknown_status() -> None:
    with pytest.raises(Invalid):
        ensure_can_cancel("pending")  # type: ignore[arg-type]


# -- capacity changes ------------------------------------------------------------------------


def test_capacity_increase_promotes_as_many_as_fit_in_order() -> None:
    snapshot = seats(2, 2, (C, 3), (A, 1), (B, 2), (D, 7))
    assert promotions_after_capacity_change(snapshot, 4) == [A, B]


def test_capacity_increase_larger_than_waitlist_promotes_all() -> None:
    assert promotions_after_capacity_change(seats(2, 2, (B, 2), (A, 1)), 10) == [A, B]


def test_capacity_unchanged_promotes_nobody() -> None:
    assert promotions_after_capacity_change(seats(2, 2, (A, 1)), 2) == []


def test_capacity_decrease_never_unconfirms_or_promotes() -> None:
    assert promotions_after_capacity_change(seats(10, 8, (A, 1)), 5) == []


def test_increase_from_overbooked_only_promotes_beyond_confirmed() -> None:
    # 8 confirmed with capacity 5; raising to 9 frees exactly one seat.
    assert promotions_after_capacity_change(seats(5, 8, (A, 1), (B, 2)), 9) == [A]
    assert promotions_after_capacity_change(seats(5, 8, (A, 1), (B, 2)), 7) == []


@pytest.mark.parametrize("bad", [-1, True, 2.5])
def test_capacity_change_rejects_bad_values(bad: object) -> None:
    with pytest.raises(Invalid) as exc_info:
        promotions_after_capacity_change(seats(2, 2), bad)  # type: ignore[arg-type]
    assert exc_info.value.field == "capacity"


# -- status machine --------------------------------------------------------------------------


def test_attendance_for_confirmed_in_scheduled_or_completed_session() -> None:
    ensure_can_record_attendance("confirmed", "scheduled")
    ensure_can_record_attendance("confirmed", "completed")


@pytest.mark.parametrize("status", ["waitlisted", "cancelled"])
def test_attendance_only_for_confirmed(status: RegistrationStatus) -> None:
    with pytest.raises(Conflict) as exc_info:
        ensure_can_record_attendance(status, "completed")
    assert exc_info.value.field == "status"
    assert status in exc_info.value.message


def test_attendance_not_for_cancelled_session() -> None:
    with pytest.raises(Conflict) as exc_info:
        ensure_can_record_attendance("confirmed", "cancelled")
    assert exc_info.value.field == "session.status"


def test_registrations_only_for_scheduled_sessions() -> None:
    ensure_session_accepts_registrations("scheduled")


@pytest.mark.parametrize("status", ["cancelled", "completed"])
def test_registration_refused_names_session_status(status: SessionStatus) -> None:
    with pytest.raises(Conflict) as exc_info:
        ensure_session_accepts_registrations(status)
    assert exc_info.value.status == 409
    assert f"the session is {status}" in exc_info.value.message


def test_a_completed_sessions_registrations_no_longer_change() -> None:
    ensure_registrations_can_change("scheduled")
    ensure_registrations_can_change("cancelled")
    with pytest.raises(Conflict) as exc_info:
        ensure_registrations_can_change("completed")
    assert exc_info.value.field == "session.status"


def test_unknown_session_status_is_invalid() -> None:
    with pytest.raises(Invalid) as exc_info:
        ensure_session_accepts_registrations("draft")  # type: ignore[arg-type]
    assert exc_info.value.field == "session.status"


# -- errors ----------------------------------------------------------------------------------


def test_error_classes_are_distinct_with_status_codes() -> None:
    classes = (NotFound, Conflict, Forbidden, Invalid)
    codes = {cls: cls.status for cls in classes}
    assert codes == {NotFound: 404, Conflict: 409, Forbidden: 403, Invalid: 422}
    assert all(issubclass(cls, RegistrationError) for cls in classes)
    assert len({cls.code for cls in classes}) == 4


def test_error_carries_field_and_message() -> None:
    err = NotFound("registration_id", "no registration 42")
    assert err.field == "registration_id"
    assert err.message == "no registration 42"
    assert str(err) == "registration_id: no registration 42"
