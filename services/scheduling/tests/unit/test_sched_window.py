"""Session times outside the programme window are refused by the domain, whatever the offset."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from trainops_scheduling.domain import InvalidTime, parse_instant, parse_interval
from trainops_scheduling.domain.cities import load_zone
from trainops_scheduling.domain.times import to_utc

pytestmark = pytest.mark.unit


@pytest.mark.parametrize(
    "value",
    [
        "0001-01-01T00:00",
        "0001-01-01T00:00+05:00",
        "9999-12-31T22:00-05:00",
        "9999-12-31T23:59",
        "1999-12-31T12:00",
        "2101-01-01T05:00+05:00",
    ],
)
@pytest.mark.parametrize("zone", ["Asia/Almaty", "America/Los_Angeles", "UTC"])
def test_instants_outside_the_window_are_invalid_times(value: str, zone: str) -> None:
    with pytest.raises(InvalidTime) as caught:
        parse_instant(value, zone, "starts_at")
    assert caught.value.field == "starts_at"
    assert "outside the accepted range of dates 2000-01-01..2100-12-31" in caught.value.message


def test_the_window_applies_after_the_zone_is_applied() -> None:
    almaty = load_zone("Asia/Almaty")
    # 2000-01-01T03:00 in Almaty (+06:00) is 1999-12-31T21:00Z: before the window.
    with pytest.raises(InvalidTime):
        to_utc(datetime(2000, 1, 1, 3), almaty, "from")
    assert to_utc(datetime(2000, 1, 1, 7), almaty, "from") == datetime(2000, 1, 1, 1, tzinfo=UTC)


def test_ends_at_is_checked_as_well() -> None:
    with pytest.raises(InvalidTime) as caught:
        parse_interval("2020-12-22T10:00", "9999-12-31T22:00-05:00", "Asia/Almaty")
    assert caught.value.field == "ends_at"
