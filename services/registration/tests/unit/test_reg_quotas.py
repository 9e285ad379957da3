"""Seat quotas: a registration over a quota waits, and a promotion takes the first waiting
person who fits (passing over those a quota still keeps waiting)."""

from __future__ import annotations

import uuid

import pytest

from trainops_registration.domain.seats import (
    SessionSeats,
    WaitlistEntry,
    decide_new_registration,
    fits,
    promotions_after_cancel,
    promotions_after_capacity_change,
)
from trainops_shared.events import SeatQuota

pytestmark = pytest.mark.unit

A, B, C, D = (uuid.UUID(int=i) for i in range(1, 5))
MEDIA_2 = SeatQuota(max_seats=2, sector="media")
ALMATY_1 = SeatQuota(max_seats=1, city="almaty")
BLOGGER_AKTOBE_0 = SeatQuota(max_seats=0, sector="blogger", city="aktobe")


def seats(
    capacity: int,
    held: dict[tuple[str, str], int],
    *waiting: WaitlistEntry,
    quotas: tuple[SeatQuota, ...] = (MEDIA_2, ALMATY_1),
) -> SessionSeats:
    return SessionSeats(
        capacity=capacity,
        confirmed_count=sum(held.values()),
        waitlist=waiting,
        quotas=quotas,
        held=tuple((c, s, n) for (c, s), n in held.items()),
    )


def test_a_registration_over_its_sector_quota_waits_though_seats_are_free() -> None:
    snapshot = seats(10, {("aktobe", "media"): 2}, WaitlistEntry(A, 1, "aktobe", "media"))
    assert decide_new_registration(snapshot, "aktobe", "media").waitlist_position == 2
    assert decide_new_registration(snapshot, "aktobe", "ngo").status == "confirmed"


def test_a_city_quota_and_a_combined_quota_hold_too() -> None:
    snapshot = seats(10, {("almaty", "ngo"): 1}, quotas=(ALMATY_1, BLOGGER_AKTOBE_0))
    assert decide_new_registration(snapshot, "almaty", "akimat").status == "waitlisted"
    assert decide_new_registration(snapshot, "aktobe", "blogger").status == "waitlisted"
    assert decide_new_registration(snapshot, "aktobe", "media").status == "confirmed"


def test_a_full_session_waits_whoever_fits() -> None:
    snapshot = seats(1, {("aktobe", "ngo"): 1})
    assert decide_new_registration(snapshot, "aktobe", "ngo").status == "waitlisted"


def test_a_promotion_passes_over_who_does_not_fit_for_the_next_who_does() -> None:
    snapshot = seats(
        3,
        {("aktobe", "media"): 2, ("aktobe", "ngo"): 1},
        WaitlistEntry(A, 1, "aktobe", "media"),
        WaitlistEntry(B, 2, "almaty", "ngo"),
        WaitlistEntry(C, 3, "aktobe", "ngo"),
    )
    # The ngo seat frees one seat: A (media, quota full) is passed over for B.
    assert promotions_after_cancel(snapshot, "confirmed", "aktobe", "ngo") == [B]
    # A media seat going frees room in the media quota: A, first in line, takes it.
    assert promotions_after_cancel(snapshot, "confirmed", "aktobe", "media") == [A]


def test_promotions_count_the_people_they_promote_against_the_quotas() -> None:
    snapshot = seats(
        5,
        {},
        WaitlistEntry(A, 1, "almaty", "ngo"),
        WaitlistEntry(B, 2, "almaty", "media"),
        WaitlistEntry(C, 3, "aktobe", "media"),
        WaitlistEntry(D, 4, "aktobe", "media"),
    )
    # almaty holds one seat (A), so B waits; media holds two (C, D).
    assert promotions_after_capacity_change(snapshot, 5) == [A, C, D]
    assert promotions_after_capacity_change(snapshot, 2) == [A, C]


def test_loosened_quotas_promote_in_queue_order() -> None:
    waiting = (WaitlistEntry(A, 1, "almaty", "media"), WaitlistEntry(B, 2, "aktobe", "media"))
    held = {("aktobe", "media"): 2, ("almaty", "ngo"): 1}
    assert promotions_after_capacity_change(seats(10, held, *waiting), 10) == []
    assert promotions_after_capacity_change(seats(10, held, *waiting, quotas=()), 10) == [A, B]
    looser = (SeatQuota(max_seats=3, sector="media"), ALMATY_1)
    assert promotions_after_capacity_change(seats(10, held, *waiting, quotas=looser), 10) == [B]


def test_fits_sums_every_group_a_quota_covers() -> None:
    from collections import Counter

    held = Counter({("almaty", "media"): 1, ("aktobe", "media"): 1})
    assert not fits((MEDIA_2,), held, "shymkent", "media")
    assert fits((MEDIA_2,), held, "shymkent", "ngo")
    assert fits((), held, "almaty", "media")
