"""Parsing session times: offsets, naive local times, zone rules of 2020, DST gaps and folds."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from trainops_scheduling.domain import (
    CityCatalogue,
    InvalidField,
    InvalidTime,
    NonexistentLocalTime,
    TimeRange,
    check_interval,
    format_local,
    local_times,
    parse_instant,
    parse_interval,
)

pytestmark = pytest.mark.unit


def test_the_zone_database_knows_almaty_was_utc_plus_6_in_2020() -> None:
    offset = datetime(2020, 12, 22, 10, tzinfo=ZoneInfo("Asia/Almaty")).utcoffset()
    assert offset == timedelta(hours=6)


def test_naive_time_is_local_to_the_session_zone() -> None:
    instant = parse_instant("2020-12-22T10:00", "Asia/Almaty", "starts_at")
    assert instant == datetime(2020, 12, 22, 4, 0, tzinfo=UTC)
    assert instant.tzinfo is UTC


def test_the_same_instant_is_an_hour_earlier_in_aktobe() -> None:
    instant = parse_instant("2020-12-22T10:00", "Asia/Almaty", "starts_at")
    assert format_local(instant, "Asia/Aqtobe") == "2020-12-22T09:00+05:00"
    assert format_local(instant, "Asia/Almaty") == "2020-12-22T10:00+06:00"


def test_explicit_offset_wins_over_the_zone() -> None:
    instant = parse_instant("2020-12-22T10:00+05:00", "Asia/Almaty", "starts_at")
    assert instant == datetime(2020, 12, 22, 5, 0, tzinfo=UTC)
    assert parse_instant("2020-12-22T04:00:00Z", "Asia/Aqtau", "x") == datetime(
        2020, 12, 22, 4, tzinfo=UTC
    )


def test_local_times_per_city_use_each_city_zone() -> None:
    instant = parse_instant("2020-12-22T10:00", "Asia/Almaty", "starts_at")
    assert local_times(instant, ["almaty", "aktobe", "aktau"], CityCatalogue.default()) == {
        "almaty": "2020-12-22T10:00+06:00",
        "aktobe": "2020-12-22T09:00+05:00",
        "aktau": "2020-12-22T09:00+05:00",
    }


def test_a_time_skipped_by_a_dst_gap_is_rejected() -> None:
    # Almaty last sprang forward on 2004-03-28: 02:00 local jumped to 03:00.
    with pytest.raises(NonexistentLocalTime) as caught:
        parse_instant("2004-03-28T02:30", "Asia/Almaty", "starts_at")
    assert caught.value.field == "starts_at"
    assert "does not exist" in str(caught.value)
    with pytest.raises(NonexistentLocalTime):
        parse_instant("2021-03-28T02:30", "Europe/Berlin", "ends_at")
    # Just outside the gap is fine.
    assert parse_instant("2004-03-28T03:00", "Asia/Almaty", "x") == datetime(
        2004, 3, 27, 20, tzinfo=UTC
    )


def test_an_ambiguous_time_means_its_first_occurrence() -> None:
    # 2004-10-31 02:30 happened twice in Almaty: first at +07:00, then at +06:00.
    instant = parse_instant("2004-10-31T02:30", "Asia/Almaty", "starts_at")
    assert instant == datetime(2004, 10, 30, 19, 30, tzinfo=UTC)


@pytest.mark.parametrize("value", ["2020-12-22", "tomorrow", "2020-13-01T10:00", "", "10:00"])
def test_unparseable_times_name_the_field(value: str) -> None:
    with pytest.raises(InvalidTime) as caught:
        parse_instant(value, "Asia/Almaty", "starts_at")
    assert caught.value.field == "starts_at"


def test_unknown_zone_is_an_error_on_timezone() -> None:
    with pytest.raises(InvalidField) as caught:
        parse_instant("2020-12-22T10:00", "Asia/Nowhere", "starts_at")
    assert caught.value.field == "timezone"


def test_ends_at_must_follow_starts_at() -> None:
    for ends in ("2020-12-22T09:00", "2020-12-22T10:00"):
        with pytest.raises(InvalidTime) as caught:
            parse_interval("2020-12-22T10:00", ends, "Asia/Almaty")
        assert caught.value.field == "ends_at"


def test_sessions_longer_than_fourteen_days_are_rejected() -> None:
    start = datetime(2020, 12, 1, tzinfo=UTC)
    assert check_interval(start, start + timedelta(days=14)).duration == timedelta(days=14)
    with pytest.raises(InvalidTime, match="at most 14 days") as caught:
        check_interval(start, start + timedelta(days=14, minutes=1))
    assert caught.value.field == "ends_at"


def test_parse_interval_accepts_mixed_offsets() -> None:
    interval = parse_interval("2020-12-22T10:00", "2020-12-22T12:00+05:00", "Asia/Almaty")
    assert interval == TimeRange(
        datetime(2020, 12, 22, 4, tzinfo=UTC), datetime(2020, 12, 22, 7, tzinfo=UTC)
    )


def test_time_range_is_half_open_and_utc_only() -> None:
    a = TimeRange(datetime(2020, 1, 1, 8, tzinfo=UTC), datetime(2020, 1, 1, 10, tzinfo=UTC))
    b = TimeRange(datetime(2020, 1, 1, 10, tzinfo=UTC), datetime(2020, 1, 1, 12, tzinfo=UTC))
    c = TimeRange(datetime(2020, 1, 1, 9, tzinfo=UTC), datetime(2020, 1, 1, 11, tzinfo=UTC))
    assert not a.overlaps(b)
    assert a.overlaps(c) and c.overlaps(b)
    with pytest.raises(InvalidTime) as caught:
        TimeRange(datetime(2020, 1, 1, 8), datetime(2020, 1, 1, 10, tzinfo=UTC))
    assert caught.value.field == "starts_at"
